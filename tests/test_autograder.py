"""``labkit autograder``: the Gradescope zip, run the way Gradescope runs it, in a temporary root.

The zip is built once and unpacked per submission into its own ``AUTOGRADER_ROOT`` (``source/``
holds the zip, ``run_autograder`` is copied beside it, ``submission/`` holds the notebook), then
``run_autograder`` runs with ``AUTOGRADER_PYTHON`` set to this environment's Python instead of
the virtual environment ``setup.sh`` would make (``setup.sh`` is checked for what it installs,
the wheel for installing and importing on its own). Four submissions run at once: lesson 01's
solution, a wrong one, a malicious one (forges results.json, reads the grader's files, kills its
parent) and one that kills its parent where bubblewrap is missing. Only the solution imports
TensorFlow in its kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from labkit import cli
from labkit.exercises import lesson_for
from labkit.grading import autograder, sandbox

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_01 = ROOT / "lessons" / "solutions" / "01_backpropagation.ipynb"
LESSON = lesson_for("01_backpropagation")
SANDBOX = sys.platform == "linux" and sandbox.probe() is None
# Gradescope's results.json: the fields its specification allows, at the top and per test
TOP = {"score", "execution_time", "output", "visibility", "stdout_visibility", "extra_data"}
TOP |= {"tests", "leaderboard", "output_format", "test_output_format", "test_name_format"}
TEST = {"score", "max_score", "status", "name", "name_format", "number", "output"}
TEST |= {"output_format", "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
RIGHT_Q2_Q4 = [
    "import numpy as np\n\n"
    "def numerical_gradient(f, x, eps=1e-5):\n"
    "    grad = np.zeros_like(x, dtype=float)\n"
    "    for i in np.ndindex(x.shape):\n"
    "        a, b = x.copy(), x.copy()\n"
    "        a[i] += eps\n"
    "        b[i] -= eps\n"
    "        grad[i] = (f(a) - f(b)) / (2 * eps)\n"
    "    return grad",
    "n_evals = 2 * (784 * 100 + 100 + 100 * 10 + 10)",
]
WRONG = [
    "def backward(params, X, y):\n    return {name: 0 * value for name, value in params.items()}",
    "def numerical_gradient(f, x, eps=1e-5):\n    return 0 * x",
    "def predicted_change(params, X, y, learning_rate):\n    return 0.0",
    "n_evals = 784 * 100 + 100 + 100 * 10 + 10",
]
# Reports as its cell error what it managed: forging results.json, reading the grader's config
ATTACK = """\
import json
done = []
try:
    with open({results!r}, "w") as f:
        json.dump({{"score": 1000, "tests": []}}, f)
    done.append("FORGED")
except OSError as exc:
    done.append(type(exc).__name__)
try:
    done.append("READ:" + open({config!r}).read())
except OSError as exc:
    done.append(type(exc).__name__)
