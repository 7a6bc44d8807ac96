"""Lesson 03 exercises: the shown solutions pass; wrong and trivial answers fail with a teaching
message (every check must beat predicting the mean by the stated margin)."""

from __future__ import annotations

import math

import keras
import pytest

from labkit.exercises import lesson03 as ex

pytestmark = pytest.mark.backends


def test_every_exercise_is_not_attempted_with_the_placeholder():
    for q in ex.LESSON:
        assert q.check(...).status == "not_attempted"


def test_the_margin_is_stated_against_the_predict_the_mean_baseline():
    assert ex.baseline_mse() == pytest.approx(0.822, abs=1e-3)
    assert 0 < ex.MARGIN < 1
    assert all(q.constants["margin"] == ex.MARGIN for q in (ex.q1, ex.q2, ex.q3))


@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=["q1", "q3"])
def test_value_solutions_are_correct_and_the_grader_agrees(q, solution):
    answer = solution(q)
    result = q.check(answer)
    assert result.status == "correct", result.message
    assert q.grade(q.collect(answer)).status == "correct"


@pytest.mark.parametrize(
    ("lr", "words"),
    [
        (0.01, ["nan", "lower"]),
        (1e-3, ["barely learns", "predicting the mean", "raise"]),
        (1e-9, ["barely learns", "predicting the mean", "raise"]),  # the loss stays where it was
        (-0.1, ["positive"]),
    ],
)
def test_q1_wrong_learning_rates_teach(lr, words, assert_status):
    assert_status(ex.q1.check(lr), "incorrect", *words)


@pytest.mark.parametrize(
    ("clip", "words"),
    [
        (1e4, ["lower the clip"]),
        (1.0, ["too slow", "predicting the mean", "raise"]),
        (1e-9, ["too slow", "raise"]),  # steps so small the loss stays where it started
        (0.0, ["positive"]),
    ],
)
def test_q3_wrong_clip_values_teach(clip, words, assert_status):
    assert_status(ex.q3.check(clip), "incorrect", *words)


@pytest.mark.parametrize("bad", [None, "0.001", math.nan, math.inf, [0.1, 0.2]])
def test_bad_values_are_incorrect_without_a_traceback(bad):
    for q in (ex.q1, ex.q3):
        result = q.check(bad)
        assert result.status == "incorrect", result.message
        assert result.message


@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=["q1", "q3"])
def test_an_always_equal_value_is_incorrect(q, always_equal, assert_status):
    assert_status(q.check(always_equal), "incorrect")


def big():
    return keras.initializers.RandomNormal(stddev=0.5)


def deep(layers, batch_norm_at=()):
    model = keras.Sequential([keras.Input(shape=(8,))])
    for i in range(layers):
        if i in batch_norm_at:
            model.add(keras.layers.Dense(32, kernel_initializer=big()))
            model.add(keras.layers.BatchNormalization())
            model.add(keras.layers.Activation("relu"))
        else:
            model.add(keras.layers.Dense(32, activation="relu", kernel_initializer=big()))
    model.add(keras.layers.Dense(1))
    return model


def build_unchanged():
    return deep(8)


def build_one_batch_norm():
    return deep(8, batch_norm_at=(0,))


def build_small_init():
    return keras.Sequential(
        [keras.Input(shape=(8,))]
        + [keras.layers.Dense(32, activation="relu") for _ in range(8)]
        + [keras.layers.Dense(1)]
    )


def build_no_trainable_weights():
    model = deep(8, batch_norm_at=range(8))
    for layer in model.layers:
        layer.trainable = False
    return model


def build_constant():
    """Predicts a trainable constant (``ReLU(max_value=0)`` zeroes every feature): the best it can
    learn is the mean."""
    return keras.Sequential(
        [keras.Input(shape=(8,))]
        + [keras.layers.Dense(32, kernel_initializer=big(), trainable=False) for _ in range(8)]
        + [keras.layers.ReLU(max_value=0.0), keras.layers.Dense(1)]
    )


def test_q2_solution_is_correct_and_the_grader_agrees(solution):
    build_model = solution(ex.q2)
    result = ex.q2.check(build_model)
    assert result.status == "correct", result.message
    assert ex.q2.grade(ex.q2.collect(build_model)).status == "correct"


@pytest.mark.parametrize(
    ("builder", "words"),
    [
        (build_unchanged, ["explode", "every hidden layer"]),
        (build_one_batch_norm, ["explode", "single rescaled layer"]),
        (build_small_init, ["large initialization"]),
        (build_no_trainable_weights, ["no trainable weights", "predicting the mean"]),
        (build_constant, ["predicting the mean", "every hidden layer"]),
    ],
)
def test_q2_wrong_and_trivial_models_teach(builder, words, assert_status):
    assert_status(ex.q2.check(builder), "incorrect", *words)


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


RIGHT = {"A": ("lr_too_high", "lower_lr"), "B": ("healthy", "none"), "C": ("exploding", "clip")}


def test_q4_recorded_runs_show_their_clues():
    runs = ex.q4.recorded()
    assert [runs[r].failure for r in "ABC"] == ["lr_too_high", "healthy", "exploding"]
    assert runs["C"].clues["max_norm_start"] > 1e3 > 100 > runs["A"].clues["max_norm_start"]
    assert not math.isfinite(runs["A"].clues["loss_end"])
    assert not math.isfinite(runs["C"].clues["loss_end"])
    healthy = runs["B"].clues
    assert healthy["loss_end"] < ex.MARGIN * healthy["baseline_loss"] < healthy["loss_start"]


def test_q4_right_diagnosis_is_correct_and_the_grader_agrees(solution, assert_status):
    assert_status(ex.q4.check(RIGHT), "correct", "C: exploding gradients")
    assert ex.q4.grade(ex.q4.collect(RIGHT)).status == "correct"
    assert_status(ex.q4.check(solution(ex.q4)), "correct")


def test_q4_the_look_alikes_are_told_apart(assert_status):
    swapped = {**RIGHT, "A": ("exploding", "batch_norm"), "C": ("lr_too_high", "lower_lr")}
    assert_status(ex.q4.check(swapped), "incorrect", "1 of 3", "step 0", "before any update")
    assert_status(
        ex.q4.check({**RIGHT, "B": ("healthy", "clip")}), "incorrect", "nothing needs changing"
    )


@pytest.mark.parametrize(
    "junk", [None, 42, {"A": "exploding"}, {"A": ("bored", "none")}, {"Z": ("healthy", "none")}]
)
def test_q4_junk_is_incorrect_with_a_message(junk, assert_status):
    assert_status(ex.q4.check(junk), "incorrect")
    assert ex.q4.check({"A": ..., "B": ..., "C": ...}).status == "not_attempted"


# --- p1: the playground challenge (its solution and set-up: test_challenges.py) ------------------
def test_p1_undoing_the_large_initialization_also_passes(assert_status):
    answer = {**ex.p1.playground().state, "init_scale": 1.0}
    assert_status(ex.p1.check(answer), "correct", "init_scale=1.0")


@pytest.mark.parametrize(
    "change, words",
    [
        ({"learning_rate": 0.0}, ["majority class", "at least"]),  # a run that learns nothing
        ({"batch_norm": True, "init_scale": 1.0}, ["changed 2 controls", "at most 1"]),
    ],
)
def test_p1_useless_and_too_many_changes_are_explained(change, words, assert_status):
    answer = {**ex.p1.playground().state, **change}
    assert_status(ex.p1.check(answer), "incorrect", *words)
