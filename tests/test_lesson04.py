"""Lesson 04 exercises: the shown solutions pass, wrong answers fail with a teaching message."""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import pytest

from labkit.exercises import lesson04 as ex

pytestmark = pytest.mark.backends


def test_every_exercise_is_not_attempted_with_the_placeholder():
    for q in ex.LESSON:
        assert q.check(...).status == "not_attempted"

    def count_dead_units(activations): ...

    assert ex.q1.check(count_dead_units).status == "not_attempted"


@pytest.mark.parametrize("q", [ex.q1, ex.q2], ids=["q1", "q2"])
def test_solutions_are_correct_and_the_grader_agrees(q, solution):
    answer = solution(q)
    result = q.check(answer)
    assert result.status == "correct", result.message
    assert q.grade(q.collect(answer)).status == "correct"


def test_q1_checks_conv_shaped_inputs_the_student_never_saw():
    shapes = [args[0].shape for args in ex.q1.make_inputs()]
    assert any(len(s) == 4 for s in shapes)
    assert any(np.all(args[0] == 0) for args in ex.q1.make_inputs())


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda a: int(np.sum(a == 0)), ["zero entries", "every example"]),
        (
            lambda a: int(np.sum(np.any(a.reshape(-1, a.shape[-1]) > 0, axis=0))),
            ["live units"],
        ),
        (lambda a: int(np.sum(np.all(a == 0, axis=0))), ["channel"]),
        (lambda a: float(np.mean(np.all(a.reshape(-1, a.shape[-1]) == 0, axis=0))), ["dead"]),
    ],
    ids=["zero-entries", "live-units", "ignores-positions", "fraction"],
)
def test_q1_wrong_counts_teach(wrong, words):
    result = ex.q1.check(wrong)
    assert result.status == "incorrect"
    for word in words:
        assert word in result.message.lower()


def test_q1_bad_functions_never_raise(always_equal, monkeypatch):
    def raises(a):
        raise ValueError("nope")

    def loops(a):
        while True:
            time.sleep(0.01)

    assert "raised" in ex.q1.check(raises).message
    monkeypatch.setattr(ex.q1, "time_budget", 0.2)
    assert "too long" in ex.q1.check(loops).message
    assert ex.q1.check(lambda a: "3").status == "incorrect"
    assert ex.q1.check(lambda a: math.nan).status == "incorrect"
    assert ex.q1.check(lambda a: always_equal).status == "incorrect"
    assert ex.q1.check(lambda a: np.zeros(3)).status == "incorrect"
    assert "function" in ex.q1.check(3).message


@pytest.mark.parametrize(
    ("lr", "words"),
    [
        (1.0, ["died", "seed 3", "lower"]),
        (1e-4, ["too small", "1.10", "chance 33%", "raise"]),
        (0.0, ["positive"]),
    ],
    ids=["kills-units", "leaves-the-loss-where-it-started", "zero"],
)
def test_q2_wrong_learning_rates_teach(lr, words, assert_status):
    assert_status(ex.q2.check(lr), "incorrect", *words)


@pytest.mark.parametrize("bad", [None, "0.3", math.nan, math.inf, [0.3]])
def test_q2_bad_values_are_incorrect_without_a_traceback(bad):
    result = ex.q2.check(bad)
    assert result.status == "incorrect"
    assert result.message


def test_q2_an_always_equal_value_is_incorrect(always_equal, assert_status):
    assert_status(ex.q2.check(always_equal), "incorrect")


def relu_builder(bias=-1.0, activation="relu", batch_norm=False, trainable=True):
    def build():
        init = keras.initializers.Constant(bias)
        model = keras.Sequential([keras.Input(shape=(2,))])
        for _ in range(3):
            model.add(
                keras.layers.Dense(
                    32,
                    activation=None if batch_norm else activation,
                    kernel_initializer="he_normal",
                    bias_initializer=init,
                )
            )
            if batch_norm:
                model.add(keras.layers.BatchNormalization())
                model.add(keras.layers.Activation(activation))
        model.add(keras.layers.Dense(3))
        model.trainable = trainable
        return model

    return build


def test_q3_solution_is_correct_and_the_grader_agrees(solution):
    build = solution(ex.q3)
    result = ex.q3.check(build)
    assert result.status == "correct", result.message
    assert ex.q3.grade(ex.q3.collect(build)).status == "correct"


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (relu_builder(), ["dead", "1.10", "centre"]),
        (relu_builder(batch_norm=True, trainable=False), ["dead", "1.10"]),
        (relu_builder(activation="leaky_relu"), ["plain relu", "leaky_relu"]),
        (relu_builder(bias=0.0, batch_norm=True), ["bias", "constant(-1)"]),
    ],
    ids=["lessons-dead-network", "no-trainable-weights", "leaky-relu", "bias-removed"],
)
def test_q3_wrong_models_teach(build, words, assert_status):
    assert_status(ex.q3.check(build), "incorrect", *words)


