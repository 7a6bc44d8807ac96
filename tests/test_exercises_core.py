"""The checker framework: statuses, messages, and the collect/grade split the grader relies on."""

import keras
import numpy as np
import pytest

from labkit.exercises.core import (
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
        prompt="The ratio.",
        hints=HINTS,
        solution_source="ratio = 0.25",
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
        prompt="Double x.",
        hints=HINTS,
        solution_source="def double(x):\n    return 2 * x",
        check_fn=check,
        make_inputs=lambda: cases,
        time_budget=budget,
    )


def test_value_exercise_statuses_and_truthiness():
    q = _value_exercise()
    right = q.check(0.25)
    assert right.status == "correct" and bool(right) and right.points == 2
    wrong = q.check(0.5)
    assert wrong.status == "incorrect" and not wrong and wrong.points == 0
    assert "Divide the first by the last" in wrong.message
    assert q.check(...).status == "not_attempted"
    assert "not attempted" in str(q.check(...)).lower() or "Not attempted" in q.check(...).message


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


def test_function_exercise_correct_wrong_raising_and_placeholder():
    q = _double_exercise()
    assert q.check(lambda x: x * 2).status == "correct"
    assert q.check(lambda x: x + x).status == "correct"  # written differently, same behaviour
    wrong = q.check(lambda x: x**2)
    assert wrong.status == "incorrect" and "2 * x" in wrong.message

    def placeholder(x): ...

    assert q.check(placeholder).status == "not_attempted"
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
        prompt="Build a model.",
        hints=HINTS,
        solution_source="def build_model(): ...",
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


def test_hints_increase_and_solution_shows_code():
    q = _value_exercise()
    assert str(q.hint()).startswith("Hint 1 of 2") and "q1.hint(2)" in str(q.hint())
    assert HINTS[1] in str(q.hint(2)) and HINTS[1] in str(q.hint(99))
    assert "ratio = 0.25" in str(q.solution())
    with pytest.raises(ValueError, match="two hints"):
        ValueExercise("q9", "x", "p", ["only one"], "x = 1", check_fn=lambda v: None)


def test_lesson_summary_tracks_last_status():
    q1, q2 = _value_exercise(), _double_exercise()
    lesson = Lesson("00_demo", [q1, q2])
    q1.check(0.25)
    text = str(lesson.summary())
    assert "correct" in text and "not checked" in text and "total 2/3" in text
    assert lesson["q2"] is q2 and lesson.max_points == 3
    assert isinstance(q1.last_result, CheckResult)
