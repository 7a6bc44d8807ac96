"""Grading submitted notebooks: fresh kernels, answers as data, checks in the grader's process.

Example
-------
>>> from pathlib import Path
>>> from labkit.grading import grade_paths, report
>>> results = grade_paths([Path("submissions/alice.ipynb")], jobs=2)  # doctest: +SKIP
>>> print(report.table(results))  # doctest: +SKIP
"""

from labkit.grading import report
from labkit.grading.runner import SubmissionResult, grade_paths

__all__ = ["SubmissionResult", "grade_paths", "report"]
