"""The grading sandbox, attacked: each attack class observed from outside the sandbox.

One ``labkit grade --sandbox required`` run (a subprocess, so a kernel that kills its parent
would kill that grader, not pytest) grades a class of attack notebooks
(``tests/fixtures/attacks/*.py``, cells split at ``# %%``, ``@name@`` filled in here) beside an
honest classmate; each test then checks one attack class by its effects: files read or written,
a loopback listener, processes left in ``/proc``, the grader's fake token, the report itself.
The fixture lesson (``tests/fixtures/grading_lesson.py``) needs no TensorFlow: kernels start
fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

import labkit
from labkit._setup import KERNEL_ENV
from labkit.grading import cgroup, runner, sandbox

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ATTACKS = FIXTURES / "attacks"
LESSON = "90_grading_fixture"
RIGHT = ["ratio = 1 / 2", "def double(x):\n    return x + x"]
# The grader as a subprocess, with the fixture lesson registered (argv: lesson file, CLI args).
BOOT = """\
import importlib.util, sys
from labkit import cli
from labkit.exercises import LESSON_MODULES
spec = importlib.util.spec_from_file_location("grading_lesson", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.modules["labkit.exercises.lesson90"] = module
LESSON_MODULES[module.NAME] = "lesson90"
sys.exit(cli.main(sys.argv[2:]))
"""
# What ipykernel (and bubblewrap: PWD) set inside themselves, whatever the grader's values
IPYKERNEL_SETS = {"CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "GIT_PAGER", "PAGER", "TERM"}
IPYKERNEL_SETS |= {"MPLBACKEND", "PYDEVD_USE_FRAME_EVAL", "PWD"}
KILLS = ("kill_parent", "kill_group", "kill_everything")
# Linux exempts root from RLIMIT_NPROC; a pids cgroup per kernel then limits processes instead
PROCESSES_LIMITED = os.geteuid() != 0 or cgroup.parent() is not None
needs_bwrap = pytest.mark.skipif(
    sys.platform != "linux" or sandbox.probe() is not None,
    reason=f"no working bubblewrap here: {sandbox.probe()}",
)


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["labkit"] = {"lesson": LESSON}
    nbformat.write(nb, path)
    return path


def _attack(name: str, folder: Path, values: dict[str, str]) -> Path:
    """``attacks/NAME.py`` as a notebook in ``folder``, each ``@key@`` replaced by its value."""
    text = (ATTACKS / f"{name}.py").read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    cells = [c.strip() for c in text.split("\n# %%\n")[1:]]
    return _notebook(folder / f"{name}.ipynb", cells)


def _grader(*args: str, env: dict | None = None) -> subprocess.Popen:
    """``labkit grade ARGS`` in a subprocess (the table discarded, progress on ``stderr``)."""
    argv = [sys.executable, "-c", BOOT, str(FIXTURES / "grading_lesson.py"), "grade", *args]
    return subprocess.Popen(
        argv,
        env={**os.environ, **(env or {})},
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _processes_with(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


class _Listener:
    """A loopback TCP server counting the connections it accepts."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Grade the attack class once; what each test needs to look at afterwards."""
    root = tmp_path_factory.mktemp("attacked")
    submissions, grader = root / "class", root / "grader"
    submissions.mkdir()
    grader.mkdir()
    key = uuid.uuid4().hex
    secret = grader / "secret.txt"
    secret.write_text(f"grader-secret-{key}")
    tmp_secret = Path(tempfile.gettempdir(), f"labkit-test-{key}-secret")
    tmp_secret.write_text(f"tmp-secret-{key}")
    tmp_written = Path(tempfile.gettempdir(), f"labkit-test-{key}-written")
    labkit_dir = Path(labkit.__file__).resolve().parent
    classmate = _notebook(submissions / "classmate.ipynb", RIGHT)
    listener = _Listener()
    token, tag = f"fake-token-{key}", f"labkit-attack-{key}"
    values = {
        "classmate": str(classmate),
        "submissions": str(submissions),
        "secret": str(secret),
        "grader_tmp_secret": str(tmp_secret),
        "grader_tmp_written": str(tmp_written),
        "labkit": str(labkit_dir),
        "port": str(listener.port),
        "token": token,
        "tag": tag,
        "tmp": tempfile.gettempdir(),
    }
    for attack in sorted(p.stem for p in ATTACKS.glob("*.py")):
        _attack(attack, submissions, values)
    before = _digests(submissions)
    report_path = root / "report.json"
    grading = _grader(
        str(submissions),
        *("--sandbox", "required", "--jobs", "2", "--timeout", "10"),
        *("--json", str(report_path), "--results", str(root / "results.jsonl")),
        env={"LABKIT_FAKE_TOKEN": token},
    )
    _, stderr = grading.communicate(timeout=600)
    listener.close()
    leftovers = _processes_with(tag)
    result = {
        "code": grading.returncode,
        "stderr": stderr,
        "report": {Path(s["file"]).stem: s for s in json.loads(report_path.read_text())},
        "report_text": report_path.read_text() + stderr,
        "before": before,
        "after": _digests(submissions),
        "values": values,
        "listener": listener,
        "leftovers": leftovers,
        "planted": [p for p in (labkit_dir / "_planted.py", tmp_written) if p.exists()],
    }
    yield result
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    for path in [tmp_secret, *result["planted"]]:
        path.unlink()


def _attack_note(sub: dict) -> str:
    return next(n for n in sub["notes"] if "ATTACK" in n)


@needs_bwrap
def test_every_submission_graded_in_the_sandbox(attacked):
    report = attacked["report"]
    assert attacked["code"] == 0, attacked["stderr"]
    assert sorted(report) == sorted(["classmate", *(p.stem for p in ATTACKS.glob("*.py"))])
    for name, sub in report.items():
        assert (sub["status"], sub["score"], sub["sandboxed"]) == ("graded", 3, True), name
        assert sub["seconds"] > 0


@needs_bwrap
def test_reading_a_classmate_or_the_grader_finds_nothing(attacked):
    note = _attack_note(attacked["report"]["read_files"])
    assert note.endswith("ATTACK " + " ".join(["FileNotFoundError"] * 4)), note
    values = attacked["values"]
    for secret in (Path(values["secret"]), Path(values["grader_tmp_secret"])):
        assert secret.read_text() not in attacked["report_text"]


@needs_bwrap
def test_writing_outside_the_scratch_directory_changes_nothing(attacked):
    note = _attack_note(attacked["report"]["write_files"])
    *outside, private_tmp, core_py = note.split("ATTACK ")[1].split()
    assert "WROTE" not in outside and core_py == "OSError", note  # read-only or not there
    assert private_tmp == "WROTE"  # into the sandbox's own /tmp, which is not the grader's:
    assert attacked["planted"] == []  # nothing in the installed labkit or the grader's /tmp
    assert attacked["after"] == attacked["before"]  # no file planted, the classmate untouched


@needs_bwrap
def test_no_network_not_even_the_graders_loopback(attacked):
    note = _attack_note(attacked["report"]["network"])
    assert "CONNECTED" not in note and "RESOLVED" not in note, note
    assert attacked["listener"].connections == 0


@needs_bwrap
def test_no_process_outlives_its_submission(attacked):
    assert "ATTACK started" in _attack_note(attacked["report"]["leave_process"])
    assert attacked["leftovers"] == []


@needs_bwrap
def test_the_graders_environment_stays_outside(attacked):
    token = attacked["values"]["token"]
    note = _attack_note(attacked["report"]["environment"])
    seen, rest = note.split("ATTACK seen=")[1].split(" missing=")
    missing, names = rest.split(" names=")
    assert seen == "" and token not in note, note
    assert missing == "", f"the kernel lacks {missing} of KERNEL_ENV"
    passed = {*sandbox.PASSED_ENV, "HOME", *KERNEL_ENV, *IPYKERNEL_SETS}
    assert set(names.split(",")) & ({*os.environ, "LABKIT_FAKE_TOKEN"} - passed) == set()
    assert token not in attacked["report_text"]


@needs_bwrap
def test_killing_the_parent_group_or_everything_costs_nothing(attacked):
    for name in KILLS:
        sub = attacked["report"][name]
        assert "refusing" not in " ".join(sub["notes"]), sub["notes"]
        assert sub["score"] == 3, (name, sub["notes"])
    assert attacked["report"]["classmate"]["score"] == 3


@needs_bwrap
def test_a_grader_crash_keeps_finished_results_and_resume_grades_the_rest(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a", "b", "c"):
        _notebook(folder / f"{name}.ipynb", RIGHT)
    results = tmp_path / "results.jsonl"
    args = (str(folder), "--jobs", "1", "--results", str(results))
    # the killed grader cannot remove its work folder: keep it in this test's folder, under a
    # name long enough that the kernel's IPC sockets (at most 107 bytes a path) cannot live there
    long_tmp = tmp_path / ("tmp-" + "x" * 80)
    long_tmp.mkdir()
    crashing = _grader(*args, env={"TMPDIR": str(long_tmp)})
    while not results.exists() or not results.read_text().count("\n"):
        assert crashing.poll() is None, crashing.stderr.read()
        time.sleep(0.05)
    crashing.kill()
    crashing.wait()
    kept = results.read_text().count("\n")
    assert 1 <= kept < 3
    resumed = _grader(*args, "--resume", "--json", str(tmp_path / "report.json"))
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"--resume: {kept} of 3 already graded" in stderr
    assert f"[{3 - kept}/{3 - kept}]" in stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(Path(s["file"]).name, s["score"]) for s in report] == [
        ("a.ipynb", 3),
        ("b.ipynb", 3),
        ("c.ipynb", 3),
    ]


def test_sandbox_modes_without_bubblewrap(tmp_path):
    student = _notebook(tmp_path / "student.ipynb", RIGHT)
    no_bwrap = {"PATH": str(tmp_path)}
    required = _grader(str(student), "--sandbox", "required", env=no_bwrap)
    _, stderr = required.communicate(timeout=120)
    assert required.returncode == 2
    assert "bubblewrap" in stderr and "apt-get install bubblewrap" in stderr
    report = tmp_path / "report.json"
    auto = _grader(
        str(student),
        *("--results", str(tmp_path / "r.jsonl"), "--json", str(report)),
        env=no_bwrap,
    )
    _, stderr = auto.communicate(timeout=120)
    assert auto.returncode == 0, stderr
    assert stderr.count("WARNING: grading WITHOUT a sandbox") == 1
    assert "kill the grader" in stderr
    (sub,) = json.loads(report.read_text())
    assert (sub["score"], sub["sandboxed"]) == (3, False)


@needs_bwrap
def test_thread_and_fork_bombs_meet_the_process_limit_and_tmp_is_capped(attacked):
    note = _attack_note(attacked["report"]["exhaust_limits"])
    started, limits = note.split("ATTACK started=")[1].split(" limits=")
    limits, tmp = limits.split(" tmp=")
    assert limits == f"[{runner.MAX_PROCESSES}, {runner.MAX_FILE_BYTES}]", note
    if sandbox._tmp_size(shutil.which("bwrap")):  # where bubblewrap has --size
        assert int(tmp) == sandbox.TMP_BYTES, note
    forked = int(_attack_note(attacked["report"]["fork_bomb"]).split("ATTACK forked=")[1])
    if not PROCESSES_LIMITED:  # root without a writable pids cgroup: only the memory cap holds
        assert int(started) < 2000, note
        pytest.xfail(f"as root without a pids cgroup a fork bomb is not limited ({forked} forks)")
    assert int(started) < runner.MAX_PROCESSES, note
    assert 0 < forked < runner.MAX_PROCESSES  # stopped by the limit, well before the attack's cap


@needs_bwrap
def test_the_graders_plan_is_read_only_inside(attacked):
    note = _attack_note(attacked["report"]["write_plan"])
    assert note.endswith("ATTACK OSError"), note  # found, and refused (read-only)
    assert attacked["report"]["write_plan"]["score"] == 3
