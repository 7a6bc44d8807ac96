"""Lesson 06 exercises: reference solutions pass, placeholders are 'not attempted', plausible
wrong answers fail with a message that teaches, bad inputs never raise."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from labkit import datasets
from labkit.exercises import lesson06 as ex
from labkit.models import build_mlp

# The lesson's own variable that q3's solution reads (the sweep's best rate).
CONTEXT = {"best_dropout": 0.2}


def status(q, answer) -> tuple[str, str]:
    """The status and message of checking ``answer``, after asserting the grader agrees."""
    result = q.check(answer)
    assert q.grade(q.collect(answer)) == result
    return result.status, result.message


def loops_forever(*args):
    while True:
        time.sleep(0.01)


# --- q1: one_hot ---------------------------------------------------------------------------------
@pytest.mark.backends
def test_q1_solution_is_correct(solution):
    one_hot = solution(ex.q1, **CONTEXT)
    assert status(ex.q1, one_hot)[0] == "correct"
    assert status(ex.q1, lambda labels, k: np.eye(k)[labels])[0] == "correct"


def test_q1_one_hot_gives_the_sparse_loss(solution):
    one_hot = solution(ex.q1, **CONTEXT)
    logits = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    labels = np.array([0, 3, 1, 1, 2])
    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    dense = keras.losses.CategoricalCrossentropy(from_logits=True)(one_hot(labels, 4), logits)
    assert np.isclose(float(sparse), float(dense), rtol=1e-6)


@pytest.mark.backends
def test_q1_placeholder_is_not_attempted():
    def one_hot(labels, num_classes): ...

    assert status(ex.q1, one_hot)[0] == "not_attempted"
    assert status(ex.q1, ...)[0] == "not_attempted"


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda labels, k: np.eye(k)[labels].T, "swapped"),
        (lambda labels, k: np.eye(labels.max() + 1)[labels], "num_classes"),
        (lambda labels, k: np.eye(k)[(labels + 1) % k], "single 1 in column"),
        (lambda labels, k: 1 - np.eye(k)[labels], "all 0"),
    ],
)
def test_q1_wrong_answers_teach(answer, words):
    state, message = status(ex.q1, answer)
    assert state == "incorrect"
    assert words in message


@pytest.mark.parametrize(
    "answer, words",
    [
        (None, "function"),
        ("one_hot", "function"),
        (lambda labels, k: None if len(labels) == 1 else np.eye(k)[labels], "None"),
        (lambda labels, k: "rows", "NumPy array"),
        (lambda labels, k: np.full((len(labels), k), np.nan), "NaN"),
        (lambda labels: labels, "raised"),
    ],
)
def test_q1_bad_answers_get_a_message(answer, words):
    state, message = status(ex.q1, answer)
    assert state == "incorrect"
    assert words in message


def test_q1_function_returning_an_always_equal_object_is_incorrect(always_equal):
    state, message = status(ex.q1, lambda labels, k: always_equal)
    assert state == "incorrect"
    assert "object" in message


def test_q1_function_that_loops_forever_is_stopped(monkeypatch):
    monkeypatch.setattr(ex.q1, "time_budget", 0.2)
    state, message = status(ex.q1, loops_forever)
    assert state == "incorrect"
    assert "ran too long" in message


# --- q2: softmax ---------------------------------------------------------------------------------
@pytest.mark.backends
def test_q2_solution_is_correct_and_matches_keras(solution):
    softmax = solution(ex.q2, **CONTEXT)
    assert status(ex.q2, softmax)[0] == "correct"
    z = np.random.default_rng(1).normal(size=(6, 10))
    assert np.allclose(softmax(z), keras.ops.convert_to_numpy(keras.ops.softmax(z, axis=-1)))


@pytest.mark.backends
def test_q2_placeholder_is_not_attempted():
    def softmax(logits): ...

    assert status(ex.q2, softmax)[0] == "not_attempted"


def naive_softmax(z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def column_softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@pytest.mark.parametrize(
    "answer, words",
    [
        (naive_softmax, "overflow"),
        (column_softmax, "wrong axis"),
        (lambda z: z / z.sum(axis=1, keepdims=True), "exp(z_j)"),
        (lambda z: np.exp(z - z.max(axis=1, keepdims=True)), "sum to 1"),
    ],
)
def test_q2_wrong_answers_teach(answer, words):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert words in message


@pytest.mark.parametrize(
    "answer, words",
    [
        (42, "function"),
        (lambda z: z[0], "shape"),
        (lambda z: z.tolist(), "sum to 1"),
        (lambda z: 1 / 0, "raised"),
    ],
)
def test_q2_bad_answers_get_a_message(answer, words):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert words in message


def test_q2_function_returning_an_always_equal_object_is_incorrect(always_equal):
    state, message = status(ex.q2, lambda z: always_equal)
    assert state == "incorrect"
    assert "object" in message


def test_q2_function_that_loops_forever_is_stopped(monkeypatch):
    monkeypatch.setattr(ex.q2, "time_budget", 0.2)
    state, message = status(ex.q2, loops_forever)
    assert state == "incorrect"
    assert "ran too long" in message


# --- q3: fix the broken model (each checked model trains for a few seconds) ---------------------
@pytest.mark.backends
def test_q3_solution_is_correct_on_the_hidden_split(solution):
    build_model = solution(ex.q3, **CONTEXT)
    state, message = status(ex.q3, build_model)
    assert state == "correct", message
    assert "hidden-split accuracy" in message and "269 hidden digits" in message


@pytest.mark.backends
def test_q3_placeholder_is_not_attempted():
    def build_model(): ...

    assert status(ex.q3, build_model)[0] == "not_attempted"
    assert status(ex.q3, ...)[0] == "not_attempted"


def test_q3_judges_on_the_hidden_split_not_the_test_split(monkeypatch, solution):
    seen = {}
    real = ex.train_for_check

    def spy(model, data, **kwargs):
        seen["train"], seen["eval"] = data, kwargs["eval_data"]
        return real(model, data, **kwargs)

    monkeypatch.setattr(ex, "train_for_check", spy)
    status(ex.q3, solution(ex.q3, **CONTEXT))
    (x_train, _), (x_test, _) = datasets.load("digits")
    x_hidden, _ = datasets.hidden("digits")
    np.testing.assert_array_equal(seen["eval"][0], x_hidden)
    np.testing.assert_array_equal(seen["train"][0], x_train)
    assert seen["eval"][0].shape != x_test.shape


def test_q3_the_broken_model_itself_is_incorrect():
    state, message = status(ex.q3, ex.broken_model)
    assert state == "incorrect"
    assert "from_logits=True" in message and "linear" in message


def test_q3_removing_only_the_softmax_still_fails():
    def build_model():
        model = ex.broken_model()
        model.layers[-1].activation = keras.activations.linear
        return model

    # Adam trains even this network, so the check also diagnoses it before the first step.
    state, message = status(ex.q3, build_model)
    assert state == "incorrect"
    assert "before training, diagnose found saturation in hidden_5" in message


def test_q3_model_without_trainable_weights_is_incorrect():
    def build_model():
        return keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(10, trainable=False)])

    state, message = status(ex.q3, build_model)
    assert state == "incorrect"
    assert "no trainable weights" in message


def test_q3_constant_predictor_is_no_better_than_guessing():
    def build_model():
        # The first layer is frozen at zero, so the output is one learned constant per class.
        return keras.Sequential(
            [
                keras.Input(shape=(64,)),
                keras.layers.Dense(1, kernel_initializer="zeros", trainable=False),
                keras.layers.Dense(10),
            ]
        )

    state, message = status(ex.q3, build_model)
    assert state == "incorrect"
    assert "no better than guessing" in message and "chance is 10%" in message


def test_q3_too_small_model_says_how_far_short():
    state, message = status(ex.q3, lambda: build_mlp(64, depth=1, width=2, output_units=10))
    assert state == "incorrect"
    assert "short of the 90% target" in message


def test_q3_dead_relu_model_names_the_dead_layers():
    def build_model():
        return build_mlp(
            64,
            depth=2,
            width=64,
            output_units=10,
            bias_initializer=keras.initializers.Constant(-1.0),
        )

    state, message = status(ex.q3, build_model)
    assert state == "incorrect"
    assert "before training, diagnose found dead_relu in hidden_1" in message


@pytest.mark.parametrize(
    "answer, words",
    [
        (
            lambda: build_mlp(64, depth=2, width=32, output_units=10, output_activation="softmax"),
            "from_logits=True",
        ),
        (lambda: build_mlp(64, depth=2, width=32, output_units=1), "10 units"),
        (lambda: build_mlp((8, 8, 1), depth=2, width=32, output_units=10), "shape=(64,)"),
        (lambda: build_mlp(64, depth=3, width=1024, output_units=10), "under 300,000"),
        (lambda: "model", "keras.Model"),
        (lambda: 1 / 0, "ZeroDivisionError"),
        (None, "function"),
    ],
)
def test_q3_bad_models_get_a_message_without_training(answer, words):
    state, message = status(ex.q3, answer)
    assert state == "incorrect"
    assert words in message


def test_q3_builder_that_loops_forever_is_stopped(monkeypatch):
    monkeypatch.setattr(ex.q3, "time_budget", 0.2)
    state, message = status(ex.q3, loops_forever)
    assert state == "incorrect"
    assert "did not finish" in message


# --- q4: diagnose four recorded runs (read from the build's package data) -------------------------
RIGHT = {
    "A": ("overfitting", "dropout"),
    "B": ("vanishing", "relu_he"),
    "C": ("healthy", "none"),
    "D": ("dead_relu", "leaky_relu"),
}


@pytest.mark.backends
def test_q4_solution_is_correct_and_matches_the_recorded_runs(solution):
    runs = ex.q4.recorded()
    assert {run_id: run.failure for run_id, run in runs.items()} == {
        run_id: answer[0] for run_id, answer in RIGHT.items()
    }
    assert status(ex.q4, RIGHT)[0] == "correct"


@pytest.mark.backends
def test_q4_placeholder_is_not_attempted():
    assert status(ex.q4, {run_id: ... for run_id in RIGHT})[0] == "not_attempted"
    assert status(ex.q4, ...)[0] == "not_attempted"


def test_q4_recorded_runs_show_their_clues():
    runs = ex.q4.recorded()
    baseline = np.log(10)
    # Vanishing and dead ReLU both leave the loss near the uniform guess: the look-alikes.
    for run_id in "BD":
        assert abs(runs[run_id].clues["loss_end"] - baseline) < 0.1
    assert runs["B"].clues["vanishing_ratio"] < 1e-2
    assert runs["D"].clues["dead_max"] > 0.9
    assert runs["A"].clues["val_loss_end"] > runs["A"].clues["val_loss_min"] + 0.03
    assert runs["A"].clues["loss_end"] < 0.01
    assert runs["C"].clues["val_loss_end"] < 0.3 and runs["C"].clues["dead_max"] < 0.5


def test_q4_swapping_the_look_alikes_teaches_the_difference():
    answer = {**RIGHT, "B": ("dead_relu", "leaky_relu"), "D": ("vanishing", "relu_he")}
    state, message = status(ex.q4, answer)
    assert state == "incorrect"
    assert message.startswith("2 of 4 runs right")
    assert "Run B is not dead ReLU units" in message and "shrinks layer by layer" in message
    assert "Run D is not vanishing gradients" in message and "output 0" in message


def test_q4_overfitting_called_healthy_points_at_the_validation_loss():
    state, message = status(ex.q4, {**RIGHT, "A": ("healthy", "none")})
    assert state == "incorrect"
    assert "validation loss" in message


def test_q4_right_failure_wrong_remedy_says_why():
    state, message = status(ex.q4, {**RIGHT, "A": ("overfitting", "raise_lr")})
    assert state == "incorrect"
    assert "dropout" in message


@pytest.mark.parametrize(
    "answer, words",
    [
        ("vanishing", "dict"),
        ({"A": ("overfitting", "dropout")}, "missing"),
        ({**RIGHT, "A": ("tired", "dropout")}, "not one of the failures"),
        ({**RIGHT, "A": "overfitting"}, "two words"),
    ],
)
def test_q4_junk_answers_get_a_message(answer, words):
    state, message = status(ex.q4, answer)
    assert state == "incorrect"
    assert words in message


# --- p1: the playground challenge (its solution and set-up: test_challenges.py) ------------------
def test_p1_a_change_that_learns_nothing_says_so():
    state, message = status(ex.p1, {**ex.p1.playground().state, "learning_rate": 0.0})
    assert state == "incorrect"
    assert "majority class" in message


def test_p1_fixing_only_the_activation_uncovers_the_other_faults():
    # ReLU with He lets the gradient through; weights three times too large and a learning
    # rate of 1.0 then blow it up.
    answer = {**ex.p1.playground().state, "activation": "relu", "initializer": "he"}
    state, message = status(ex.p1, answer)
    assert state == "incorrect"
    assert "diverged" in message
