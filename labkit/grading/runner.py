"""Execute one submission in a fresh, memory-capped kernel and grade its answers as data.

Steps for one notebook:

1. read it (any readable ``.ipynb``) and find its lesson (``metadata.labkit.lesson``, else the
   file name);
2. start a fresh kernel (:mod:`labkit.grading.kernel`, through :mod:`labkit.executor`) under
   resource limits in an empty working directory — inside the bubblewrap sandbox of
   :mod:`labkit.grading.sandbox` when ``sandboxed`` (no network, nothing of the grader's files,
   its own PID namespace: a kernel that kills what it can reach kills only itself; as root, in a
   pids cgroup of its own, :mod:`labkit.grading.cgroup`, since root ignores ``NPROC``) — seed
   Python's and NumPy's generators, then run the notebook's code cells one by one with a
   per-cell timeout; a cell that raises does not stop the run; a cell that hangs is
   interrupted; a cell that kills or wedges the kernel is skipped and the notebook is re-run
   without it in a new kernel (at most :data:`MAX_KERNEL_STARTS` kernels);
3. in that same kernel run :data:`SHIM`, which loads :mod:`labkit.grading.collector` by file path
   and calls it with the plan folder (read-only in the sandbox) and the answers folder: with
   private copies of ``labkit/exercises/core.py`` and :mod:`labkit.grading.transport` (so
   nothing the notebook did to ``labkit`` matters) it looks up each exercise's variable in the
   notebook's globals, collects it with its kind's collector (functions on inputs the grader
   chose) and writes the data to the answers folder;
4. read the data back here and call the lesson's own ``exercise.grade(data)`` in this process.

Nothing the notebook printed, stored or returned from its check cells is used.

Example
-------
>>> results = grade_paths([Path("alice.ipynb")], timeout=120, jobs=1)  # doctest: +SKIP
>>> results[0].score, results[0].max_score  # doctest: +SKIP
(5.0, 6.0)
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import shutil
import tempfile
import threading
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labkit import executor
from labkit.exercises import core
from labkit.grading import cgroup, collector, sandbox, transport
from labkit.grading.defaults import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT
from labkit.grading.kernel import write_kernelspec

__all__ = [
    "SubmissionResult",
    "find_notebooks",
    "grade_paths",
    "lesson_of",
]

MAX_KERNEL_STARTS = 3
MAX_PROCESSES = 512  # processes and threads per sandbox (TensorFlow starts dozens of threads)
MAX_FILE_BYTES = 2**30
# A Unix socket's path holds at most 107 bytes; the kernel's ZMQ sockets live in the IPC folder.
_MAX_SOCKET_PATH = 107
PROBE_TIMEOUT = 10
SEED = 0
_COLLECTOR_PATH = Path(collector.__file__).resolve()
_GRADE_LOCK = threading.Lock()
PREAMBLE = f"""\
import random as _labkit_random, numpy as _labkit_np
_labkit_random.seed({SEED}); _labkit_np.random.seed({SEED})
del _labkit_random, _labkit_np
"""

# The one cell of grader code a submission's kernel runs: load the collector by path, call it.
SHIM = """\
def _labkit_collect(path, plan, out):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_labkit_grader_collector", path)
    collector = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(collector)
    collector.collect_answers(globals(), out, plan)