def test_q3_bad_builders_never_raise(assert_status):
    def raises():
        raise RuntimeError("boom")

    def wrong_shape():
        return keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3)])

    def constant_predictor():
        return keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(3, trainable=False)])

    assert "boom" in ex.q3.check(raises).message
    assert ex.q3.check(lambda: None).status == "not_attempted"
    assert ex.q3.check(lambda: "model").status == "incorrect"
    assert_status(ex.q3.check(wrong_shape), "incorrect", "2 features")
    assert_status(ex.q3.check(constant_predictor), "incorrect", "3 hidden dense")


# --- q4: diagnosis of recorded runs --------------------------------------------------------------
RIGHT = {"A": ("vanishing", "relu_he"), "B": ("healthy", "none"), "C": ("dead_relu", "lower_lr")}


def test_q4_recorded_runs_show_what_the_lesson_says():
    runs = ex.q4.recorded()
    assert [runs[r].failure for r in "ABC"] == ["vanishing", "healthy", "dead_relu"]
    dead, vanishing, healthy = runs["C"].clues, runs["A"].clues, runs["B"].clues
    assert dead["dead_max"] == 1.0 and dead["dead_layer"] == "hidden_3"
    assert runs["C"].grads.at(0)["hidden_1"] == 0.0
    assert abs(dead["loss_end"] - dead["baseline_loss"]) < 0.02
    assert vanishing["vanishing_ratio"] < 1e-5
    assert abs(vanishing["loss_end"] - vanishing["baseline_loss"]) < 0.05
    assert healthy["loss_end"] < 0.5 * healthy["baseline_loss"]
    for run in runs.values():
        assert "dead" not in run.description and "vanish" not in run.description


def test_q4_the_right_diagnosis_is_correct_and_the_grader_agrees(solution, assert_status):
    assert_status(ex.q4.check(RIGHT), "correct")
    assert ex.q4.grade(ex.q4.collect(RIGHT)).status == "correct"
    assert_status(ex.q4.check(solution(ex.q4)), "correct")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({**RIGHT, "C": ("vanishing", "relu_he")}, ["run c", "100%", "hidden_3", "exactly zero"]),
        ({**RIGHT, "A": ("dead_relu", "leaky_relu")}, ["run a", "e-0", "shrinks layer by layer"]),
        ({**RIGHT, "C": ("dead_relu", "relu_he")}, ["does not address", "leakyrelu"]),
        ({r: ("healthy", "none") for r in "ABC"}, ["1 of 3 runs right"]),
        ({**RIGHT, "B": ("sick", "none")}, ["not one of the failures"]),
        ({"A": RIGHT["A"]}, ["missing: b, c"]),
    ],
    ids=[
        "dead-called-vanishing",
        "vanishing-called-dead",
        "wrong-remedy",
        "all-healthy",
        "junk",
        "missing",
    ],
)
def test_q4_confusions_are_incorrect_with_a_teaching_message(answer, words, assert_status):
    assert_status(ex.q4.check(answer), "incorrect", *words)


def test_q4_the_placeholder_is_not_attempted(always_equal, assert_status):
    assert ex.q4.check({"A": ..., "B": ..., "C": ...}).status == "not_attempted"
    assert_status(ex.q4.check(always_equal), "incorrect")
    assert_status(ex.q4.check("vanishing"), "incorrect", "dict")


# --- p1, p2: playground challenges (their solutions and set-ups: test_challenges.py) ------------
@pytest.mark.parametrize(
    ("c", "words"),
    [(ex.p1, ["dead units", "at least 50%"]), (ex.p2, ["majority class already gives"])],
    ids=["p1-kills-nothing", "p2-learns-nothing"],
)
def test_challenge_a_learning_rate_of_zero_is_incorrect(c, words, assert_status):
    assert_status(c.check({**c.playground().state, "learning_rate": 0.0}), "incorrect", *words)


def test_p2_allows_one_change_only(assert_status):
    answer = {**ex.p2.playground().state, "learning_rate": 0.1, "activation": "leaky_relu"}
    assert_status(ex.p2.check(answer), "incorrect", "2 controls", "at most 1")
