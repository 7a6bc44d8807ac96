"""Reports of graded submissions: a terminal table, JSON, CSV and Gradescope's ``results.json``.

Example
-------
>>> from labkit.exercises.core import CheckResult
>>> from labkit.grading.runner import SubmissionResult
>>> r = SubmissionResult("a.ipynb", "01_x", "graded", None,
...                      [CheckResult("q1", "correct", "Correct.", 1, 1)], 1.0)
>>> print(table([r]))
lesson 01_x (max 1)
  file     score  q1
  a.ipynb  1/1    1
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from labkit.grading.runner import SubmissionResult

__all__ = ["csv_text", "gradescope", "json_text", "read_lines", "table"]

_MARK = {"correct": "", "incorrect": " ✗", "not_attempted": " -", "error": " !"}


def _num(x: float | None):
    """Whole numbers as int (``2`` not ``2.0``) in reports."""
    if x is None:
        return None
    return int(x) if float(x).is_integer() else round(float(x), 4)


def table(results: list[SubmissionResult]) -> str:
    """A plain-text table per lesson: file, score/max and each exercise's points."""
    blocks = []
    lessons = list(dict.fromkeys(r.lesson for r in results))
    for lesson in lessons:
        group = [r for r in results if r.lesson == lesson]
        ids = list(dict.fromkeys(x.exercise for r in group for x in r.results))
        maxima = [r.max_score for r in group if r.max_score is not None]
        title = f"lesson {lesson}" if lesson else "unknown lesson"
        if maxima:
            title += f" (max {_num(maxima[0])})"
        rows = [["file", "score", *ids]]
        errors, notes = [], []
        for r in group:
            if r.status == "error":
                errors.append(f"  {r.file}: ERROR {r.error}")
                rows.append([r.file, "error", *["" for _ in ids]])
                continue
            marks = {x.exercise: f"{_num(x.points)}{_MARK[x.status]}" for x in r.results}
            rows.append(
                [r.file, f"{_num(r.score)}/{_num(r.max_score)}", *[marks.get(i, "") for i in ids]]
            )
            notes += [f"  {r.file}: {note}" for note in r.notes]
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = [title]
        lines += [
            "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows
        ]
        if any(x.status != "correct" for r in group for x in r.results):
            lines.append("  (✗ incorrect, - not attempted, ! error)")
        lines += errors
        if notes:
            lines.append("notes:")
            lines += notes
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def json_text(results: list[SubmissionResult]) -> str:
    """A JSON array, one object per submission (see ``SubmissionResult.to_dict``)."""
    return json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False)


def read_lines(path: str | os.PathLike) -> dict[str, SubmissionResult]:
    """Results saved one JSON object per line (``labkit grade --results``), by file name.

    A line cut short (the grader was killed while writing it) is skipped; a file graded twice
    keeps its last result.

    Example
    -------
    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp(), "grades.jsonl")
    >>> r = SubmissionResult("a.ipynb", "01_x", "graded", max_score=1.0)
    >>> _ = log.write_text(json.dumps(r.to_dict()) + chr(10) + '{"file": "b.ipy')
    >>> list(read_lines(log))
    ['a.ipynb']
    """
    found = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            result = SubmissionResult.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            continue
        found[result.file] = result
    return found


def csv_text(results: list[SubmissionResult]) -> str:
    """Header row, then one row per submission: file, lesson, each exercise's points, score,
    max_score, percent (blank where a submission could not be graded)."""
    ids = list(dict.fromkeys(x.exercise for r in results for x in r.results))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "lesson", *ids, "score", "max_score", "percent"])
    for r in results:
        points = {x.exercise: _num(x.points) for x in r.results}
        graded = r.status == "graded"
        percent = (
            round(100 * r.score / r.max_score, 1)
            if graded and r.max_score
            else ("" if not graded else 0.0)
        )
        writer.writerow(
            [
                r.file,
                r.lesson or "",
                *[points.get(i, "") for i in ids],
                _num(r.score) if graded else "",
                _num(r.max_score) if r.max_score is not None else "",
                percent,
            ]
        )
    return out.getvalue()


def gradescope(result: SubmissionResult) -> dict:
    """Gradescope's autograder ``results.json`` for one submission.

    Its fields follow Gradescope's specification: ``score``, ``execution_time`` (seconds),
    ``output`` and ``tests``, each with ``name``, ``number``, ``score``, ``max_score``,
    ``status``, ``output`` and ``visibility``.
    """
    tests = [
        {
            "name": x.exercise,
            "number": str(number),
            "score": _num(x.points),
            "max_score": _num(x.max_points),
            "status": "passed" if x.status == "correct" else "failed",
            "output": f"{x.status.replace('_', ' ')}: {x.message}",
            "visibility": "visible",
        }
        for number, x in enumerate(result.results, start=1)
    ]
    output = result.error if result.status == "error" else "\n".join(result.notes)
    return {
        "score": _num(result.score),
        "execution_time": round(result.seconds or 0),
        "output": output or "",
        "tests": tests,
    }
