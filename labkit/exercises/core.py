"""The checker framework: exercises declared once, checked in a notebook or by the grader.

An exercise is checked in two halves so the grader never has to trust the student's kernel:

1. ``collect(answer)`` turns the student's answer into plain **data** — numbers, strings, numeric
   arrays, nested lists/dicts of those, a function's outputs on given inputs, or a model saved as
   ``.keras`` bytes. Anything else (an object whose ``__eq__`` always says yes, say) becomes an
   :class:`Unsupported` marker.
2. ``grade(data)`` is a pure function of that data and returns a :class:`CheckResult`.

In a notebook ``check(answer)`` runs both halves; the grader runs ``collect`` inside the
submission's kernel and ``grade`` in its own process. No traceback ever escapes either half.

Example
-------
>>> q1 = ValueExercise(id="q1", answer="ratio", hints=["a", "b"],
...                    check_fn=lambda v: expect_close(v, 0.5, "ratio"))
>>> bool(q1.check(0.5)), q1.check(...).status
(True, 'not_attempted')
"""

from __future__ import annotations

import html
import json
import math
import signal
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "COLLECTORS",
    "CallFailed",
    "CheckResult",
    "Exercise",
    "FunctionExercise",
    "Incorrect",
    "Lesson",
    "MIME_TYPE",
    "ModelExercise",
    "NOT_ATTEMPTED",
    "Unsupported",
    "ValueExercise",
    "collect_function",
    "collect_model",
    "collect_value",
    "expect_array",
    "expect_close",
    "expect_number",
]

STATUSES = ("correct", "incorrect", "not_attempted", "error")
MIME_TYPE = "application/vnd.labkit.check+json"
"""The MIME type under which a displayed :class:`CheckResult` carries its data."""
DEFAULT_TIME_BUDGET = 30.0