raise RuntimeError("ATTACK " + " ".join(done))
"""
KILL_PARENT = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"


def _notebook(path: Path, cells: list[str], lesson: str = LESSON.name) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["labkit"] = {"lesson": lesson}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    assert cli.main(["autograder", "01", "-o", str(out), "--timeout", "60"]) == 0
    return out


def _unpack(built: Path, root: Path) -> Path:
    """``root`` laid out as Gradescope lays out ``/autograder``."""
    with zipfile.ZipFile(built) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory) -> dict:
    """Each submission run through ``run_autograder``: (exit code, results.json, stdout)."""
    base = tmp_path_factory.mktemp("autograder")
    roots = {name: _unpack(built, base / name) for name in ("solution", "wrong", "killer")}
    shutil.copy(SOLUTION_01, roots["solution"] / "submission" / "01_backpropagation.ipynb")
    # submitted to lesson 01's assignment, though its metadata names lesson 02
    _notebook(roots["wrong"] / "submission" / "student.ipynb", WRONG, "02_vanishing_gradients")
    _notebook(roots["killer"] / "submission" / "student.ipynb", [KILL_PARENT, *RIGHT_Q2_Q4])
    # the killer without bubblewrap on PATH; its killed grader cannot remove its work folder
    (base / "no-bwrap").mkdir()
    (base / "tmp").mkdir()
    extra = {"killer": {"PATH": str(base / "no-bwrap"), "TMPDIR": str(base / "tmp")}}
    if SANDBOX:
        roots["malicious"] = root = _unpack(built, base / "malicious")
        attack = ATTACK.format(
            results=str(root / "results" / "results.json"),
            config=str(root / "source" / "autograder.json"),
        )
        cells = [attack, *RIGHT_Q2_Q4, KILL_PARENT]
        _notebook(root / "submission" / "student.ipynb", cells)
    running = {}
    for name, root in roots.items():
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
        env.update(extra.get(name, {}))
        running[name] = subprocess.Popen(
            [shutil.which("bash"), str(root / "run_autograder")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    done = {}
    for name, process in running.items():
        stdout, _ = process.communicate(timeout=600)
        results = roots[name] / "results" / "results.json"
        done[name] = (process.returncode, json.loads(results.read_text()), stdout)
    return done


def _assert_valid(results: dict) -> None:
    """``results`` follows Gradescope's results.json specification (as labkit writes it)."""
    assert set(results) <= TOP and {"score", "execution_time", "output", "tests"} <= set(results)
    assert isinstance(results["score"], int | float) and isinstance(results["output"], str)
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    for number, test in enumerate(results["tests"], start=1):
        assert set(test) <= TEST, test
        assert isinstance(test["name"], str) and test["number"] == str(number)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert isinstance(test["output"], str) and test["visibility"] in VISIBILITY
    if results["tests"]:
        assert results["score"] == sum(t["score"] for t in results["tests"])


def _statuses(results: dict) -> list[str]:
    return [t["output"].split(":")[0] for t in results["tests"]]


def test_zip_holds_setup_run_autograder_pinned_requirements_and_the_wheel(built, tmp_path):
    with zipfile.ZipFile(built) as z:
        infos = {i.filename: i for i in z.infolist()}
        (wheel,) = [n for n in infos if n.startswith("backprop_lab-") and n.endswith(".whl")]
        assert set(infos) == {
            "setup.sh",
            "run_autograder",
            "requirements.txt",
            "autograder.json",
        } | {wheel}
        for script in ("setup.sh", "run_autograder"):
            assert infos[script].external_attr >> 16 & 0o111, f"{script} must be executable"
        setup = z.read("setup.sh").decode()
        pins = [p for p in z.read("requirements.txt").decode().splitlines() if p[:1] != "#"]
        config = json.loads(z.read("autograder.json"))
        z.extract(wheel, tmp_path)
    assert pins == autograder.requirements()
    assert {p.split("==")[0] for p in pins} >= {"keras", "numpy", "ipykernel", "nbclient"}
    assert all("==" in p for p in pins) and any(p.startswith("tensorflow") for p in pins)
    for line in (
        "apt-get install -y -qq bubblewrap python3 python3-venv",
        'python3 -m venv "$ROOT/venv"',
        '"$ROOT/venv/bin/python" -m pip install -q -r "$HERE/requirements.txt"',
        f'"$ROOT/venv/bin/python" -m pip install -q --no-deps "$HERE/{wheel}"',
    ):
        assert line in setup.splitlines(), line
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0
    assert config == {"lesson": LESSON.name, "timeout": 60.0, "memory_gb": 8.0, "sandbox": "auto"}
    # the wheel installs alone and its labkit (not this checkout's) imports the autograder
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(tmp_path / wheel)], check=True, capture_output=True, timeout=300)
    code = f"import sys; sys.path.insert(0, {str(target)!r}); import labkit.grading.autograder as a"
    code += "; print(a.__file__)"
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(target)


