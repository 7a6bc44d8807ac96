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
    [(2.0, ["died", "lower"]), (0.01, ["too small", "raise"]), (0.0, ["positive"])],
)
def test_q2_wrong_learning_rates_teach(lr, words):
    result = ex.q2.check(lr)
    assert result.status == "incorrect"
    for word in words:
        assert word in result.message.lower()


@pytest.mark.parametrize("bad", [None, "0.3", math.nan, math.inf, [0.3]])
def test_q2_bad_values_are_incorrect_without_a_traceback(bad):
    result = ex.q2.check(bad)
    assert result.status in ("incorrect", "error")
    assert result.message


def test_q2_an_always_equal_value_is_incorrect(always_equal, assert_status):
    assert_status(ex.q2.check(always_equal), "incorrect")


def builder(activation, bias=-1.0):
    def build():
        init = keras.initializers.Constant(bias)
        model = keras.Sequential([keras.Input(shape=(2,))])
        for _ in range(3):
            model.add(
                keras.layers.Dense(
                    32, activation=activation, kernel_initializer="he_normal", bias_initializer=init
                )
            )
        model.add(keras.layers.Dense(3))
        return model

    return build


def build_leaky_layers():
    model = keras.Sequential([keras.Input(shape=(2,))])
    for _ in range(3):
        model.add(
            keras.layers.Dense(
                32, kernel_initializer="he_normal", bias_initializer=keras.initializers.Constant(-1)
            )
        )
        model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Dense(3))
    return model


def test_q3_solution_and_an_equivalent_spelling_are_correct(solution):
    build = solution(ex.q3)
    result = ex.q3.check(build)
    assert result.status == "correct", result.message
    assert ex.q3.grade(ex.q3.collect(build)).status == "correct"
    assert ex.q3.check(build_leaky_layers).status == "correct"


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (builder("relu"), ["zero gradient", "leaky_relu"]),
        (builder("linear"), ["nonlinear"]),
        (builder("leaky_relu", bias=0.0), ["negative bias"]),
    ],
    ids=["unchanged-relu", "linear", "bias-removed"],
)
def test_q3_wrong_models_teach(build, words):
    result = ex.q3.check(build)
    assert result.status == "incorrect", result.message
    for word in words:
        assert word in result.message.lower()


def test_q3_bad_builders_never_raise():
    def raises():
        raise RuntimeError("boom")

    def wrong_shape():
        return keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3)])

    assert "boom" in ex.q3.check(raises).message
    assert ex.q3.check(lambda: None).status == "not_attempted"
    assert ex.q3.check(lambda: "model").status == "incorrect"
    assert "2 features" in ex.q3.check(wrong_shape).message
