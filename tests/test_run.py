"""``labkit run``: lessons executed headless in fresh kernels, progress, summary, clear failures."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit import cli, runner

v4 = nbformat.v4


def _labkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the ``labkit`` command in a subprocess, as a student would."""
    return subprocess.run(
        [sys.executable, "-m", "labkit.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _notebook(path: Path) -> Path:
    """A small lesson-like notebook whose exercise checks report through real CheckResults."""
    cells = [
        v4.new_markdown_cell("# A lesson"),
        v4.new_code_cell("import labkit\nfrom labkit.exercises.core import CheckResult"),
        v4.new_code_cell("CheckResult('q1', 'correct', 'Yes.', 2, 2)"),
        v4.new_code_cell("display(CheckResult('q2', 'not_attempted', 'Replace the ...', 0, 1))"),
    ]
    nbformat.write(v4.new_notebook(cells=cells), path)
    return path


def test_run_one_notebook_prints_progress_and_summary(tmp_path):
    notebook = _notebook(tmp_path / "01_demo.ipynb")
    before = notebook.read_text()
    done = _labkit("run", str(notebook), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "01_demo [" in done.stderr and "3/3 cells" in done.stderr
    header, row = done.stdout.strip().splitlines()
    assert header.split() == ["lesson", "time", "result", "points", "exercises"]
    assert row.startswith("01_demo") and " ok " in row
    assert "2/3" in row and "q1 correct, q2 not attempted" in row
    assert notebook.read_text() == before, "labkit run must not write the notebook back"


def test_lesson_01_runs_with_every_exercise_not_attempted(tmp_path):
    done = _labkit("run", "01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("01_")]
    name, seconds, unit, result, points, *exercises = row.split(maxsplit=5)
    assert (name, unit, result) == ("01_backpropagation", "s", "ok") and float(seconds) > 0
    statuses = exercises[0].split(", ")
    assert statuses and all(s.endswith(" not attempted") for s in statuses), statuses
    assert points.startswith("0/") and float(points[2:]) > 0


def test_broken_copy_of_a_lesson_exits_nonzero_and_names_the_cell(tmp_path):
    (lesson,) = runner.resolve(["01"])
    nb = nbformat.read(lesson, as_version=4)
    nb.cells.insert(3, v4.new_code_cell("ratio = 1.0\nratio / 0"))
    broken = tmp_path / "01_broken.ipynb"
    nbformat.write(nb, broken)
    done = _labkit("run", str(broken), cwd=tmp_path)
    assert done.returncode == 1
    code_before = sum(c.cell_type == "code" for c in nb.cells[:3])
    assert f"code cell {code_before + 1} (notebook cell 4: 'ratio = 1.0') failed" in done.stderr
    assert "ZeroDivisionError: float division by zero" in done.stderr
    assert "FAILED" in done.stdout and "1 of 1 failed: 01_broken" in done.stdout


def test_missing_lesson_is_a_clear_error(capsys):
    assert cli.main(["run", "99"]) == 2
    err = capsys.readouterr().err
    assert "no lesson '99'" in err and "give a number, a name or a notebook path" in err
    assert cli.main(["run", "no/such/notebook.ipynb"]) == 2
    assert "no notebook at no/such/notebook.ipynb" in capsys.readouterr().err


def test_resolve_picks_lessons_by_number_and_name(tmp_path, monkeypatch):
    lessons = tmp_path / "lessons"
    (lessons / "solutions").mkdir(parents=True)
    for folder in (lessons, lessons / "solutions"):
        for name in ("01_backpropagation", "02_vanishing"):
            _notebook(folder / f"{name}.ipynb")
    monkeypatch.setattr(runner, "lessons_dir", lambda: lessons)
    assert runner.resolve(None) == [
        lessons / "01_backpropagation.ipynb",
        lessons / "02_vanishing.ipynb",
    ]
    assert runner.resolve(["02"]) == [lessons / "02_vanishing.ipynb"]
    assert runner.resolve(["01_backpropagation"], solutions=True) == [
        lessons / "solutions" / "01_backpropagation.ipynb"
    ]
    with pytest.raises(runner.LessonNotFound, match="01_backpropagation, 02_vanishing"):
        runner.resolve(["3"])


@pytest.mark.parametrize("tty", [False, True])
def test_progress_bar_counts_cells(tty):
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    stream = Stream()
    bar = runner._Progress("01_demo", 2, stream)
    bar.advance()
    bar.advance()
    bar.close()
    text = stream.getvalue()
    assert ("\r" in text) == tty
    assert text.rstrip().splitlines()[-1].lstrip("\r").startswith("01_demo [" + "#" * 24 + "] 2/2")
