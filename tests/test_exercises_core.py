"""The checker framework: statuses, messages, and the collect/grade split the grader relies on."""

import json

import keras
import numpy as np
import pytest

from labkit import authoring
from labkit.exercises import LESSON_MODULES, core, lesson_for
from labkit.exercises.core import (
    MIME_TYPE,
    NOT_ATTEMPTED,
    CallFailed,
    CheckResult,
    FunctionExercise,
    Incorrect,
    KerasModelBytes,
    Lesson,
    ModelExercise,
    Unsupported,
    ValueExercise,
    expect_array,
    expect_close,
    to_data,
)

HINTS = ["Start from the definition.", "Divide the first by the last."]


def _value_exercise():
    return ValueExercise(
        id="q1",
        answer="ratio",
        hints=HINTS,
        check_fn=lambda v: expect_close(v, 0.25, "ratio", hint="Divide the first by the last."),
        points=2,
    )


def _double_exercise(budget=5.0):
    def check(inputs, outputs):
        for (x,), out in zip(inputs, outputs):
            got = expect_array(out, shape=np.shape(x), name="double(x)")
            if not np.allclose(got, 2 * np.asarray(x)):
                raise Incorrect("double(x) should be 2 * x for every entry.")
        return "Correct: doubles arrays of any shape."

    rng = np.random.default_rng(0)
    cases = [(rng.normal(size=(3,)),), (rng.normal(size=(2, 5)),)]
    return FunctionExercise(
        id="q2",
        answer="double",
        hints=HINTS,
        check_fn=check,
        make_inputs=lambda: cases,
        time_budget=budget,
    )


def test_value_exercise_statuses_and_truthiness(assert_status):
    q = _value_exercise()
    right = q.check(0.25)
    assert right.status == "correct" and bool(right) and right.points == 2
    wrong = q.check(0.5)
    assert wrong.status == "incorrect" and not wrong and wrong.points == 0
    assert "Divide the first by the last" in wrong.message
    untouched = q.check(...)
    assert_status(untouched, "not_attempted", "not attempted", "ex.q1.hint()")
    assert not untouched and untouched.points == 0


@pytest.mark.parametrize(
    "bad, words",
    [
        (None, "None"),
        ("0.25", "single number"),
        (float("nan"), "finite"),
        (np.zeros((2, 2)), "single number"),
        ([0.25, 0.25], "single number"),
    ],
)
def test_value_exercise_bad_inputs_get_kind_messages(bad, words):
    result = _value_exercise().check(bad)
    assert result.status == "incorrect"
    assert words in result.message


def test_always_equal_object_is_not_trusted():
    class Sneaky:
        def __eq__(self, other):
            return True

        def __float__(self):
            return 0.25

    data = to_data(Sneaky())
    assert data == Unsupported("Sneaky")
    result = _value_exercise().check(Sneaky())
    assert result.status == "incorrect" and "Sneaky" in result.message


def test_html_escapes_student_strings():
    q = _value_exercise()
    q.check_fn = lambda v: (_ for _ in ()).throw(Incorrect(f"got {v}"))
    html = q.check("<script>alert(1)</script>")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_bug_in_a_check_is_an_error_not_a_traceback():
    q = _value_exercise()
    q.check_fn = lambda v: 1 / 0
    result = q.check(0.25)
    assert result.status == "error" and "ZeroDivisionError" in result.message


def test_function_exercise_correct_wrong_raising_and_placeholder(placeholder, assert_status):
    q = _double_exercise()
    assert q.check(lambda x: x * 2).status == "correct"
    assert q.check(lambda x: x + x).status == "correct"  # written differently, same behaviour
    wrong = q.check(lambda x: x**2)
    assert wrong.status == "incorrect" and "2 * x" in wrong.message

    assert_status(q.check(placeholder), "not_attempted", "returns None", "ex.q2.hint()")
    raised = q.check(lambda x: x.nope)
    assert raised.status == "incorrect" and "AttributeError" in raised.message
    shape = q.check(lambda x: np.ravel(2 * x))
    assert shape.status == "incorrect" and "shape" in shape.message
    not_fn = q.check(3)
    assert not_fn.status == "incorrect" and "should be a function" in not_fn.message


def test_function_exercise_time_budget():
    q = _double_exercise(budget=0.3)

    def forever(x):
        while True:
            pass

    result = q.check(forever)
    assert result.status == "incorrect" and "ran too long" in result.message


def test_collect_then_grade_equals_check():
    q = _double_exercise()
    data = q.collect(lambda x: 2 * x)
    assert all(isinstance(d, np.ndarray) for d in data)
    assert q.grade(data).status == q.check(lambda x: 2 * x).status == "correct"
    assert isinstance(q.collect(lambda x: 1 / 0)[0], CallFailed)
    assert q.grade(NOT_ATTEMPTED).status == "not_attempted"


