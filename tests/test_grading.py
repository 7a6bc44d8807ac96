"""``labkit grade``: answers cross as data, cheats earn nothing, faults cost one submission only.

Kernel starts are the cost here, so each test grades a whole folder in one ``labkit grade`` run
with ``--jobs 2``: a synthetic lesson (``tests/fixtures/grading_lesson.py``, no TensorFlow) for the
cheat and fault cases, and lesson 01's real notebooks for full marks, zero and partial marks.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from labkit import cli
from labkit.exercises import LESSON_MODULES, core, lesson_for
from labkit.grading import sandbox, transport

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOLUTION_01 = ROOT / "lessons" / "solutions" / "01_backpropagation.ipynb"
STUDENT_01 = ROOT / "lessons" / "01_backpropagation.ipynb"
HEAD = f"import sys\nsys.path.insert(0, {str(FIXTURES)!r})\nimport grading_lesson as ex"
RIGHT = ["ratio = 1 / 2", "def double(x):\n    return x + x"]
CHECKS = ["ex.q1.check(ratio)", "ex.q2.check(double)"]
CORRECT_OUTPUT = nbformat.v4.new_output(
    "execute_result", data={"text/plain": "✓ q1 correct (1/1): Correct."}, execution_count=1
)


@pytest.fixture
def fixture_lesson(monkeypatch):
    """Register the synthetic lesson with the grader here (kernels import it by path)."""
    spec = importlib.util.spec_from_file_location("grading_lesson", FIXTURES / "grading_lesson.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "labkit.exercises.lesson90", module)
    monkeypatch.setitem(LESSON_MODULES, module.NAME, "lesson90")
    return module.LESSON


def _write(folder: Path, name: str, *cells: str, lesson: str = "90_grading_fixture") -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (HEAD, *cells)])
    nb.metadata["labkit"] = {"lesson": lesson}
    path = folder / name
    nbformat.write(nb, path)
    return path


def _grade(capsys, *args: str) -> tuple[int, dict, list, str]:
    """Run ``labkit grade`` in-process; (exit code, JSON by file name, CSV rows, stdout)."""
    out = Path(args[0]).parent if Path(args[0]).is_file() else Path(args[0])
    json_path, csv_path = out.parent / f"{out.name}.json", out.parent / f"{out.name}.csv"
    saved = out.parent / f"{out.name}.jsonl"
    code = cli.main(
        ["grade", *args, "--json", str(json_path), "--csv", str(csv_path), "--results", str(saved)]
    )
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert sorted(s["file"] for s in lines) == sorted(
        s["file"] for s in json.loads(json_path.read_text())
    )
    report = {Path(s["file"]).name: s for s in json.loads(json_path.read_text())}
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    return code, report, rows, capsys.readouterr().out


def _assert_reports_agree(report: dict, rows: list) -> None:
    assert sorted(Path(r["file"]).name for r in rows) == sorted(report)
    for row in rows:
        sub = report[Path(row["file"]).name]
        assert row["lesson"] == (sub["lesson"] or "")
        if sub["status"] == "error":
            assert row["score"] == ""
            continue
        assert float(row["score"]) == sub["score"] == sum(e["points"] for e in sub["exercises"])
        assert float(row["max_score"]) == sub["max_score"]
        assert float(row["percent"]) == pytest.approx(100 * sub["score"] / sub["max_score"], 0.01)
        for e in sub["exercises"]:
            assert float(row[e["id"]]) == e["points"]


def _statuses(sub: dict) -> dict:
    return {e["id"]: e["status"] for e in sub["exercises"]}


def test_cheats_earn_nothing_and_faults_cost_one_submission(tmp_path, capsys, fixture_lesson):
    folder = tmp_path / "class"
    folder.mkdir()
    _write(folder, "right.ipynb", *RIGHT, *CHECKS)
    _write(folder, "untouched.ipynb", "ratio = ...", "def double(x):\n    ...", *CHECKS)
    _write(folder, "no_check_cells.ipynb", *RIGHT)
    _write(folder, "wrong_q2.ipynb", RIGHT[0], "def double(x):\n    return x * x", *CHECKS)
    _write(
        folder,
        "patched_checkers.ipynb",
        "ratio = 0.3\ndef double(x):\n    return x",
        "ex.q1.check = lambda a: True\nex.q2.grade = lambda data: None",
        "import labkit.exercises.core as c\n"
        "c.ValueExercise.grade = lambda self, data: c.CheckResult(self.id, 'correct', '', 9, 9)\n"
        "c.to_data = lambda value: 0.5\n"
        "c.FunctionExercise.collect = lambda self, a, inputs=None: [2 * x for (x,) in inputs]",
        "print('✓ q1 correct (1/1): Correct.')\nprint('Correct')",
    )
    _write(
        folder,
        "always_equal.ipynb",
        "class Yes(float):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = float.__hash__\n\nratio = Yes(0.3)",
        "class Everything:\n    def __eq__(self, other):\n        return True\n"
        "    def __array__(self, *a, **k):\n        raise TypeError\n\n"
        "def double(x):\n    return Everything()",
    )
    pasted = _write(folder, "pasted_outputs.ipynb", "ratio = 0.3", *CHECKS)
    nb = nbformat.read(pasted, as_version=4)
    nb.cells[2].outputs = [CORRECT_OUTPUT]
    nbformat.write(nb, pasted)
    _write(folder, "exits.ipynb", RIGHT[0], "import os\nos._exit(1)", RIGHT[1])
    _write(folder, "hangs.ipynb", RIGHT[0], "while True:\n    pass", RIGHT[1])
    _write(
        folder,
        "hogs_memory.ipynb",
        RIGHT[0],
        "hog = []\nwhile True:\n    hog.append(bytearray(10**8))",
        RIGHT[1],
    )
    (folder / "not_json.ipynb").write_text("this is not a notebook {")
    _write(folder, "unknown_lesson.ipynb", *RIGHT, lesson="77_no_such_lesson")

    code, report, rows, table = _grade(
        capsys, str(folder), "--jobs", "2", "--timeout", "3", "--memory", "1"
    )

    assert code == 1  # two submissions could not be graded; all others were
    assert len(report) == 12
    for name in ("right", "no_check_cells", "exits", "hangs", "hogs_memory"):
        sub = report[f"{name}.ipynb"]
        assert (sub["status"], sub["score"], sub["max_score"]) == ("graded", 3, 3), name
    assert set(_statuses(report["untouched.ipynb"]).values()) == {"not_attempted"}
    assert report["untouched.ipynb"]["score"] == 0
    assert report["wrong_q2.ipynb"]["score"] == 1
    assert _statuses(report["wrong_q2.ipynb"]) == {"q1": "correct", "q2": "incorrect"}
    for name in ("patched_checkers", "always_equal", "pasted_outputs"):
        assert report[f"{name}.ipynb"]["score"] == 0, name
    assert "not_attempted" not in _statuses(report["always_equal.ipynb"]).values()
    assert "killed the kernel" in " ".join(report["exits.ipynb"]["notes"])
    assert "ran past 3 s" in " ".join(report["hangs.ipynb"]["notes"])
    assert "MemoryError" in " ".join(report["hogs_memory.ipynb"]["notes"])
    for name, reason in (("not_json", "not a readable notebook"), ("unknown_lesson", "unknown")):
        sub = report[f"{name}.ipynb"]
        assert sub["status"] == "error" and reason in sub["error"] and sub["exercises"] == []
    _assert_reports_agree(report, rows)
    assert "not_json.ipynb: ERROR" in table and "right.ipynb" in table


def test_gradescope_report_and_usage_errors(tmp_path, capsys, fixture_lesson):
    one = _write(tmp_path, "student.ipynb", RIGHT[0], "def double(x):\n    return x")
    other = _write(tmp_path, "other.ipynb", *RIGHT)
    results = tmp_path / "results.json"
    code, report, rows, _ = _grade(capsys, str(one), "--gradescope", str(results))
    assert code == 0
    gradescope = json.loads(results.read_text())
    sub = report["student.ipynb"]
    assert gradescope["score"] == sub["score"] == float(rows[0]["score"]) == 1
    assert [(t["name"], t["score"], t["max_score"]) for t in gradescope["tests"]] == [
        (e["id"], e["points"], e["max_points"]) for e in sub["exercises"]
    ]
    assert [t["status"] for t in gradescope["tests"]] == ["passed", "failed"]
    assert [(t["number"], t["visibility"]) for t in gradescope["tests"]] == [
        ("1", "visible"),
        ("2", "visible"),
    ]
    assert gradescope["execution_time"] >= 0 and sub["seconds"] > 0
    assert sub["sandboxed"] is (sandbox.probe() is None)  # --sandbox auto
    assert cli.main(["grade", str(one), str(other), "--gradescope", str(results)]) == 2
    assert cli.main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    with pytest.raises(SystemExit) as usage:
        cli.main(["grade", str(one), "--jobs", "0"])
    assert usage.value.code == 2


def test_lesson01_solution_full_student_zero_partial_exact(tmp_path, capsys):
    lesson = lesson_for("01_backpropagation")
    folder = tmp_path / "lesson01"
    folder.mkdir()
    solution = nbformat.read(SOLUTION_01, as_version=4)
    nbformat.write(solution, folder / "solution.ipynb")
    nbformat.write(nbformat.read(STUDENT_01, as_version=4), folder / "student.ipynb")
    broken = next(e for e in lesson if e.kind == "value")
    partial = nbformat.read(SOLUTION_01, as_version=4)
    for cell in partial.cells:
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(
                f"{broken.answer} = -1.0" if line.startswith(f"{broken.answer} =") else line
                for line in lines
            )
    nbformat.write(partial, folder / "partial.ipynb")
    # the student version's code with every output of the solution notebook pasted in
    pasted = nbformat.read(STUDENT_01, as_version=4)
    for cell, solved in zip(pasted.cells, solution.cells):
        if cell.cell_type == "code":
            cell.outputs = solved.outputs
    nbformat.write(pasted, folder / "pasted_outputs.ipynb")

    code, report, rows, _ = _grade(capsys, str(folder), "--jobs", "2")

    assert code == 0
    assert report["solution.ipynb"]["score"] == lesson.max_points
    assert set(_statuses(report["solution.ipynb"]).values()) == {"correct"}
    for name in ("student.ipynb", "pasted_outputs.ipynb"):
        assert report[name]["score"] == 0
        assert set(_statuses(report[name]).values()) == {"not_attempted"}
    assert report["partial.ipynb"]["score"] == lesson.max_points - broken.points
    assert _statuses(report["partial.ipynb"])[broken.id] == "incorrect"
    _assert_reports_agree(report, rows)


def test_transport_round_trip_and_refuses_what_is_not_data(tmp_path):
    data = {
        "x": np.arange(6.0).reshape(2, 3),
        "mask": np.array([True, False]),
        "items": [1, 2.5, float("nan"), None, "s", True, core.NOT_ATTEMPTED],
        "failed": core.CallFailed("raised", "ZeroDivisionError: division by zero"),
        "odd": core.Unsupported("Yes"),
    }
    transport.pack(data, tmp_path, "a", core)
    back = transport.unpack(tmp_path, "a", core)
    np.testing.assert_array_equal(back["x"], data["x"])
    assert back["mask"].dtype == bool and back["items"][6] is core.NOT_ATTEMPTED
    assert back["items"][:2] == [1, 2.5] and np.isnan(back["items"][2])
    assert back["failed"] == data["failed"] and back["odd"] == data["odd"]
    with pytest.raises(transport.TransportError, match="not answer data"):
        transport.pack({"f": print}, tmp_path, "b", core)
    # an object array would need pickle: refused, never unpickled
    (tmp_path / "c.json").write_text(json.dumps({"$array": 0}))
    np.savez(tmp_path / "c.npz", a0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(transport.TransportError, match="unreadable arrays"):
        transport.unpack(tmp_path, "c", core)
    # a function reference is accepted only for grader-chosen inputs
    ref = transport.FunctionRef("numpy", "sum")
    transport.pack([ref], tmp_path, "d", core)
    assert transport.unpack(tmp_path, "d", core, functions=True) == [np.sum]
    with pytest.raises(transport.TransportError, match="malformed"):
        transport.unpack(tmp_path, "d", core)


def test_shards_split_the_class_and_merge_combines_them(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(5):  # unreadable notebooks: graded as errors without starting a kernel
        (folder / f"s{i}.ipynb").write_text("not a notebook")
    parts = []
    for k in (0, 1):
        part = tmp_path / f"part{k}.json"
        args = ["grade", str(folder), "--shard", f"{k}/2", "--json", str(part)]
        assert cli.main([*args, "--results", str(tmp_path / f"part{k}.jsonl")]) == 1
        parts.append({Path(s["file"]).name for s in json.loads(part.read_text())})
    assert parts == [{"s0.ipynb", "s2.ipynb", "s4.ipynb"}, {"s1.ipynb", "s3.ipynb"}]
    merged, gradebook = tmp_path / "all.json", tmp_path / "all.csv"
    code = cli.main(
        ["grade", "merge", str(tmp_path / "part0.json"), str(tmp_path / "part1.jsonl")]
        + ["--json", str(merged), "--csv", str(gradebook)]
    )
    assert code == 1  # the merged class still has submissions that could not be graded
    assert sorted(Path(s["file"]).name for s in json.loads(merged.read_text())) == [
        f"s{i}.ipynb" for i in range(5)
    ]
    assert len(list(csv.DictReader(io.StringIO(gradebook.read_text())))) == 5
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    assert cli._shard("3") == (1, 3)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")  # Kubernetes first; K/N given wins over both
    assert cli._shard("3") == (2, 3) and cli._shard("0/3") == (0, 3)
    for wrong in ("3/3", "x/2", "-1/2"):
        with pytest.raises(argparse.ArgumentTypeError, match="0 <= K < N|expected K/N"):
            cli._shard(wrong)
    assert cli.main(["grade", "merge", str(folder / "s0.ipynb")]) == 2
    assert "is not a report" in capsys.readouterr().err


def test_the_command_line_offers_the_grader_defaults_without_loading_the_grader():
    code = (
        "import sys; from labkit import cli; a = cli.parser().parse_args(['grade', 'x.ipynb']); "
        "print(a.timeout, a.memory, *(m in sys.modules for m in ('labkit.grading.runner', "
        "'nbclient')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from labkit.grading.runner import grade_paths

    defaults = inspect.signature(grade_paths).parameters
    expected = [str(defaults["timeout"].default), str(defaults["memory_gb"].default)]
    assert run.stdout.split() == [*expected, "False", "False"]
