"""Execute one submission in a fresh, memory-capped kernel and grade its answers as data.

Steps for one notebook:

1. read it (any readable ``.ipynb``) and find its lesson (``metadata.labkit.lesson``, else the
   file name);
2. start a fresh kernel (:mod:`labkit.grading.kernel`) in an empty working directory, seed
   Python's and NumPy's generators, then run the notebook's code cells one by one with a
   per-cell timeout; a cell that raises does not stop the run; a cell that hangs is interrupted;
   a cell that kills or wedges the kernel is skipped and the notebook is re-run without it in a
   new kernel (at most :data:`MAX_KERNEL_STARTS` kernels);
3. in that same kernel run the *extraction* code: it loads private copies of
   ``labkit/exercises/core.py`` and :mod:`labkit.grading.transport` by file path (so nothing the
   notebook did to ``labkit`` matters), looks up each exercise's variable in the notebook's
   globals, calls the exercise kind's ``collect`` on it (functions on inputs the grader chose) and
   writes the data to disk;
4. read the data back here and call the lesson's own ``exercise.grade(data)`` in this process.

Nothing the notebook printed, stored or returned from its check cells is used.

Example
-------
>>> results = grade_paths([Path("alice.ipynb")], timeout=120, jobs=1)  # doctest: +SKIP
>>> results[0].score, results[0].max_score  # doctest: +SKIP
(5.0, 6.0)
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import tempfile
import threading
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labkit._setup import KERNEL_ENV
from labkit.exercises import core
from labkit.grading import transport
from labkit.grading.kernel import KERNEL_NAME, write_kernelspec

__all__ = ["DEFAULT_MEMORY_GB", "DEFAULT_TIMEOUT", "SubmissionResult", "grade_paths", "lesson_of"]

DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_GB = 8.0
MAX_KERNEL_STARTS = 3
PROBE_TIMEOUT = 10
SEED = 0
_CORE_PATH = Path(core.__file__).resolve()
_TRANSPORT_PATH = Path(transport.__file__).resolve()
_GRADE_LOCK = threading.Lock()
# nbclient logs kernel deaths and timeouts as errors; they are reported as notes instead
_QUIET = logging.getLogger("labkit.grading.kernel_client")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

PREAMBLE = f"""\
import random as _labkit_random, numpy as _labkit_np
_labkit_random.seed({SEED}); _labkit_np.random.seed({SEED})
del _labkit_random, _labkit_np
"""

EXTRACT = """\
def _labkit_grader_extract(core_path, transport_path, out):
    import importlib.util, json, sys, uuid

    def load(path):
        name = "_labkit_grader_" + uuid.uuid4().hex
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            del sys.modules[name]
        return module

    core, transport = load(core_path), load(transport_path)
    kinds = {"value": core.ValueExercise, "function": core.FunctionExercise,
             "model": core.ModelExercise}
    with open(out + "/plan.json") as f:
        plan = json.load(f)
    user = globals()
    for item in plan:
        if item["answer"] not in user:
            transport.pack(transport.MISSING, out, item["stem"], core)
            continue
        inputs = None
        extra = {}
        if item["kind"] == "function":
            inputs = transport.unpack(out, item["inputs"], core, functions=True)
            extra["make_inputs"] = lambda: inputs
        exercise = kinds[item["kind"]](
            id=item["id"], answer=item["answer"], prompt="", hints=["", ""],
            solution_source="", time_budget=item["time_budget"], **extra)
        try:
            data = exercise.collect(user[item["answer"]], inputs)
            transport.pack(data, out, item["stem"], core)
        except Exception as exc:
            failed = core.CallFailed("raised", f"{type(exc).__name__}: {exc}"[:500])
            transport.pack(failed, out, item["stem"], core)
"""


@dataclass
class SubmissionResult:
    """One graded (or ungradable) submission.

    ``status`` is ``"graded"`` or ``"error"`` (with ``error`` saying why); ``notes`` lists what
    went wrong while executing it (cells that raised, timed out or killed the kernel).
    """

    file: str
    lesson: str | None
    status: str
    error: str | None = None
    results: list[core.CheckResult] = field(default_factory=list)
    max_score: float | None = None
    notes: list[str] = field(default_factory=list)

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
        }


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


def grade_paths(
    paths: list[Path],
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    memory_gb: float = DEFAULT_MEMORY_GB,
    on_done: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade notebooks concurrently (``jobs`` kernels at a time); results in the order given.

    ``on_done`` is called with each result as soon as it is ready (e.g. to show progress).
    """
    jobs = jobs or os.cpu_count() or 1

    def one(path: Path) -> SubmissionResult:
        result = grade_one(path, timeout, spec_root)
        if on_done is not None:
            on_done(result)
        return result

    with tempfile.TemporaryDirectory(prefix="labkit-kernelspec-") as spec_root:
        write_kernelspec(spec_root, int(memory_gb * 2**30))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, paths))