_labkit_collect({path!r}, {plan!r}, {out!r})
del _labkit_collect
"""


@dataclass
class SubmissionResult:
    """One graded (or ungradable) submission.

    ``status`` is ``"graded"`` or ``"error"`` (with ``error`` saying why); ``notes`` lists what
    went wrong while executing it (cells that raised, timed out or killed the kernel);
    ``sandboxed`` says whether its kernel ran in the sandbox; ``seconds`` is its wall time.
    """

    file: str
    lesson: str | None
    status: str
    error: str | None = None
    results: list[core.CheckResult] = field(default_factory=list)
    max_score: float | None = None
    notes: list[str] = field(default_factory=list)
    sandboxed: bool = False
    seconds: float | None = None

    @property
    def score(self) -> float:
        return float(sum(r.points for r in self.results))

    def to_dict(self) -> dict:
        """The JSON report's object for this submission."""
        return {
            "file": self.file,
            "lesson": self.lesson,
            "status": self.status,
            "error": self.error,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [r.to_dict() for r in self.results],
            "notes": list(self.notes),
            "sandboxed": self.sandboxed,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        """The inverse of :meth:`to_dict` (for ``--resume`` and merging reports).

        Example
        -------
        >>> r = SubmissionResult("a.ipynb", "01_x", "graded", max_score=1.0, sandboxed=True)
        >>> SubmissionResult.from_dict(r.to_dict()) == r
        True
        """
        results = [
            core.CheckResult(x["id"], x["status"], x["message"], x["points"], x["max_points"])
            for x in data["exercises"]
        ]
        return cls(
            data["file"],
            data["lesson"],
            data["status"],
            data["error"],
            results,
            data["max_score"],
            list(data["notes"]),
            bool(data.get("sandboxed", False)),
            data.get("seconds"),
        )


class _Ungradable(Exception):
    """The submission cannot be graded at all (the message says why)."""


def lesson_of(nb, path: Path) -> str:
    """The lesson a notebook belongs to: ``metadata.labkit.lesson``, else from the file name."""
    from labkit import exercises

    meta = nb.get("metadata", {}).get("labkit", {})
    name = meta.get("lesson") if isinstance(meta, dict) else None
    if isinstance(name, str) and name:
        return name
    matches = [known for known in exercises.LESSON_MODULES if known in path.stem]
    if len(matches) == 1:
        return matches[0]
    raise _Ungradable(
        "the notebook does not say which lesson it is (no metadata.labkit.lesson) and its file "
        f"name names {'no' if not matches else 'more than one'} lesson; rename it to contain one "
        f"of: {', '.join(exercises.LESSON_MODULES)}"
    )


def find_notebooks(paths: list[str | os.PathLike]) -> list[Path]:
    """Notebook files from files and folders (folders: every ``*.ipynb`` below, sorted).

    Example
    -------
    >>> find_notebooks(["no/such/folder"])
    Traceback (most recent call last):
    ValueError: no/such/folder does not exist
    """
    found = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not inside:
                raise ValueError(f"{path} holds no .ipynb files")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"{path} does not exist")
    return list(dict.fromkeys(found))


def grade_paths(
    paths: list[Path],
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    memory_gb: float = DEFAULT_MEMORY_GB,
    on_done: Callable[[SubmissionResult], None] | None = None,
    sandboxed: bool = False,
    lesson: str | None = None,
) -> list[SubmissionResult]:
    """Grade notebooks concurrently (``jobs`` kernels at a time); results in the order given.

    ``on_done`` is called with each result as soon as it is ready (e.g. to save it at once);
    ``sandboxed`` runs each kernel in the bubblewrap sandbox (see
    :func:`labkit.grading.sandbox.probe` for whether it works here); ``lesson`` grades every
    notebook as that lesson, whatever its metadata or file name say (a note records a mismatch).
    """
    jobs = jobs or os.cpu_count() or 1
    memory = int(memory_gb * 2**30)

    def one(path: Path) -> SubmissionResult:
        start = time.monotonic()
        result = grade_one(path, timeout, memory, sandboxed, lesson)
        result.seconds = round(time.monotonic() - start, 2)
        if on_done is not None:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, paths))


def grade_one(
    path: Path, timeout: float, memory: int, sandboxed: bool, as_lesson: str | None = None
) -> SubmissionResult:
    """Grade one notebook in a kernel capped at ``memory`` bytes; never raises.

    Problems become an ``"error"`` result. ``as_lesson``: ``lesson`` of :func:`grade_paths`.
    """
    lesson_name, max_score, notes = as_lesson, None, []
    try:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise _Ungradable(f"not a readable notebook: {type(exc).__name__}: {exc}") from None
        if lesson_name is None:
            lesson_name = lesson_of(nb, path)
        else:
            notes = _other_lesson(nb, path, lesson_name)
        from labkit.exercises import lesson_for

        try:
            lesson = lesson_for(lesson_name)
        except ValueError as exc:
            raise _Ungradable(str(exc)) from None
        max_score = float(lesson.max_points)
        with tempfile.TemporaryDirectory(prefix="labkit-grade-") as work:
            result = _run_and_grade(path, nb, lesson, Path(work), timeout, memory, sandboxed)
        result.notes[:0] = notes
        return result
    except _Ungradable as exc:
        return SubmissionResult(
            str(path), lesson_name, "error", str(exc), max_score=max_score, sandboxed=sandboxed
        )
    except Exception as exc:  # a bug or an environment problem: report it, keep the batch going
        message = f"grading failed: {type(exc).__name__}: {exc}"
        return SubmissionResult(
            str(path), lesson_name, "error", message, max_score=max_score, sandboxed=sandboxed
        )


def _other_lesson(nb, path: Path, lesson: str) -> list[str]:
    """A note when the notebook says it belongs to another lesson than the one it is graded as."""
    try:
        own = lesson_of(nb, path)
    except _Ungradable:
        return []
    return [] if own == lesson else [f"this notebook is lesson {own}; graded as lesson {lesson}"]


