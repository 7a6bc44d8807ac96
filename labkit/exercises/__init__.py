"""Exercise checkers: the framework (:mod:`labkit.exercises.core`) and one module per lesson.

Example
-------
>>> from labkit.exercises import lesson02 as ex  # doctest: +SKIP
>>> ex.q1.check(ratio)  # doctest: +SKIP
>>> ex.q1.hint(2)  # doctest: +SKIP
>>> ex.summary()  # doctest: +SKIP
"""

import importlib

from labkit.exercises.core import CheckResult, Lesson

__all__ = ["CheckResult", "Lesson", "lesson_for"]

LESSON_MODULES = {
    "01_backpropagation": "lesson01",
    "02_vanishing_gradients": "lesson02",
    "03_exploding_gradients": "lesson03",
    "04_dead_relu": "lesson04",
    "05_dropout": "lesson05",
    "06_capstone": "lesson06",
}


def lesson_for(name: str) -> Lesson:
    """The :class:`Lesson` (its exercises) for a lesson name such as ``"02_vanishing_gradients"``.

    Example
    -------
    >>> lesson_for("02_vanishing_gradients").name  # doctest: +SKIP
    '02_vanishing_gradients'
    """
    if name not in LESSON_MODULES:
        raise ValueError(f"unknown lesson {name!r}; known lessons: {', '.join(LESSON_MODULES)}")
    return importlib.import_module(f"labkit.exercises.{LESSON_MODULES[name]}").LESSON
