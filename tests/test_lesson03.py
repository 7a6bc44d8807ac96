"""Lesson 03 exercises: the shown solutions pass, wrong answers fail with a teaching message."""

from __future__ import annotations

import math

import keras
import pytest

from labkit.exercises import lesson03 as ex

pytestmark = pytest.mark.backends


def test_every_exercise_is_not_attempted_with_the_placeholder():
    for q in ex.LESSON:
        assert q.check(...).status == "not_attempted"


@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=["q1", "q3"])
def test_value_solutions_are_correct_and_the_grader_agrees(q, solution):
    answer = solution(q)
    result = q.check(answer)
    assert result.status == "correct", result.message
    assert q.grade(q.collect(answer)).status == "correct"


@pytest.mark.parametrize(
    ("lr", "words"),
    [(0.01, ["nan", "lower"]), (1e-5, ["barely learns", "raise"]), (-0.1, ["positive"])],
)
def test_q1_wrong_learning_rates_teach(lr, words):
    result = ex.q1.check(lr)
    assert result.status == "incorrect"
    for word in words:
        assert word in result.message.lower()


@pytest.mark.parametrize(
    ("clip", "words"),
    [(1e4, ["lower the clip"]), (0.01, ["too slow", "raise"]), (0.0, ["positive"])],
)
def test_q3_wrong_clip_values_teach(clip, words):
    result = ex.q3.check(clip)
    assert result.status == "incorrect"
    for word in words:
        assert word in result.message.lower()


@pytest.mark.parametrize("bad", [None, "0.001", math.nan, math.inf, [0.1, 0.2]])
def test_bad_values_are_incorrect_without_a_traceback(bad):
    for q in (ex.q1, ex.q3):
        result = q.check(bad)
        assert result.status in ("incorrect", "error")
        assert result.message


@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=["q1", "q3"])
def test_an_always_equal_value_is_incorrect(q, always_equal, assert_status):
    assert_status(q.check(always_equal), "incorrect")


def big():
    return keras.initializers.RandomNormal(stddev=0.5)


def build_unchanged():
    model = keras.Sequential([keras.Input(shape=(8,))])
    for _ in range(4):
        model.add(keras.layers.Dense(32, activation="relu", kernel_initializer=big()))
    model.add(keras.layers.Dense(1))
    return model


def build_input_bn_only():
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.BatchNormalization()])
    for _ in range(4):
        model.add(keras.layers.Dense(32, activation="relu", kernel_initializer=big()))
    model.add(keras.layers.Dense(1))
    return model


def build_small_init():
    return keras.Sequential(
        [keras.Input(shape=(8,))]
        + [keras.layers.Dense(32, activation="relu") for _ in range(4)]
        + [keras.layers.Dense(1)]
    )


def test_q2_solution_is_correct_and_the_grader_agrees(solution):
    build_model = solution(ex.q2)
    result = ex.q2.check(build_model)
    assert result.status == "correct", result.message
    assert ex.q2.grade(ex.q2.collect(build_model)).status == "correct"


@pytest.mark.parametrize(
    ("builder", "words"),
    [
        (build_unchanged, ["explode", "batchnormalization"]),
        (build_input_bn_only, ["explode", "every"]),
        (build_small_init, ["large initialization"]),
    ],
)
def test_q2_wrong_models_teach(builder, words):
    result = ex.q2.check(builder)
    assert result.status == "incorrect", result.message
    for word in words:
        assert word in result.message.lower()


def test_q2_bad_builders_never_raise(always_equal, monkeypatch):
    def raises():
        raise RuntimeError("boom")

    def loops():
        while True:
            pass

    def wrong_shape():
        return keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])

    assert "boom" in ex.q2.check(raises).message
    assert ex.q2.check(lambda: None).status == "not_attempted"
    assert ex.q2.check(lambda: 42).status == "incorrect"
    assert ex.q2.check(always_equal).status == "incorrect"
    assert "features" in ex.q2.check(wrong_shape).message
    monkeypatch.setattr(ex.q2, "time_budget", 0.5)
    assert "did not finish" in ex.q2.check(loops).message
