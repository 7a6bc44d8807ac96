"""A Gradescope autograder for one lesson: ``labkit autograder LESSON -o autograder.zip``.

The zip follows Gradescope's autograder specification; at its root:

* ``setup.sh`` — run once, when Gradescope builds the image: installs bubblewrap (apt), makes a
  virtual environment in ``$AUTOGRADER_ROOT/venv`` and installs ``requirements.txt`` (the
  versions of the environment that built the zip, pinned) and labkit's wheel (``--no-deps``);
* ``run_autograder`` — run per submission: ``python -I -m labkit.grading.autograder
  source/autograder.json`` grades ``submission/*.ipynb`` as ``labkit grade`` does (same fresh
  kernel, same sandbox) and writes ``results/results.json``
  (:func:`labkit.grading.report.gradescope`);
* ``requirements.txt``, ``autograder.json`` (lesson, timeout, memory, sandbox mode) and the wheel.

``AUTOGRADER_ROOT`` (default ``/autograder``) moves the whole tree and ``AUTOGRADER_PYTHON`` picks
the Python (default: the one ``setup.sh`` made), so the flow also runs outside Gradescope.

Before the submission runs, a provisional ``results.json`` (score 0, "grading did not finish")
is written; the real one replaces it atomically. A submission that kills the grader (it cannot
reach it from inside the sandbox; it can without one) still leaves a ``results.json``.

Example
-------
>>> build("01", "autograder.zip")  # doctest: +SKIP
PosixPath('autograder.zip')
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from labkit.grading import report, runner, sandbox
from labkit.grading.defaults import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT

__all__ = ["AutograderError", "REQUIREMENTS", "build", "requirements", "resolve_lesson", "run"]

# What grading a lesson imports, pinned at the versions installed where the zip is built. The
# backend is the first of BACKEND that is installed.
REQUIREMENTS = (
    "keras",
    "numpy",
    "matplotlib",
    "ipykernel",
    "jupyter_client",
    "nbclient",
    "nbformat",
)
BACKEND = ("tensorflow-cpu", "tensorflow")
CONFIG = "autograder.json"
UNFINISHED = (
    "The autograder stopped before it finished grading this submission (it was killed, or ran "
    "out of time or memory). Check that your notebook runs top to bottom in a fresh kernel "
    "(Kernel → Restart & Run All), then submit again; if this repeats, tell your instructor."
)
SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (written by `labkit autograder`).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap python3 python3-venv
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q --upgrade pip
"$ROOT/venv/bin/python" -m pip install -q -r "$HERE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install -q --no-deps "$HERE/{wheel}"
"$ROOT/venv/bin/python" -I -c "import labkit.grading.autograder"
"""
RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission (written by `labkit autograder`).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT" && exec "$PYTHON" -I -m labkit.grading.autograder "$ROOT/source/autograder.json"
"""


class AutograderError(RuntimeError):
    """The autograder cannot be built (the message says what to do)."""


def resolve_lesson(text: str) -> str:
    """The lesson name for ``text``: a full name or its number.

    Example
    -------
    >>> resolve_lesson("01")
    '01_backpropagation'
    """
    from labkit.exercises import LESSON_MODULES

    matches = [name for name in LESSON_MODULES if name == text or name.split("_")[0] == text]
    if len(matches) != 1:
        raise AutograderError(
            f"unknown lesson {text!r}; known lessons: {', '.join(LESSON_MODULES)}"
        )
    return matches[0]


def requirements() -> list[str]:
    """``NAME==VERSION`` for each of :data:`REQUIREMENTS` and the backend, as installed here.

    Example
    -------
    >>> requirements()[0].startswith("keras==")  # doctest: +SKIP
    True
    """
    backend = next((n for n in BACKEND if _installed(n)), None)
    if backend is None:
        raise AutograderError(
            "TensorFlow is not installed here, and the autograder pins the versions of this "
            "environment: install it (`pip install -e '.[tf]'`) and build again"
        )
    missing = [n for n in REQUIREMENTS if not _installed(n)]
    if missing:
        raise AutograderError(f"not installed here: {', '.join(missing)}; install them first")
    return [f"{name}=={importlib.metadata.version(name)}" for name in (*REQUIREMENTS, backend)]


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def build(
    lesson: str,
    out: str | os.PathLike,
    *,
    wheel: str | os.PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_gb: float = DEFAULT_MEMORY_GB,
    sandbox_mode: str = "auto",
) -> Path:
    """Write the autograder zip for ``lesson`` (a name or number) to ``out``.

    ``wheel`` is labkit's wheel to ship; by default it is built from the source checkout labkit
    runs from. ``timeout``, ``memory_gb`` and ``sandbox_mode`` are ``labkit grade``'s
    ``--timeout``, ``--memory`` and ``--sandbox``.

    Example
    -------
    >>> build("01", "autograder.zip", sandbox_mode="required")  # doctest: +SKIP
    PosixPath('autograder.zip')
    """
    if sandbox_mode not in sandbox.MODES:
        raise AutograderError(f"sandbox mode must be one of {', '.join(sandbox.MODES)}")
    config = {
        "lesson": resolve_lesson(lesson),
        "timeout": float(timeout),
        "memory_gb": float(memory_gb),
        "sandbox": sandbox_mode,
    }
    pins = requirements()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="labkit-autograder-") as tmp:
        wheel = Path(wheel) if wheel is not None else build_wheel(Path(tmp))
        if not (wheel.is_file() and wheel.name.startswith("backprop_lab-")):
            raise AutograderError(f"{wheel} is not a backprop_lab-*.whl file")
        header = f"# pinned from Python {sys.version.split()[0]} (labkit autograder)\n"
        files = {
            "setup.sh": SETUP_SH.format(wheel=wheel.name),
            "run_autograder": RUN_AUTOGRADER,
            "requirements.txt": header + "\n".join(pins) + "\n",
            CONFIG: json.dumps(config, indent=2) + "\n",
        }
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (
                    0o755 if name in ("setup.sh", "run_autograder") else 0o644
                ) << 16
                z.writestr(info, text, zipfile.ZIP_DEFLATED)
            z.write(wheel, wheel.name)
    return out


def build_wheel(out: Path) -> Path:
    """labkit's wheel, built with its own build backend (hatchling) from the source checkout."""
    import labkit

    tree = Path(labkit.__file__).resolve().parent.parent
    pyproject = tree / "pyproject.toml"
    if not (pyproject.is_file() and 'name = "backprop-lab"' in pyproject.read_text()):
        raise AutograderError(
            f"labkit runs from {tree}, not a source checkout, so there is nothing to build its "
            "wheel from: pass --wheel backprop_lab-VERSION-py3-none-any.whl (`pip wheel --no-deps "
            ".` in a checkout makes one)"
        )
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(tree)]
    if importlib.util.find_spec("hatchling") is not None:  # else pip fetches it to build
        argv.insert(-1, "--no-build-isolation")
    done = subprocess.run(argv, capture_output=True, text=True)
    wheels = list(out.glob("backprop_lab-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise AutograderError(f"building labkit's wheel failed ({said}); pass --wheel FILE")
    return wheels[0]


def run(config_path: str | os.PathLike) -> dict:
    """Grade the submission in ``$AUTOGRADER_ROOT/submission``; write and return results.json.

    Example
    -------
    >>> run("/autograder/source/autograder.json")["score"]  # doctest: +SKIP
    6
    """
    start = time.monotonic()
    config = json.loads(Path(config_path).read_text())
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    _write(results, {"score": 0, "execution_time": 0, "output": UNFINISHED, "tests": []})
    result = _grade(root / "submission", config)
    data = report.gradescope(result)
    data["execution_time"] = round(time.monotonic() - start)
    _write(results, data)
    print(report.table([result]))
    print(f"sandboxed: {result.sandboxed}; results: {results}")
    return data


def _grade(submission: Path, config: dict) -> runner.SubmissionResult:
    from labkit.exercises import lesson_for

    lesson = config["lesson"]

    def failed(message: str) -> runner.SubmissionResult:
        max_score = float(lesson_for(lesson).max_points)
        return runner.SubmissionResult(
            str(submission), lesson, "error", message, max_score=max_score
        )

    try:
        notebooks = runner.find_notebooks([submission])
    except ValueError:
        return failed(
            "No .ipynb file in the submission: upload your notebook (File → Download .ipynb)."
        )
    if len(notebooks) != 1:
        names = ", ".join(str(p.relative_to(submission)) for p in notebooks)
        return failed(
            f"The submission holds {len(notebooks)} notebooks ({names}): submit exactly one."
        )
    try:
        sandboxed, warning = sandbox.choose(config["sandbox"])
    except sandbox.SandboxUnavailable as exc:
        print(f"labkit autograder: {exc}", flush=True)
        return failed(
            "The autograder could not start its sandbox, so it did not run your notebook. "
            "Tell your instructor (the autograder's output says why)."
        )
    if warning:
        print(f"labkit autograder: {warning}", flush=True)
    (result,) = runner.grade_paths(
        notebooks,
        timeout=config["timeout"],
        jobs=1,
        memory_gb=config["memory_gb"],
        sandboxed=sandboxed,
        lesson=lesson,
    )
    return result


def _write(path: Path, data: dict) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m labkit.grading.autograder CONFIG``: what ``run_autograder`` calls."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m labkit.grading.autograder PATH/autograder.json", file=sys.stderr)
        return 2
    run(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