def grade_one(path: Path, timeout: float, spec_root: str) -> SubmissionResult:
    """Grade one notebook; never raises (problems become an ``"error"`` result)."""
    lesson_name, max_score = None, None
    try:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise _Ungradable(f"not a readable notebook: {type(exc).__name__}: {exc}") from None
        lesson_name = lesson_of(nb, path)
        from labkit.exercises import lesson_for

        try:
            lesson = lesson_for(lesson_name)
        except ValueError as exc:
            raise _Ungradable(str(exc)) from None
        max_score = float(lesson.max_points)
        with tempfile.TemporaryDirectory(prefix="labkit-grade-") as work:
            return _run_and_grade(path, nb, lesson, Path(work), timeout, spec_root)
    except _Ungradable as exc:
        return SubmissionResult(str(path), lesson_name, "error", str(exc), max_score=max_score)
    except Exception as exc:  # a bug or an environment problem: report it, keep the batch going
        message = f"grading failed: {type(exc).__name__}: {exc}"
        return SubmissionResult(str(path), lesson_name, "error", message, max_score=max_score)


def _run_and_grade(path, nb, lesson, work: Path, timeout, spec_root) -> SubmissionResult:
    out = work / "answers"
    cwd = work / "cwd"
    out.mkdir()
    cwd.mkdir()
    plan = _write_plan(lesson, out)
    cells = [
        (number, cell.get("source", ""))
        for number, cell in enumerate(nb.get("cells", []), start=1)
        if cell.get("cell_type") == "code" and isinstance(cell.get("source", ""), str)
    ]
    extract = (
        f"{EXTRACT}\n\n_labkit_grader_extract({str(_CORE_PATH)!r}, {str(_TRANSPORT_PATH)!r}, "
        f"{str(out)!r})\ndel _labkit_grader_extract\n"
    )
    budget = timeout + sum(e.time_budget for e in lesson) + 30
    execution = _Execution(cells, extract, timeout, budget, cwd, spec_root)
    notes = asyncio.run(execution.run())
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
        str(path), lesson.name, "graded", None, results, float(lesson.max_points), notes
    )
    if collected == 0 and lesson.exercises:
        result.status = "error"
        result.error = "the kernel failed before any answer was collected: " + "; ".join(notes)
    return result


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
        if exercise.kind not in ("value", "function", "model"):
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
    """Runs the cells (skipping those that kill the kernel), then the extraction, in a kernel."""

    def __init__(self, cells, extract, timeout, extract_timeout, cwd, spec_root):
        self.cells = cells
        self.extract = extract
        self.timeout = timeout
        self.extract_timeout = extract_timeout
        self.cwd = cwd
        self.spec_root = spec_root
        self.skip: set[int] = set()
        self.notes: list[str] = []

    async def run(self) -> list[str]:
        # nbclient leaves output-polling tasks behind when a kernel dies: nothing to report
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
        for attempt in range(MAX_KERNEL_STARTS):
            if await self._attempt(final=attempt == MAX_KERNEL_STARTS - 1):
                break
        return self.notes

    async def _attempt(self, final: bool) -> bool:
        """One kernel from start to extraction; False when a cell killed it (retry)."""
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpecManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        km = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[self.spec_root]),
        )
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(PREAMBLE)]
            + [nbformat.v4.new_code_cell(src) for _, src in self.cells]
            + [nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell(self.extract)]
        )
        client = NotebookClient(
            nb, km=km, timeout=self.timeout, allow_errors=True, record_timing=False, log=_QUIET
        )
        try:
            await km.start_kernel(
                cwd=str(self.cwd),
                env={**os.environ, **KERNEL_ENV},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await client.async_start_new_kernel_client()
        except Exception as exc:
            self.notes.append(f"the kernel could not start: {type(exc).__name__}: {exc}")
            await _shutdown(km, client)
            return True
        try:
            await client.async_execute_cell(nb.cells[0], 0)
            for position, (number, _) in enumerate(self.cells, start=1):
                if number in self.skip:
                    continue
                cell = nb.cells[position]
                try:
                    await client.async_execute_cell(cell, position)
                except CellTimeoutError:
                    self.notes.append(f"cell {number} ran past {self.timeout:g} s: interrupted")
                    await km.interrupt_kernel()
                    if not await self._responsive(client, nb):
                        return self._give_up_cell(number, "did not stop when interrupted", final)
                    continue
                except DeadKernelError:
                    return self._give_up_cell(number, "killed the kernel", final)
                self._note_error(cell, number)
            if final and self.skip:
                self.notes.append("stopped retrying; answers not collected may be missing")
            client.timeout = self.extract_timeout
            try:
                await client.async_execute_cell(nb.cells[-1], len(nb.cells) - 1)
            except (CellTimeoutError, DeadKernelError) as exc:
                self.notes.append(f"collecting the answers failed: {type(exc).__name__}")
            for output in nb.cells[-1].get("outputs", []):
                if output.get("output_type") == "error":
                    self.notes.append(f"collecting the answers raised {output.get('ename')}")
            return True
        finally:
            await _shutdown(km, client)

    def _give_up_cell(self, number: int, what: str, final: bool) -> bool:
        self.skip.add(number)
        retry = "" if final else "; re-running the notebook without it in a fresh kernel"
        self.notes.append(f"cell {number} {what}{retry}")
        return final

    async def _responsive(self, client, nb) -> bool:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        client.timeout = PROBE_TIMEOUT
        try:
            await client.async_execute_cell(nb.cells[-2], len(nb.cells) - 2)
        except (CellTimeoutError, DeadKernelError):
            return False
        finally:
            client.timeout = self.timeout
        return True

    def _note_error(self, cell, number: int) -> None:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                self.notes.append(f"cell {number} raised {message[:200]}")


async def _shutdown(km, client) -> None:
    try:
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except Exception:  # the kernel may already be gone; nothing else to clean up
        await km.cleanup_resources()
