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
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from labkit._setup import KERNEL_ENV

__all__ = ["LessonNotFound", "RunResult", "lessons_dir", "resolve", "run_notebook", "summary_table"]

DEFAULT_TIMEOUT = 600
LINE_INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal
_BAR_WIDTH = 24
# The plain-text form of a CheckResult: "✓ q1 correct (1/1): message".
_CHECK_LINE = re.compile(
    r"^[✓✗…!] (?P<id>\S+) (?P<status>correct|incorrect|not attempted|error) "
    r"\((?P<points>[\d.]+)/(?P<max>[\d.]+)\)",
    re.MULTILINE,
)


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

    Example
    -------
    >>> import nbformat
    >>> out = nbformat.v4.new_output(
    ...     "execute_result", {"text/plain": "✓ q1 correct (2/2): Yes."}, execution_count=1
    ... )
    >>> cell = nbformat.v4.new_code_cell("q1.check(x)", outputs=[out])
    >>> exercise_statuses(nbformat.v4.new_notebook(cells=[cell]))
    ({'q1': 'correct'}, (2.0, 2.0))
    """
    found: dict[str, tuple[str, float, float]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "") or output.get("text", "")
            for m in _CHECK_LINE.finditer("".join(text)):
                found[m["id"]] = (m["status"], float(m["points"]), float(m["max"]))
    statuses = {k: v[0] for k, v in found.items()}
    points = (sum(v[1] for v in found.values()), sum(v[2] for v in found.values()))
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
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    stream = stream or sys.stderr
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    progress = _Progress(path.stem, len(code_cells), stream)
    current = {"index": -1}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    def on_cell_executed(cell, cell_index, execute_reply):
        if cell_index in code_cells:
            progress.advance()

    os.environ.update(KERNEL_ENV)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no transport warnings on stderr
        resources={"metadata": {"path": str(_working_dir(path))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    error = None
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        error = f"TimeoutError: the cell ran longer than {timeout} s (raise it with --timeout)"
    except DeadKernelError as exc:
        error = f"the kernel died ({exc}); the cell may use too much memory"
    finally:
        progress.close()
    seconds = time.monotonic() - start
    if error is not None:
        error = _describe_cell(nb, current["index"], code_cells) + error
    statuses, points = exercise_statuses(nb)
    return RunResult(path, seconds, len(code_cells), statuses, points, error)


def _describe_cell(nb, index: int, code_cells: list[int]) -> str:
    if index < 0:
        return "before the first cell: "
    cell = nb.cells[index]
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    number = code_cells.index(index) + 1 if index in code_cells else index + 1
    return f"code cell {number} (notebook cell {index + 1}: {first.strip()[:60]!r}) failed: "


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
