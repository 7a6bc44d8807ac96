"""Lesson sources → notebooks: markers, determinism, and notebooks in sync with their sources."""

from pathlib import Path

import nbformat
import pytest

from labkit import authoring
from labkit.authoring import (
    MarkerError,
    execute,
    keep_solutions,
    lesson_sources,
    out_of_sync,
    render,
    solution_blocks,
    stamp_constants,
    strip_solutions,
)
from labkit.exercises import lesson_for

SOURCE = """# %% [markdown]
# # Lesson 99 — Demo

# %%
import numpy as np

# %%
def double(x):
    # BEGIN SOLUTION q1
    y = 2 * x
    return y
    # END SOLUTION


# %%
ratio = 1 / 4  # SOLUTION q2
print(round(float(np.sum(np.arange(4))), 2), double(2), ratio)
"""


def test_block_and_one_line_markers():
    code = "\n".join(SOURCE.split("# %%\n")[-2:])
    student = strip_solutions(code.replace("q2", "q1"))
    assert "    ...  # YOUR CODE HERE" in student
    assert "ratio = ...  # YOUR CODE HERE" in student
    assert "2 * x" not in student and "1 / 4" not in student
    solution = keep_solutions(code.replace("q2", "q1"))
    assert "return y" in solution and "ratio = 1 / 4" in solution
    assert "SOLUTION" not in solution


def test_return_one_liner_and_indexing_targets():
    assert strip_solutions("    return a + b  # SOLUTION q1") == "    return ...  # YOUR CODE HERE"
    assert strip_solutions('d["k"] = 3  # SOLUTION q1') == 'd["k"] = ...  # YOUR CODE HERE'


@pytest.mark.parametrize(
    "code, words",
    [
        ("# BEGIN SOLUTION q1\nx = 1\n# BEGIN SOLUTION q1\n# END SOLUTION", "line 3"),
        ("x = 1\n# BEGIN SOLUTION q1\nx = 2", "line 2: '# BEGIN SOLUTION' is never closed"),
        ("x = 1\n# END SOLUTION", "line 2: '# END SOLUTION' without a BEGIN"),
        ("print(1)  # SOLUTION q1", "line 1: '# SOLUTION' must end a line"),
        ("x = 1  # SOLUTION", "line 1: '# SOLUTION' must name its exercise, e.g. '# SOLUTION q2'"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "line 1: '# BEGIN SOLUTION' must name"),
        ("x = 1  # SOLUTION q1\ny = 2  # SOLUTION q2", "one cell holds the solutions of q1, q2"),
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


def test_a_cell_tag_reaches_both_notebooks_and_nothing_else_gets_one(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE + '\n# %% tags=["nbval-ignore-output"]\nprint(1)\n')
    for variant in ("student", "solution"):
        cells = render(source, variant).cells
        tagged = [c.source for c in cells if c.metadata.get("tags")]
        assert tagged == ["print(1)"], variant
        assert cells[-1].metadata["tags"] == ["nbval-ignore-output"]


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
    from labkit.exercises import core

    source = tmp_path / "source" / "99_demo.py"
    source.parent.mkdir()
    source.write_text(SOURCE)
    monkeypatch.setattr(authoring, "LESSONS_DIR", tmp_path)
    monkeypatch.setattr(authoring, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(core, "SOLUTIONS_DIR", tmp_path / "extracted")
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/me/course"\n[project]\nname = "x"\n'
    )
    assert any("missing" in p for p in out_of_sync(source))
    for variant in ("student", "solution"):
        path = authoring.notebook_path("99_demo", variant)
        path.parent.mkdir(exist_ok=True)
        nbformat.write(render(source, variant), path)
    assert [p for p in out_of_sync(source) if "extracted/99_demo.json" in p]
    authoring.write_solutions(source)
    assert out_of_sync(source) == []
    source.write_text(SOURCE.replace("1 / 4", "1 / 5"))
    problems = out_of_sync(source)
    assert len(problems) == 2, problems
    assert "solutions/99_demo.ipynb" in problems[0] and "extracted/99_demo.json" in problems[1]


# --- one source: solutions and the check's numbers come from the lesson and its exercises -------
LESSON_02 = authoring.SOURCE_DIR / "02_vanishing_gradients.py"
LESSON_05 = authoring.SOURCE_DIR / "05_dropout.py"
ONE_LINER = 'rate_one_answer = "b"  # SOLUTION q3'


def test_every_lessons_solutions_are_its_marked_cells():
    for source in lesson_sources():
        blocks = solution_blocks(source)
        lesson = lesson_for(source.stem)
        assert sorted(blocks) == sorted(e.id for e in lesson)
        for exercise in lesson:
            assert exercise.solution().code == blocks[exercise.id]


def test_an_edited_solution_block_is_what_the_exercise_shows_after_a_rebuild(tmp_path, monkeypatch):
    from labkit.exercises import core

    source = tmp_path / LESSON_05.name
    text = LESSON_05.read_text()
    assert ONE_LINER in text
    source.write_text(text.replace(ONE_LINER, ONE_LINER.replace('"b"', '"b".lower()')))
    monkeypatch.setattr(authoring, "LESSONS_DIR", tmp_path / "lessons")
    monkeypatch.setattr(authoring, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(core, "SOLUTIONS_DIR", tmp_path / "extracted")
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/me/course"\n[project]\nname = "x"\n'
    )
    built = authoring.build_lesson(source, run=False)
    assert tmp_path / "extracted" / "05_dropout.json" in built.paths
    q3 = lesson_for("05_dropout")["q3"]
    assert q3.solution().code == 'rate_one_answer = "b".lower()'
    student = nbformat.read(authoring.notebook_path(source.stem, "student"), as_version=4)
    assert any(c.source == "rate_one_answer = ...  # YOUR CODE HERE" for c in student.cells)


def test_markers_must_name_the_lessons_exercises(tmp_path):
    text = LESSON_05.read_text()
    unknown = tmp_path / LESSON_05.name
    unknown.write_text(text.replace(ONE_LINER, ONE_LINER.replace("q3", "q9")))
    with pytest.raises(MarkerError, match="name q9, which 05_dropout"):
        solution_blocks(unknown)
    with pytest.raises(MarkerError, match="no solution cell for q3"):
        unknown.write_text(text.replace(ONE_LINER, 'rate_one_answer = "b"'))
        solution_blocks(unknown)


def test_the_prose_states_the_checks_own_numbers(monkeypatch):
    q2 = lesson_for("02_vanishing_gradients")["q2"]
    assert "{{q2.epochs}}" in LESSON_02.read_text()

    def exercise_text() -> str:
        cells = render(LESSON_02, "student").cells
        return next(c.source for c in cells if "Exercise 2" in c.source)

    assert f"trains it for {q2.constants['epochs']} short" in exercise_text()
    monkeypatch.setitem(q2.constants, "epochs", 99)
    assert "trains it for 99 short" in exercise_text()


def test_a_stamp_that_names_no_constant_is_an_error():
    with pytest.raises(MarkerError, match=r"\{\{q2.epoch\}\} names no constant.*epochs"):
        stamp_constants("for {{q2.epoch}} epochs", "02_vanishing_gradients", "demo.py, cell 4")
    with pytest.raises(MarkerError, match="declares: none"):
        stamp_constants("{{q2.epochs}}", "99_demo")
