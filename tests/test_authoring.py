"""Lesson sources → notebooks: markers, determinism, and notebooks in sync with their sources."""

from pathlib import Path

import nbformat
import pytest

from labkit.authoring import (
    MarkerError,
    execute,
    keep_solutions,
    lesson_sources,
    out_of_sync,
    render,
    strip_solutions,
)

SOURCE = """# %% [markdown]
# # Lesson 99 — Demo

# %%
import numpy as np

# %%
def double(x):
    # BEGIN SOLUTION
    y = 2 * x
    return y
    # END SOLUTION


ratio = 1 / 4  # SOLUTION
print(round(float(np.sum(np.arange(4))), 2), double(2), ratio)
"""


def test_block_and_one_line_markers():
    code = SOURCE.split("# %%\n")[-1]
    student = strip_solutions(code)
    assert "    ...  # YOUR CODE HERE" in student
    assert "ratio = ...  # YOUR CODE HERE" in student
    assert "2 * x" not in student and "1 / 4" not in student
    solution = keep_solutions(code)
    assert "return y" in solution and "ratio = 1 / 4" in solution
    assert "SOLUTION" not in solution


def test_return_one_liner_and_indexing_targets():
    assert strip_solutions("    return a + b  # SOLUTION") == "    return ...  # YOUR CODE HERE"
    assert strip_solutions('d["k"] = 3  # SOLUTION') == 'd["k"] = ...  # YOUR CODE HERE'


@pytest.mark.parametrize(
    "code, words",
    [
        ("# BEGIN SOLUTION\nx = 1\n# BEGIN SOLUTION\n# END SOLUTION", "line 3"),
        ("x = 1\n# BEGIN SOLUTION\nx = 2", "line 2: '# BEGIN SOLUTION' is never closed"),
        ("x = 1\n# END SOLUTION", "line 2: '# END SOLUTION' without a BEGIN"),
        ("print(1)  # SOLUTION", "line 1: '# SOLUTION' must end a line"),
    ],
)
def test_bad_markers_name_the_line(code, words):
    with pytest.raises(MarkerError) as err:
        strip_solutions(code, where="demo.py, cell 3")
    assert words in str(err.value) and "demo.py, cell 3" in str(err.value)


def test_render_stamps_badge_install_cell_and_metadata(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE)
    student, solution = render(source, "student"), render(source, "solution")
    assert "colab-badge.svg" in student.cells[0].source
    assert "lessons/99_demo.ipynb" in student.cells[0].source
    assert "lessons/solutions/99_demo.ipynb" in solution.cells[0].source
    assert 'if "google.colab" in sys.modules:' in student.cells[1].source
    assert student.metadata["labkit"] == {"lesson": "99_demo", "variant": "student"}
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert [c.cell_type for c in student.cells] == [c.cell_type for c in solution.cells]


def test_rebuild_is_byte_identical(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE)
    texts = []
    for _ in range(2):
        nb = execute(render(source, "solution"), timeout=60)
        texts.append(nbformat.writes(nb))
    assert texts[0] == texts[1]
    nb = nbformat.reads(texts[0], as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))
    assert "6.0" in nb.cells[-1].outputs[0]["text"]


def test_student_notebook_runs_with_placeholders(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE)
    nb = execute(render(source, "student"), timeout=60)
    printed = nb.cells[-1].outputs[0]["text"]
    assert "Ellipsis" in printed  # ratio is still the placeholder, and nothing crashed


@pytest.mark.parametrize("source", lesson_sources(), ids=lambda p: p.stem)
def test_notebooks_are_in_sync_with_their_source(source: Path):
    assert out_of_sync(source) == []


def test_out_of_sync_is_detected(tmp_path, monkeypatch):
    import labkit.authoring as authoring

    source = tmp_path / "source" / "99_demo.py"
    source.parent.mkdir()
    source.write_text(SOURCE)
    monkeypatch.setattr(authoring, "LESSONS_DIR", tmp_path)
    monkeypatch.setattr(authoring, "REPO_ROOT", tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/me/course"\n[project]\nname = "x"\n'
    )
    assert any("missing" in p for p in out_of_sync(source))
    for variant in ("student", "solution"):
        path = authoring.notebook_path("99_demo", variant)
        path.parent.mkdir(exist_ok=True)
        nbformat.write(render(source, variant), path)
    assert out_of_sync(source) == []
    source.write_text(SOURCE.replace("1 / 4", "1 / 5"))
    problems = out_of_sync(source)
    assert len(problems) == 1 and "solutions/99_demo.ipynb" in problems[0]