def _run_and_grade(
    path, nb, lesson, work: Path, timeout, memory: int, sandboxed: bool
) -> SubmissionResult:
    plan_dir, out, cwd, ipc = work / "plan", work / "answers", work / "cwd", work / "ipc"
    for folder in (plan_dir, out, cwd):
        folder.mkdir()
    if len(str(ipc / "kernel-ipc-99")) > _MAX_SOCKET_PATH:  # a long TMPDIR: sockets go to /tmp
        ipc = Path(tempfile.mkdtemp(prefix="labkit-ipc-", dir="/tmp"))
    else:
        ipc.mkdir()
    plan = _write_plan(lesson, plan_dir)
    cells = [
        (number, cell.get("source", ""))
        for number, cell in enumerate(nb.get("cells", []), start=1)
        if cell.get("cell_type") == "code" and isinstance(cell.get("source", ""), str)
    ]
    shim = SHIM.format(path=str(_COLLECTOR_PATH), plan=str(plan_dir), out=str(out))
    budget = timeout + sum(e.time_budget for e in lesson) + 30
    cpu = int((timeout * (len(cells) + 1) + budget) * (os.cpu_count() or 1))
    limits = {"AS": memory, "CPU": cpu, "FSIZE": MAX_FILE_BYTES}
    wrap, group = None, None
    if sandboxed:  # NPROC counts the user's processes: per sandbox only in its user namespace
        limits["NPROC"] = MAX_PROCESSES
        readonly = [*_lesson_files(lesson), plan_dir]  # the plan and inputs: read-only inside
        wrap = functools.partial(sandbox.wrap, scratch=cwd, writable=[out, ipc], readonly=readonly)
        if cgroup.parent() is not None:  # root is exempt from NPROC: a pids cgroup limits it
            group = cgroup.parent() / work.name
            wrap = _in_cgroup(wrap, group)
    kernel = write_kernelspec(work / "spec", limits, wrap)
    execution = _Execution(cells, shim, timeout, budget, cwd, kernel, ipc if sandboxed else None)
    try:
        notes = executor.run_sync(execution.run())
    finally:
        if group is not None:
            cgroup.remove(group)
        if ipc.parent != work:
            shutil.rmtree(ipc, ignore_errors=True)
    results = []
    collected = 0
    for exercise, item in zip(lesson, plan):
        stem = item["stem"]
        if not transport.exists(out, stem):
            results.append(
                _result(
                    exercise,
                    "error",
                    "No answer: the kernel stopped before this answer was collected "
                    "(see the notes).",
                )
            )
            continue
        collected += 1
        results.append(_grade_exercise(exercise, out, stem))
    result = SubmissionResult(
        str(path), lesson.name, "graded", None, results, float(lesson.max_points), notes, sandboxed
    )
    if collected == 0 and lesson.exercises:
        result.status = "error"
        result.error = "the kernel failed before any answer was collected: " + "; ".join(notes)
    return result


def _in_cgroup(wrap: Callable[[list[str]], list[str]], group: Path):
    """``wrap``, its command started in the pids cgroup ``group`` (see :mod:`.cgroup`)."""
    return lambda argv: cgroup.command(group, MAX_PROCESSES, wrap(argv))


def _lesson_files(lesson) -> list[Path]:
    """The lesson's module when it lives outside labkit (the sandbox binds labkit already)."""
    from labkit import exercises

    module = importlib.import_module(f"labkit.exercises.{exercises.LESSON_MODULES[lesson.name]}")
    here = Path(module.__file__).resolve()
    return [] if Path(exercises.__file__).resolve().parent.parent in here.parents else [here]


def _grade_exercise(exercise, out: Path, stem: str) -> core.CheckResult:
    try:
        data = transport.unpack(out, stem, core)
    except (transport.TransportError, ValueError, OSError) as exc:
        return _result(exercise, "error", f"The answer's data could not be read: {exc}")
    if data is transport.MISSING:
        return _result(
            exercise, "not_attempted", f"No variable named `{exercise.answer}` in the notebook."
        )
    with _GRADE_LOCK:  # checks may seed and train Keras models: one at a time
        return exercise.grade(data)


def _result(exercise, status: str, message: str) -> core.CheckResult:
    return core.CheckResult(exercise.id, status, message, 0, exercise.points)