# --- results -----------------------------------------------------------------------------------
@dataclass
class CheckResult:
    """The outcome of checking one exercise; truthy only when correct.

    Example
    -------
    >>> r = CheckResult("q1", "incorrect", "Expected 0.25, got 0.5.", 0, 2)
    >>> bool(r), str(r)
    (False, '✗ q1 incorrect (0/2): Expected 0.25, got 0.5.')
    """

    exercise: str
    status: str
    message: str
    points: float
    max_points: float

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        icon = {"correct": "✓", "incorrect": "✗", "not_attempted": "…", "error": "!"}[self.status]
        label = self.status.replace("_", " ")
        return (
            f"{icon} {self.exercise} {label} ({_fmt_points(self.points)}/"
            f"{_fmt_points(self.max_points)}): {self.message}"
        )

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {
            "correct": ("#1a7f37", "#e6f4ea"),
            "incorrect": ("#b3261e", "#fce8e6"),
            "not_attempted": ("#5f6368", "#f1f3f4"),
            "error": ("#b35900", "#fef7e0"),
        }[self.status]
        label = self.status.replace("_", " ").capitalize()
        return (
            f"<div style='border-left:4px solid {colour[0]};background:{colour[1]};"
            f"padding:6px 10px;margin:4px 0'><b style='color:{colour[0]}'>{label}</b> "
            f"<code>{html.escape(self.exercise)}</code> "
            f"({_fmt_points(self.points)}/{_fmt_points(self.max_points)}): "
            f"{html.escape(self.message)}</div>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Text and HTML for people, :data:`MIME_TYPE` (the :meth:`to_dict` fields) for tools."""
        return {
            "text/plain": str(self),
            "text/html": self._repr_html_(),
            MIME_TYPE: self.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        """The result back from :meth:`to_dict` (e.g. a notebook output's :data:`MIME_TYPE`).

        Example
        -------
        >>> r = CheckResult("q1", "correct", "Yes.", 2, 2)
        >>> CheckResult.from_dict(r.to_dict()) == r
        True
        """
        return cls(
            str(data["id"]),
            str(data["status"]),
            str(data["message"]),
            float(data["points"]),
            float(data["max_points"]),
        )

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict (the grader's report format)."""
        return {
            "id": self.exercise,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
        }


def _fmt_points(p: float) -> str:
    return f"{p:g}"


class Incorrect(Exception):
    """Raised by a check to say the answer is wrong; the message is shown to the student."""


# --- answer data -------------------------------------------------------------------------------
class _NotAttempted:
    """The untouched placeholder (``...``), as data."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_ATTEMPTED"


NOT_ATTEMPTED = _NotAttempted()


@dataclass(frozen=True)
class Unsupported:
    """An answer that is not plain data (a custom object, a module, ...): never trusted."""

    type_name: str


@dataclass(frozen=True)
class CallFailed:
    """A student function that raised or ran past its time budget on one input."""

    reason: str  # "raised" or "timeout"
    detail: str


@dataclass(frozen=True)
class KerasModelBytes:
    """A model saved in the ``.keras`` format, carried as bytes."""

    data: bytes

    def load(self):
        """Load with ``safe_mode=True`` (no arbitrary code from Lambda layers)."""
        import keras

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            path.write_bytes(self.data)
            return keras.saving.load_model(path, compile=False, safe_mode=True)


def to_data(value, depth: int = 0):
    """Plain data from a student's value: numbers, str, numeric arrays, lists, dicts.

    Example
    -------
    >>> to_data([1, 2.5]), to_data(...), to_data(object())
    ([1, 2.5], NOT_ATTEMPTED, Unsupported(type_name='object'))
    """
    if value is Ellipsis:
        return NOT_ATTEMPTED
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if depth > 8:
        return Unsupported("deeply nested structure")
    if type(value) in (list, tuple):
        return [to_data(v, depth + 1) for v in value]
    if type(value) is dict:
        return {str(k): to_data(v, depth + 1) for k, v in value.items()}
    array = _as_numeric_array(value)
    if array is not None:
        return array
    return Unsupported(type(value).__name__)


def _as_numeric_array(value) -> np.ndarray | None:
    """A copy of ``value`` as a plain numeric ndarray (NumPy or backend tensor), else None."""
    if isinstance(value, np.ndarray):
        array = value
    elif type(value).__module__.split(".")[0] in ("tensorflow", "jax", "jaxlib", "torch", "keras"):
        try:
            import keras

            array = keras.ops.convert_to_numpy(value)
        except Exception:
            return None
    else:
        return None
    if type(array) is not np.ndarray or array.dtype.kind not in "biuf":
        return None
    return np.array(array, copy=True)


# --- checking helpers ---------------------------------------------------------------------------
def expect_number(value, name: str = "your answer") -> float:
    """The answer as a finite float, or :class:`Incorrect` saying what was expected.

    Example
    -------
    >>> expect_number(3)
    3.0
    """
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Incorrect(f"{name} should be a single number, but it is {_describe(value)}.")
    if not math.isfinite(value):
        raise Incorrect(
            f"{name} is {value}; it should be a finite number. Check for a division by "
            "zero or an overflow."
        )
    return float(value)


def expect_close(
    value,
    expected: float,
    name: str = "your answer",
    rtol: float = 1e-3,
    atol: float = 0.0,
    hint: str = "",
) -> str:
    """Pass when ``value`` is within tolerance of ``expected``; else :class:`Incorrect`.

    Example
    -------
    >>> expect_close(0.2501, 0.25)
    'Correct.'
    """
    number = expect_number(value, name)
    if not math.isclose(number, expected, rel_tol=rtol, abs_tol=atol):
        raise Incorrect(f"{name} is {number:.4g}, which is not what we expected. {hint}".strip())
    return "Correct."


def expect_array(
    value, shape: Sequence[int] | None = None, name: str = "your answer"
) -> np.ndarray:
    """The answer as a finite float array of the given shape, or :class:`Incorrect`.

    Example
    -------
    >>> expect_array(np.zeros((2, 3)), shape=(2, 3)).shape
    (2, 3)
    """
    if isinstance(value, list):
        try:
            value = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise Incorrect(
                f"{name} should be a numeric array; it is a ragged or mixed list."
            ) from None
    if not isinstance(value, np.ndarray):
        raise Incorrect(f"{name} should be a NumPy array, but it is {_describe(value)}.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise Incorrect(f"{name} has shape {tuple(value.shape)}; expected shape {tuple(shape)}.")
    if not np.all(np.isfinite(value)):
        raise Incorrect(f"{name} contains NaN or infinite values; every entry should be finite.")
    return value.astype(float)


def _describe(value) -> str:
    if value is None:
        return "None (did you forget to assign it or to `return` it?)"
    if isinstance(value, Unsupported):
        return f"a {value.type_name} object"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, list):
        return f"a list of length {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a {type(value).__name__} ({value!r:.40})"


# --- time budget for student code ---------------------------------------------------------------
class _Timeout(Exception):
    pass


@contextmanager
def _time_budget(seconds: float):
    """Interrupt the block after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _raise(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_student(fn: Callable, args: tuple, budget: float):
    """Call a student's function; its return value as data, or :class:`CallFailed`."""
    try:
        with _time_budget(budget):
            out = fn(*args)
    except _Timeout:
        return CallFailed("timeout", f"did not finish within {budget:g} s")
    except Exception as exc:  # the student's code may raise anything
        return CallFailed("raised", f"{type(exc).__name__}: {exc}")
    return to_data(out)


# --- collecting answers as data ----------------------------------------------------------------
def collect_value(answer, *, inputs=None, time_budget: float = DEFAULT_TIME_BUDGET):
    """A value answer as plain data (:func:`to_data`); ``inputs`` and ``time_budget`` are unused.

    Example
    -------
    >>> collect_value([1, 2.5]), collect_value(...)
    ([1, 2.5], NOT_ATTEMPTED)
    """
    return to_data(answer)


def collect_function(answer, *, inputs=None, time_budget: float = DEFAULT_TIME_BUDGET):
    """A function answer's outputs on ``inputs`` (argument tuples), each as data.

    Each call may take ``time_budget`` seconds; one that raises or runs longer gives a
    :class:`CallFailed`. An answer that is not a function gives ``{"not_callable": data}``.

    Example
    -------
    >>> collect_function(lambda x: 2 * x, inputs=[(1,), (2.5,)])
    [2, 5.0]
    """
    if answer is Ellipsis:
        return NOT_ATTEMPTED
    if not callable(answer):
        return {"not_callable": to_data(answer)}
    if inputs is None:
        raise ValueError("collect_function needs the inputs to call the answer on, e.g. [(1,)]")
    return [call_student(answer, tuple(args), time_budget) for args in inputs]


def collect_model(answer, *, inputs=None, time_budget: float = DEFAULT_TIME_BUDGET):
    """A model-builder answer, called with no arguments: the model as ``.keras`` bytes.

    The builder may take ``time_budget`` seconds (``inputs`` is unused). It gives ``None`` when
    it returns ``None``, :class:`Unsupported` when it returns something other than a
    ``keras.Model``, and :class:`CallFailed` when it (or saving the model) fails.

    Example
    -------
    >>> collect_model(...), collect_model(lambda: 1 / 0)
    (NOT_ATTEMPTED, CallFailed(reason='raised', detail='ZeroDivisionError: division by zero'))
    """
    if answer is Ellipsis:
        return NOT_ATTEMPTED
    if not callable(answer):
        return {"not_callable": to_data(answer)}
    try:
        with _time_budget(time_budget):
            model = answer()
    except _Timeout:
        return CallFailed("timeout", f"did not finish within {time_budget:g} s")
    except Exception as exc:  # the student's code may raise anything
        return CallFailed("raised", f"{type(exc).__name__}: {exc}")
    if model is None:
        return None
    import keras

    if not isinstance(model, keras.Model):
        return Unsupported(type(model).__name__)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answer.keras"
        try:
            model.save(path)
        except Exception as exc:
            return CallFailed("raised", f"the model could not be saved ({exc})")
        return KerasModelBytes(path.read_bytes())


COLLECTORS: dict[str, Callable[..., object]] = {
    "value": collect_value,
    "function": collect_function,
    "model": collect_model,
    "diagnosis": collect_value,
    "playground": collect_value,
    "quiz": collect_value,
}
"""Exercise kind → the function turning an answer of that kind into data, called as
``collect(answer, inputs=..., time_budget=...)`` in a notebook and by the grader's collector."""


# --- solutions ----------------------------------------------------------------------------------
SOLUTIONS_DIR = Path(__file__).resolve().parent / "solutions"
"""Where ``labkit build`` writes each lesson's solution cells, ``{lesson}.json``: ``{id: code}``."""


def solution_source(lesson: str | None, exercise_id: str, directory: Path | None = None) -> str:
    """The lesson's solution cell for one exercise, as extracted by ``labkit build``.

    Example
    -------
    >>> print(solution_source("02_vanishing_gradients", "q3"))  # doctest: +SKIP
    bound = 0.25**12
    """
    path = (directory or SOLUTIONS_DIR) / f"{lesson}.json"
    try:
        solutions = json.loads(path.read_text())
    except (OSError, ValueError):
        return f"(No solutions found at {path}: build them with `make lessons`.)"
    return solutions.get(exercise_id, f"(Lesson {lesson} marks no solution for {exercise_id}.)")


# --- exercises --------------------------------------------------------------------------------
@dataclass(eq=False)
class Exercise:
    """Base class: ``id`` (``"q1"``), ``answer`` (the notebook name holding the answer),
    ``hints`` (increasing help), the check, ``points`` and ``constants``.

    The prompt is the lesson's own text, and the solution is the lesson's own solution cell:
    ``labkit build`` extracts every cell marked ``# BEGIN SOLUTION q1`` / ``# SOLUTION q1`` into
    :data:`SOLUTIONS_DIR`, which :meth:`solution` reads. ``constants`` are the numbers the check
    uses that the lesson's prose states (epochs, targets); the build stamps them into the text
    wherever it says ``{{q1.name}}`` (or ``{{q1.name:.0%}}`` with a format).
    """

    id: str
    answer: str
    hints: Sequence[str]
    check_fn: Callable = field(repr=False, default=None)
    points: float = 1.0
    time_budget: float = DEFAULT_TIME_BUDGET
    constants: Mapping[str, object] = field(default_factory=dict)
    lesson: str | None = field(default=None, init=False)
    last_result: CheckResult | None = field(default=None, repr=False, init=False)

    kind = "value"

    def __post_init__(self):
        if len(self.hints) < 2:
            raise ValueError(f"exercise {self.id} needs at least two hints of increasing help")

    # notebook use
    def check(self, answer=...) -> CheckResult:
        """Check ``answer`` and return a :class:`CheckResult` (rendered in notebooks)."""
        try:
            data = self.collect(answer)
        except Exception as exc:  # collect is ours, but never let a traceback reach a student
            data = CallFailed("raised", f"{type(exc).__name__}: {exc}")
        self.last_result = self.grade(data)
        return self.last_result

    def hint(self, n: int = 1) -> Text:
        """The ``n``-th hint (1 = gentlest)."""
        if not isinstance(n, int) or n < 1:
            return Text(f"Ask for hint 1 to {len(self.hints)}, e.g. {self.name}.hint(2).")
        n = min(n, len(self.hints))
        more = f" (more: {self.name}.hint({n + 1}))" if n < len(self.hints) else ""
        return Text(f"Hint {n} of {len(self.hints)} for {self.id}: {self.hints[n - 1]}{more}")

    def solution(self) -> Code:
        """The lesson's solution code for this exercise (try the hints first!)."""
        return Code(solution_source(self.lesson, self.id), title=f"Solution to {self.id}")

    @property
    def name(self) -> str:
        """How a notebook refers to this exercise (lessons import their module as ``ex``)."""
        return f"ex.{self.id}"

    # grading halves
    def collect(self, answer, inputs=None):
        """The answer as plain data (runs where the answer lives): its kind's collector."""
        return COLLECTORS[self.kind](answer, inputs=inputs, time_budget=self.time_budget)

    def grade(self, data) -> CheckResult:
        """Pure check of collected data; never raises."""
        if data is NOT_ATTEMPTED:
            return self._result(
                "not_attempted",
                "Not attempted yet: replace the `...` with your "
                f"answer, then run this cell again. Stuck? Try {self.name}.hint().",
            )
        try:
            message = self.evaluate(data)
        except _NotAttemptedSignal as signal:
            said = str(signal) or (
                f"`{self.answer}` returns None: not attempted yet, or the `return` is missing."
            )
            return self._result("not_attempted", f"{said} Stuck? Try {self.name}.hint().")
        except Incorrect as wrong:
            return self._result("incorrect", str(wrong))
        except Exception as exc:  # a bug in a check must not look like the student's fault
            return self._result(
                "error",
                f"The checker could not evaluate this answer ({type(exc).__name__}: {exc}). "
                "Make sure it has the form the exercise asks for; if it does, tell your "
                "instructor.",
            )
        return self._result("correct", message or "Correct!")

    def evaluate(self, data) -> str | None:
        return self.check_fn(data)

    def _result(self, status: str, message: str) -> CheckResult:
        points = self.points if status == "correct" else 0
        return CheckResult(self.id, status, message, points, self.points)


class ValueExercise(Exercise):
    """An answer that is a value: a number, a string, an array, a list or dict of those."""

    kind = "value"


class FunctionExercise(Exercise):
    """An answer that is a function, called on ``inputs`` (a list of argument tuples).

    ``make_inputs()`` returns the argument tuples (including cases the student never saw);
    ``check_fn(inputs, outputs)`` gets them with the function's outputs as data.
    """

    kind = "function"

    def __init__(self, *args, make_inputs: Callable[[], list[tuple]], **kwargs):
        super().__init__(*args, **kwargs)
        self.make_inputs = make_inputs

    def collect(self, answer, inputs=None):
        if inputs is None and callable(answer):
            inputs = self.make_inputs()
        return super().collect(answer, inputs)

    def evaluate(self, data) -> str | None:
        if isinstance(data, dict) and "not_callable" in data:
            raise Incorrect(
                f"`{self.answer}` should be a function (def {self.answer}(...): ...), but it is "
                f"{_describe(data['not_callable'])}."
            )
        inputs = self.make_inputs()
        if not isinstance(data, list) or len(data) != len(inputs):
            raise Incorrect("the function's outputs did not come back for every test input.")
        if all(out is None for out in data):
            raise _NotAttemptedSignal
        for args, out in zip(inputs, data):
            if isinstance(out, CallFailed):
                what = "raised an error" if out.reason == "raised" else "ran too long"
                raise Incorrect(
                    f"`{self.answer}` {what} on a test input ({_describe_args(args)}): "
                    f"{out.detail}."
                )
        return self.check_fn(inputs, data)


class _NotAttemptedSignal(Exception):
    """Raised inside ``evaluate`` when a function answer still returns the placeholder None."""


def _describe_args(args: tuple) -> str:
    return ", ".join(
        _describe(a) if not isinstance(a, (int, float, str)) else repr(a) for a in args
    )


class ModelExercise(Exercise):
    """An answer that is a function building a Keras model; checked by what the model does.

    ``collect`` calls the builder, saves the model as ``.keras`` and carries the bytes; ``grade``
    loads them with ``safe_mode=True`` and calls ``check_fn(model)`` (which trains/evaluates it).
    """

    kind = "model"

    def evaluate(self, data) -> str | None:
        if isinstance(data, dict) and "not_callable" in data:
            raise Incorrect(
                f"`{self.answer}` should be a function that builds and returns a keras model, "
                f"but it is {_describe(data['not_callable'])}."
            )
        if isinstance(data, CallFailed):
            raise Incorrect(f"`{self.answer}()` failed: {data.detail}.")
        if data is None:
            raise _NotAttemptedSignal
        if isinstance(data, Unsupported):
            raise Incorrect(
                f"`{self.answer}()` should return a keras.Model, not a {data.type_name}."
            )
        try:
            model = data.load()
        except Exception as exc:
            raise Incorrect(
                "your model could not be reloaded safely (custom or Lambda layers are not "
                f"allowed here; use built-in Keras layers): {type(exc).__name__}: {exc}"
            ) from None
        return self.check_fn(model)


# --- text shown in notebooks -------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """Plain text that also renders as HTML in notebooks."""

    text: str

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<div style='padding:4px 0'>{html.escape(self.text)}</div>"


@dataclass(frozen=True)
class Code:
    """Source code that renders as a code block in notebooks."""

    code: str
    title: str = ""

    def __str__(self) -> str:
        return f"{self.title}:\n{self.code}" if self.title else self.code

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(self.title)}</b><pre>{html.escape(self.code)}</pre>"


# --- a lesson's exercises ------------------------------------------------------------------------
class Lesson:
    """The exercises of one lesson, in order, with a summary table.

    Example
    -------
    >>> lesson = Lesson("00_demo", [])
    >>> lesson.max_points
    0
    """

    def __init__(self, name: str, exercises: Sequence[Exercise]):
        self.name = name
        self.exercises = list(exercises)
        ids = [e.id for e in self.exercises]
        if len(set(ids)) != len(ids):
            raise ValueError(f"lesson {name} has duplicate exercise ids: {ids}")
        for exercise in self.exercises:
            exercise.lesson = name

    def __iter__(self):
        return iter(self.exercises)

    def __getitem__(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(f"lesson {self.name} has no exercise {exercise_id!r}")

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)

    def summary(self) -> SummaryTable:
        """A table of this lesson's exercises and the status of their last check."""
        rows = []
        for e in self.exercises:
            r = e.last_result
            rows.append(
                (
                    e.id,
                    e.answer,
                    "not checked" if r is None else r.status.replace("_", " "),
                    0 if r is None else r.points,
                    e.points,
                )
            )
        return SummaryTable(self.name, rows)


@dataclass(frozen=True)
class SummaryTable:
    """The rows of :meth:`Lesson.summary`: (id, answer, status, points, max points)."""

    lesson: str
    rows: list

    def __str__(self) -> str:
        lines = [f"Lesson {self.lesson}"]
        width = max([4, *(len(row[0]) for row in self.rows)])
        lines += [
            f"  {i:<{width}} {a:<24} {s:<14} {_fmt_points(p)}/{_fmt_points(m)}"
            for i, a, s, p, m in self.rows
        ]
        total = sum(r[3] for r in self.rows)
        lines.append(f"  total {_fmt_points(total)}/{_fmt_points(sum(r[4] for r in self.rows))}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(i)}</td><td><code>{html.escape(a)}</code></td>"
            f"<td>{html.escape(s)}</td><td>{_fmt_points(p)}/{_fmt_points(m)}</td></tr>"
            for i, a, s, p, m in self.rows
        )
        return (
            f"<table><tr><th>exercise</th><th>answer</th><th>status</th><th>points</th></tr>"
            f"{body}</table>"
        )
