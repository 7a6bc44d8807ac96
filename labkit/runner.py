"""Run lesson notebooks headless, each in a fresh kernel, with a progress bar and a summary.

This is ``labkit run`` (and ``make course``): it executes the **student** notebooks in
``lessons/`` by default — what a student opens — or the solution notebooks with
``solutions=True``. Notebooks are executed in memory and never written back. Each notebook gets
a progress bar on stderr (code cells done / total, elapsed time; redrawn in place on a terminal,
one line every few seconds otherwise), then :func:`summary_table` lists every lesson with its
run time and the status of each exercise check found in its outputs.

Example
-------
>>> from labkit.runner import resolve, run_notebook  # doctest: +SKIP
>>> result = run_notebook(resolve(["01"])[0])  # doctest: +SKIP
>>> result.ok, result.exercises  # doctest: +SKIP
(True, {'q1': 'not attempted', 'q2': 'not attempted'})
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from labkit.executor import DEFAULT_TIMEOUT, CellTimedOut, ExecutionError, code_cells, execute

__all__ = ["LessonNotFound", "RunResult", "lessons_dir", "resolve", "run_notebook", "summary_table"]

LINE_INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal
_BAR_WIDTH = 24


class LessonNotFound(ValueError):
    """A lesson name, number or path that matches no notebook."""


def lessons_dir() -> Path:
    """The ``lessons/`` folder of the source checkout (or of the current directory).

    Example
    -------
    >>> lessons_dir().name
    'lessons'
    """
    beside_package = Path(__file__).resolve().parent.parent / "lessons"
    return beside_package if beside_package.is_dir() else Path.cwd() / "lessons"


def resolve(wanted: list[str] | None = None, solutions: bool = False) -> list[Path]:
    """The notebooks to run: all lessons, or those named by number, name or ``.ipynb`` path.

    Raises :class:`LessonNotFound` naming what was asked for and what exists.

    Example
    -------
    >>> [p.name for p in resolve(["01"])]  # doctest: +SKIP
    ['01_backpropagation.ipynb']
    """
    folder = lessons_dir() / "solutions" if solutions else lessons_dir()
    available = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not wanted:
        if not available:
            raise LessonNotFound(
                f"no lesson notebooks in {folder}; build them with `make lessons` "
                "or pass a notebook path"
            )
        return available
    chosen: list[Path] = []
    for item in wanted:
        if item.endswith(".ipynb") or os.sep in item:
            path = Path(item)
            if not path.is_file():
                raise LessonNotFound(f"no notebook at {item}: check the path")
            chosen.append(path)
            continue
        match = [p for p in available if p.stem == item or p.stem.startswith(f"{item}_")]
        if not match:
            known = ", ".join(p.stem for p in available) or "none (run `make lessons`)"
            raise LessonNotFound(
                f"no lesson {item!r} in {folder}; give a number, a name or a notebook path. "
                f"Lessons are: {known}"
            )
        chosen.extend(match)
    return chosen


@dataclass
class RunResult:
    """What happened when one notebook ran."""

    path: Path
    seconds: float
    cells: int
    exercises: dict[str, str] = field(default_factory=dict)
    points: tuple[float, float] = (0.0, 0.0)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def name(self) -> str:
        return self.path.stem


class _Progress:
    """A progress bar for one notebook on a stream: in place on a TTY, else periodic lines."""

    def __init__(self, name: str, total: int, stream: TextIO):
        self.name, self.total, self.stream = name, total, stream
        self.done = 0
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self._last_line = self.start
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker = threading.Thread(target=self._tick, daemon=True) if self.tty else None
        if self._ticker:
            self._ticker.start()
        else:
            self._line()

    def _text(self) -> str:
        filled = round(_BAR_WIDTH * self.done / self.total) if self.total else _BAR_WIDTH
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.start
        return f"{self.name} [{bar}] {self.done}/{self.total} cells {elapsed:5.1f}s"

    def _draw(self) -> None:
        with self._lock:
            self.stream.write("\r" + self._text())
            self.stream.flush()

    def _line(self) -> None:
        self.stream.write(self._text() + "\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            self._draw()

    def advance(self) -> None:
        self.done += 1
        if self.tty:
            self._draw()
        elif time.monotonic() - self._last_line >= LINE_INTERVAL:
            self._line()

    def close(self) -> None:
        if self._ticker:
            self._stop.set()
            self._ticker.join()
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
        else:
            self._line()


def exercise_statuses(nb) -> tuple[dict[str, str], tuple[float, float]]:
    """Exercise id → status of its last check, and (points, max points), from cell outputs.

    Reads the data every displayed :class:`~labkit.exercises.core.CheckResult` carries under
    :data:`~labkit.exercises.core.MIME_TYPE`; nothing parses display text.

    Example
    -------
    >>> import nbformat
    >>> from labkit.exercises.core import CheckResult
    >>> result = CheckResult("q1", "correct", "Yes.", 2, 2)
    >>> out = nbformat.v4.new_output(
    ...     "execute_result", result._repr_mimebundle_(), execution_count=1
    ... )
    >>> cell = nbformat.v4.new_code_cell("q1.check(x)", outputs=[out])
    >>> exercise_statuses(nbformat.v4.new_notebook(cells=[cell]))
    ({'q1': 'correct'}, (2.0, 2.0))
    """
    from labkit.exercises.core import MIME_TYPE, CheckResult

    found: dict[str, CheckResult] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(MIME_TYPE)
            if data is None:
                continue
            try:
                result = CheckResult.from_dict(data)
            except (KeyError, TypeError, ValueError):
                continue  # not a check result we wrote: ignore it
            found[result.exercise] = result
    statuses = {k: r.status.replace("_", " ") for k, r in found.items()}
    points = (sum(r.points for r in found.values()), sum(r.max_points for r in found.values()))
    return statuses, points


def _working_dir(path: Path) -> Path:
    """Lessons run in ``lessons/`` (solutions too), as when they are built; others beside them."""
    resolved = path.resolve()
    root = lessons_dir().resolve()
    return root if resolved.parent in (root, root / "solutions") else resolved.parent


def run_notebook(
    path: Path, timeout: int = DEFAULT_TIMEOUT, stream: TextIO | None = None
) -> RunResult:
    """Execute one notebook in a fresh kernel (not saved) and report what happened.

    A failing cell stops the notebook; :attr:`RunResult.error` then names the code cell (as
    numbered in the notebook's ``[n]`` prompts), its first line and ``ename: evalue``.

    Example
    -------
    >>> result = run_notebook(Path("lessons/01_backpropagation.ipynb"))  # doctest: +SKIP
    >>> result.ok  # doctest: +SKIP
    True
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    total = len(code_cells(nb))
    progress = _Progress(path.stem, total, stream or sys.stderr)
    error = None
    start = time.monotonic()
    try:
        execute(nb, cwd=_working_dir(path), timeout=timeout, on_cell=lambda _: progress.advance())
    except CellTimedOut as exc:
        error = f"{exc} (allow more with --timeout)"
    except ExecutionError as exc:
        error = str(exc)
    finally:
        progress.close()
    seconds = time.monotonic() - start
    statuses, points = exercise_statuses(nb)
    return RunResult(path, seconds, total, statuses, points, error)


def summary_table(results: list[RunResult]) -> str:
    """The table printed after a run: lesson, time, result, exercise statuses.

    Example
    -------
    >>> r = RunResult(Path("01_x.ipynb"), 12.3, 20, {"q1": "correct"}, (1.0, 1.0))
    >>> print(summary_table([r]))
    lesson  time    result  points  exercises
    01_x    12.3 s  ok      1/1     q1 correct
    """
    rows = [("lesson", "time", "result", "points", "exercises")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{r.seconds:.1f} s",
                "ok" if r.ok else "FAILED",
                f"{r.points[0]:g}/{r.points[1]:g}" if r.exercises else "-",
                ", ".join(f"{k} {v}" for k, v in r.exercises.items()) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4] for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