def _write_plan(lesson, out: Path) -> list[dict]:
    plan = []
    for index, exercise in enumerate(lesson):
        item = {
            "id": exercise.id,
            "answer": exercise.answer,
            "kind": exercise.kind,
            "time_budget": float(exercise.time_budget),
            "stem": f"answer_{index}",
        }
        if exercise.kind not in core.COLLECTORS:
            raise _Ungradable(f"exercise {exercise.id} has an unknown kind {exercise.kind!r}")
        if exercise.kind == "function":
            inputs = [_input_data(list(args), exercise.id) for args in exercise.make_inputs()]
            item["inputs"] = f"inputs_{index}"
            transport.pack(inputs, out, item["inputs"], core)
        plan.append(item)
    (out / "plan.json").write_text(json.dumps(plan))
    return plan


def _input_data(value, exercise_id: str):
    """A grader-chosen input as data; module-level functions travel by name."""
    if isinstance(value, types.FunctionType):
        ref = transport.FunctionRef(value.__module__, value.__qualname__)
        try:
            same = ref.resolve() is value
        except (ImportError, AttributeError):
            same = False
        if not same:
            raise _Ungradable(
                f"exercise {exercise_id}: a function input must be defined at module level "
                f"(got {value.__qualname__})"
            )
        return ref
    if type(value) in (list, tuple):
        return [_input_data(v, exercise_id) for v in value]
    if type(value) is dict:
        return {str(k): _input_data(v, exercise_id) for k, v in value.items()}
    data = core.to_data(value)
    if isinstance(data, core.Unsupported):
        raise _Ungradable(
            f"exercise {exercise_id}: make_inputs() must return plain data (numbers, strings, "
            f"numeric arrays, lists, dicts, module-level functions), not {data.type_name}"
        )
    return data


class _Execution:
    """Runs the cells (skipping those that kill the kernel), then the shim, in a kernel."""

    def __init__(self, cells, shim, timeout, shim_timeout, cwd, kernel, ipc_dir):
        self.cells = cells
        self.shim = shim
        self.timeout = timeout
        self.shim_timeout = shim_timeout
        self.cwd = cwd
        self.kernel = kernel
        self.ipc_dir = ipc_dir
        self.skip: set[int] = set()
        self.notes: list[str] = []

    async def run(self) -> list[str]:
        for attempt in range(MAX_KERNEL_STARTS):
            if await self._attempt(final=attempt == MAX_KERNEL_STARTS - 1):
                break
        return self.notes

    async def _attempt(self, final: bool) -> bool:
        """One kernel from start to collection; False when a cell killed it (retry)."""
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(PREAMBLE)]
            + [nbformat.v4.new_code_cell(src) for _, src in self.cells]
            + [nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell(self.shim)]
        )
        try:
            async with executor.kernel_session(
                nb, cwd=self.cwd, timeout=self.timeout, kernel=self.kernel, ipc_dir=self.ipc_dir
            ) as session:
                return await self._run_cells(session, final)
        except executor.KernelStartFailed as exc:
            self.notes.append(str(exc))
            return True

    async def _run_cells(self, session: executor.KernelSession, final: bool) -> bool:
        await session.run_cell(0)
        for position, (number, _) in enumerate(self.cells, start=1):
            if number in self.skip:
                continue
            try:
                await session.run_cell(position)
            except executor.CellFailed as exc:
                self.notes.append(f"cell {number} raised {f'{exc.ename}: {exc.evalue}'[:200]}")
            except executor.CellTimedOut:
                self.notes.append(f"cell {number} ran past {self.timeout:g} s: interrupted")
                await session.interrupt()
                if not await self._responsive(session):
                    return self._give_up_cell(number, "did not stop when interrupted", final)
            except executor.KernelDied:
                return self._give_up_cell(number, "killed the kernel", final)
        if final and self.skip:
            self.notes.append("stopped retrying; answers not collected may be missing")
        try:
            await session.run_cell(len(session.nb.cells) - 1, timeout=self.shim_timeout)
        except executor.CellFailed as exc:
            self.notes.append(f"collecting the answers raised {exc.ename}")
        except executor.CellTimedOut:
            self.notes.append(f"collecting the answers ran past {self.shim_timeout:g} s")
        except executor.KernelDied:
            self.notes.append("the kernel died while the answers were collected")
        return True

    def _give_up_cell(self, number: int, what: str, final: bool) -> bool:
        self.skip.add(number)
        retry = "" if final else "; re-running the notebook without it in a fresh kernel"
        self.notes.append(f"cell {number} {what}{retry}")
        return final

    async def _responsive(self, session: executor.KernelSession) -> bool:
        """Whether the kernel runs the probe cell (``pass``) after an interrupt."""
        try:
            await session.run_cell(len(session.nb.cells) - 2, timeout=PROBE_TIMEOUT)
        except executor.CellFailed:  # a late KeyboardInterrupt: the kernel answered all the same
            return True
        except (executor.CellTimedOut, executor.KernelDied):
            return False
        return True