def _model_exercise():
    def check(model):
        if len(model.layers) < 2:
            raise Incorrect(f"the model has {len(model.layers)} layer(s); build at least 2.")
        out = model(np.zeros((1, 4), "float32"))
        if tuple(out.shape) != (1, 1):
            raise Incorrect(f"the output shape is {tuple(out.shape)}; expected one unit.")
        return "Correct."

    return ModelExercise(
        id="q3",
        answer="build_model",
        hints=HINTS,
        check_fn=check,
    )


def test_model_exercise_round_trips_through_keras_file():
    q = _model_exercise()

    def good():
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)]
        )

    data = q.collect(good)
    assert isinstance(data, KerasModelBytes) and data.data[:2] == b"PK"  # a .keras zip
    assert q.grade(data).status == "correct"

    def too_small():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    assert "at least 2" in q.check(too_small).message

    def lambda_layer():
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)]
        )

    unsafe = q.check(lambda_layer)
    assert unsafe.status == "incorrect" and "Lambda" in unsafe.message

    def nothing(): ...

    assert q.check(nothing).status == "not_attempted"
    assert "keras.Model" in q.check(lambda: "a model").message


def test_hints_increase():
    q = _value_exercise()
    assert str(q.hint()).startswith("Hint 1 of 2") and "ex.q1.hint(2)" in str(q.hint())
    assert HINTS[1] in str(q.hint(2)) and HINTS[1] in str(q.hint(99))
    assert "ex.q1.hint(2)" in str(q.hint(0))
    with pytest.raises(ValueError, match="two hints"):
        ValueExercise("q9", "x", ["only one"], check_fn=lambda v: None)


# --- solutions: the lesson's own cells, read from the build's package data ----------------------
def test_solution_shows_the_extracted_cell(tmp_path, monkeypatch):
    q1, q2 = _value_exercise(), _double_exercise()
    Lesson("00_demo", [q1, q2])
    (tmp_path / "00_demo.json").write_text(json.dumps({"q1": "ratio = 1 / 4"}))
    monkeypatch.setattr(core, "SOLUTIONS_DIR", tmp_path)
    shown = q1.solution()
    assert shown.code == "ratio = 1 / 4"
    assert str(shown) == "Solution to q1:\nratio = 1 / 4"
    assert "<pre>ratio = 1 / 4</pre>" in shown._repr_html_()
    assert "marks no solution for q2" in q2.solution().code


def test_solution_source_reads_a_given_directory(tmp_path):
    (tmp_path / "00_demo.json").write_text(json.dumps({"q2": "def double(x):\n    return 2 * x"}))
    code = core.solution_source("00_demo", "q2", directory=tmp_path)
    assert code == "def double(x):\n    return 2 * x"
    assert "make lessons" in core.solution_source("00_missing", "q2", directory=tmp_path)
    (tmp_path / "00_broken.json").write_text("{not json")
    assert "make lessons" in core.solution_source("00_broken", "q2", directory=tmp_path)


@pytest.mark.parametrize("name", list(LESSON_MODULES))
def test_every_solution_is_the_lessons_marked_cell(name):
    blocks = authoring.solution_blocks(authoring.SOURCE_DIR / f"{name}.py")
    lesson = lesson_for(name)
    assert sorted(blocks) == sorted(q.id for q in lesson)
    for q in lesson:
        assert q.solution().code == blocks[q.id], f"{name} {q.id}: rebuild with `make lessons`"


# --- results as data ----------------------------------------------------------------------------
@pytest.mark.parametrize("answer", [0.25, 0.5, ..., "<b>0.25</b>"])
def test_a_result_displays_for_people_and_for_tools(answer):
    result = _value_exercise().check(answer)
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", MIME_TYPE}
    assert bundle["text/plain"] == str(result)
    assert bundle["text/html"] == result._repr_html_()
    assert bundle[MIME_TYPE] == result.to_dict()
    assert json.loads(json.dumps(bundle[MIME_TYPE])) == result.to_dict()
    assert set(result.to_dict()) == {"id", "status", "points", "max_points", "message"}
    assert result.to_dict()["id"] == "q1" and result.to_dict()["max_points"] == 2


@pytest.mark.parametrize("status", ["correct", "incorrect", "not_attempted", "error"])
def test_a_result_round_trips_through_its_dict(status):
    points = 1.5 if status == "correct" else 0
    result = CheckResult("q3", status, "Message with <tags> & ünïcode.", points, 1.5)
    again = CheckResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert again.to_dict() == result.to_dict()


def test_a_result_with_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status must be one of"):
        CheckResult("q1", "passed", "", 1, 1)


def test_lesson_summary_tracks_last_status():
    q1, q2 = _value_exercise(), _double_exercise()
    lesson = Lesson("00_demo", [q1, q2])
    q1.check(0.25)
    text = str(lesson.summary())
    assert "correct" in text and "not checked" in text and "total 2/3" in text
    assert lesson["q2"] is q2 and lesson.max_points == 3
    assert isinstance(q1.last_result, CheckResult)