def test_the_solution_gets_full_marks(graded):
    code, results, stdout = graded["solution"]
    assert code == 0, stdout
    _assert_valid(results)
    assert results["score"] == LESSON.max_points
    assert [t["name"] for t in results["tests"]] == [e.id for e in LESSON]
    assert set(_statuses(results)) == {"correct"}
    assert f"sandboxed: {SANDBOX}" in stdout


def test_a_wrong_submission_gets_zero_each_answer_judged_as_the_zips_lesson(graded):
    code, results, stdout = graded["wrong"]
    assert code == 0, stdout
    _assert_valid(results)
    assert results["score"] == 0
    assert set(_statuses(results)) == {"incorrect"}
    assert [t["max_score"] for t in results["tests"]] == [e.points for e in LESSON]
    note = "this notebook is lesson 02_vanishing_gradients; graded as lesson 01_backpropagation"
    assert results["output"] == note


@pytest.mark.skipif(not SANDBOX, reason=f"no working bubblewrap here: {sandbox.probe()}")
def test_a_malicious_submission_cannot_forge_read_or_kill_the_grader(graded):
    code, results, stdout = graded["malicious"]
    assert code == 0, stdout
    _assert_valid(results)
    assert results["score"] == 3  # q2 and q4 answered right; the forged 1000 never counts
    assert _statuses(results) == ["not attempted", "correct", "not attempted", "correct"]
    assert (
        "cell 1 raised RuntimeError: ATTACK FileNotFoundError FileNotFoundError"
        in (results["output"])
    )
    assert "sandboxed: True" in stdout


def test_killing_the_grader_without_a_sandbox_still_leaves_a_results_json(graded):
    code, results, stdout = graded["killer"]
    assert code == -9 or code == 128 + 9, stdout  # the grader was killed ...
    assert "WARNING: grading WITHOUT a sandbox" in stdout
    _assert_valid(results)  # ... and its provisional results.json stands
    assert (results["score"], results["tests"]) == (0, [])
    assert results["output"] == autograder.UNFINISHED


def test_no_notebook_two_notebooks_or_no_sandbox_are_explained(built, tmp_path, monkeypatch):
    root = _unpack(built, tmp_path / "root")
    monkeypatch.setenv("AUTOGRADER_ROOT", str(root))
    config = root / "source" / "autograder.json"
    outputs = []
    for names in ([], ["a.ipynb", "b.ipynb"]):
        for name in names:
            _notebook(root / "submission" / name, ["n_evals = 1"])
        outputs.append(autograder.run(config))
    (root / "submission" / "b.ipynb").unlink()
    required = root / "source" / "required.json"
    required.write_text(json.dumps({**json.loads(config.read_text()), "sandbox": "required"}))
    monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap (`bwrap`) is not installed")
    outputs.append(autograder.run(required))  # fails before any kernel starts
    assert outputs[-1] == json.loads((root / "results" / "results.json").read_text())
    for results in outputs:
        _assert_valid(results)
        assert (results["score"], results["tests"]) == (0, [])
    no_notebook, two, no_sandbox = (r["output"] for r in outputs)
    assert no_notebook.startswith("No .ipynb file in the submission: upload your notebook")
    assert two == "The submission holds 2 notebooks (a.ipynb, b.ipynb): submit exactly one."
    assert no_sandbox.startswith("The autograder could not start its sandbox")


def test_usage_errors_say_what_to_do(tmp_path, capsys):
    assert cli.main(["autograder", "99", "-o", str(tmp_path / "a.zip")]) == 2
    assert "unknown lesson '99'; known lessons: 01_backpropagation" in capsys.readouterr().err
    not_a_wheel = tmp_path / "labkit.whl"
    not_a_wheel.write_text("")
    assert (
        cli.main(["autograder", "01", "-o", str(tmp_path / "a.zip"), "--wheel", str(not_a_wheel)])
        == 2
    )
    assert "is not a backprop_lab-*.whl file" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()
