"""Lesson 05 exercises: reference solutions pass, placeholders are 'not attempted', plausible
wrong answers fail with a message that teaches, bad inputs never raise."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labkit.exercises import lesson05 as ex

pytestmark = pytest.mark.backends


# The lesson's solution cells read no lesson variables.
CONTEXT: dict = {}


def status(q, answer) -> tuple[str, str]:
    """The status and message of checking ``answer``, after asserting the grader agrees."""
    result = q.check(answer)
    assert q.grade(q.collect(answer)) == result
    return result.status, result.message


# --- q1: dropout_forward --------------------------------------------------------------------------
def test_q1_solution_is_correct(solution):
    assert status(ex.q1, solution(ex.q1, **CONTEXT))[0] == "correct"


def test_q1_solution_statistics_on_new_input(solution):
    dropout_forward = solution(ex.q1, **CONTEXT)
    x = np.full((500, 40), 2.0)
    out = dropout_forward(x, 0.3, True, 0)
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert np.allclose(out[out != 0], 2.0 / 0.7)
    assert abs(out.mean() - 2.0) < 0.05
    assert np.array_equal(dropout_forward(x, 0.3, False, 0), x)
    assert not np.isnan(dropout_forward(x, 1.0, True, 0)).any()


def test_q1_placeholder_is_not_attempted():
    def dropout_forward(x, rate, training, seed): ...

    assert status(ex.q1, dropout_forward)[0] == "not_attempted"
    assert status(ex.q1, ...)[0] == "not_attempted"


def test_q1_unscaled_dropout_is_incorrect():
    def dropout_forward(x, rate, training, seed):
        if not training or rate == 0:
            return x
        return x * (np.random.default_rng(seed).random(x.shape) >= rate)

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "unscaled" in message and "1 − rate" in message


def test_q1_dropout_at_inference_is_incorrect():
    def dropout_forward(x, rate, training, seed):
        if rate == 1:
            return np.zeros_like(x)
        keep = np.random.default_rng(seed).random(x.shape) >= rate
        return x * keep / (1 - rate)

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "inference" in message and "unchanged" in message


def test_q1_keep_probability_mixup_is_incorrect():
    def dropout_forward(x, rate, training, seed):
        if not training or rate == 0:
            return x
        if rate == 1:
            return np.zeros_like(x)
        keep = np.random.default_rng(seed).random(x.shape) < rate
        return x * keep / rate

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "KEEP probability" in message


def test_q1_fixed_columns_are_not_random():
    def dropout_forward(x, rate, training, seed):
        if not training or rate == 0:
            return x
        if rate == 1:
            return np.zeros_like(x)
        out = x / (1 - rate)
        out[:, : round(rate * x.shape[1])] = 0
        return out

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "random" in message


def test_q1_division_by_zero_at_rate_one_is_incorrect():
    def dropout_forward(x, rate, training, seed):
        if not training:
            return x
        keep = np.random.default_rng(seed).random(x.shape) >= rate
        with np.errstate(divide="ignore", invalid="ignore"):
            return x * keep / (1 - rate)

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "NaN" in message and "rate=1.0" in message


def test_q1_same_mask_for_every_seed_is_incorrect():
    def dropout_forward(x, rate, training, seed):
        if not training or rate == 0:
            return x
        if rate == 1:
            return np.zeros_like(x)
        keep = np.random.default_rng(0).random(x.shape) >= rate
        return x * keep / (1 - rate)

    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "seed" in message


@pytest.mark.parametrize(
    "answer, words",
    [
        (None, "function"),
        ("dropout", "function"),
        (lambda x, rate, training, seed: "zeros", "NumPy array"),
        (lambda x, rate, training, seed: x[:1], "shape"),
        (lambda x, rate, training, seed: x * np.nan, "NaN"),
        (lambda x, rate: x, "raised"),
    ],
)
def test_q1_bad_answers_get_a_message(answer, words):
    state, message = status(ex.q1, answer)
    assert state == "incorrect"
    assert words in message


def test_q1_function_that_loops_forever_is_stopped(monkeypatch):
    def dropout_forward(x, rate, training, seed):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(ex.q1, "time_budget", 0.2)
    state, message = status(ex.q1, dropout_forward)
    assert state == "incorrect"
    assert "ran too long" in message


# --- q2: choose_rate -----------------------------------------------------------------------------
def _means(record, key="val_loss"):
    rates = {r["rate"] for r in record}
    return {rate: np.mean([r[key] for r in record if r["rate"] == rate]) for rate in rates}


def test_q2_solution_is_correct(solution):
    choose_rate = solution(ex.q2, **CONTEXT)
    assert status(ex.q2, choose_rate)[0] == "correct"
    for (record,) in ex.q2.make_inputs():
        means = _means(record)
        assert choose_rate(record) == min(means, key=means.get)


def test_q2_records_separate_the_right_rule_from_the_wrong_ones():
    """In the first record, the lowest training loss, the single best run and the best mean
    validation accuracy are three other rates than the lowest mean validation loss."""
    (record,) = ex.q2.make_inputs()[0]
    means = _means(record)
    best = min(means, key=means.get)
    wrong = {
        min(record, key=lambda r: r["loss"])["rate"],
        min(record, key=lambda r: r["val_loss"])["rate"],
        max(_means(record, "val_accuracy").items(), key=lambda kv: kv[1])[0],
    }
    assert best not in wrong and len(wrong) == 3


def test_q2_placeholder_is_not_attempted(placeholder):
    assert status(ex.q2, placeholder)[0] == "not_attempted"
    assert status(ex.q2, ...)[0] == "not_attempted"


def _lowest_training_loss(record):
    return min(record, key=lambda r: r["loss"])["rate"]


def _best_single_run(record):
    return min(record, key=lambda r: r["val_loss"])["rate"]


def _best_mean_accuracy(record):
    means = _means(record, "val_accuracy")
    return max(means, key=means.get)


def _worst_mean(record):
    means = _means(record)
    return max(means, key=means.get)


@pytest.mark.parametrize(
    "answer, words",
    [
        (_lowest_training_loss, "TRAINING loss"),
        (lambda record: 0.0, "TRAINING loss"),
        (_best_single_run, "lucky seed"),
        (_best_mean_accuracy, "ACCURACY"),
        (_worst_mean, "lowest MEAN val_loss"),
        (lambda record: 0.25, "not one of the swept rates"),
    ],
)
def test_q2_wrong_rules_teach(answer, words):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert words in message


@pytest.mark.parametrize(
    "answer, words",
    [
        (None, "function"),
        (0.4, "function"),
        (lambda record: {"rate": 0.4}, "number"),
        (lambda record: float("nan"), "number"),
        (lambda: 0.4, "raised"),
    ],
)
def test_q2_bad_answers_get_a_message(answer, words):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert words in message


def test_q2_a_function_returning_an_always_equal_object_gets_a_message(always_equal):
    state, message = status(ex.q2, lambda record: always_equal)
    assert state == "incorrect"
    assert message


# --- q3: multiple choice --------------------------------------------------------------------------
def test_q3_solution_is_correct(solution):
    answer = solution(ex.q3, **CONTEXT)
    assert status(ex.q3, answer)[0] == "correct"
    assert status(ex.q3, " (B) ")[0] == "correct"


def test_q3_placeholder_is_not_attempted():
    assert status(ex.q3, ...)[0] == "not_attempted"


@pytest.mark.parametrize(
    "answer, words", [("a", "chance"), ("c", "no NaN"), ("d", "DROPPED"), ("e", "not an option")]
)
def test_q3_wrong_choices_teach(answer, words):
    state, message = status(ex.q3, answer)
    assert state == "incorrect"
    assert words in message


@pytest.mark.parametrize("answer", [None, 2, ["b"]])
def test_q3_bad_inputs_get_a_message(answer):
    state, message = status(ex.q3, answer)
    assert state == "incorrect"
    assert "letter" in message


def test_q3_an_always_equal_answer_asks_for_a_letter(always_equal):
    state, message = status(ex.q3, always_equal)
    assert state == "incorrect"
    assert "letter" in message


# --- q4: diagnose recorded runs -------------------------------------------------------------------
RIGHT = {"A": ("overfitting", "dropout"), "B": ("lr_too_low", "raise_lr"), "C": ("healthy", "none")}


def test_q4_solution_is_correct(solution, assert_status):
    diagnosis = solution(ex.q4, **CONTEXT)
    assert diagnosis == RIGHT
    assert_status(ex.q4.check(diagnosis), "correct", "A: overfitting", "C: a healthy run")
    assert ex.q4.grade(ex.q4.collect(diagnosis)) == ex.q4.check(diagnosis)


def test_q4_recorded_runs_show_their_failure_beside_the_baseline():
    """The clues the messages quote are what each failure looks like, with margins."""
    runs = ex.q4.recorded()
    over, slow, healthy = (runs[k].clues for k in "ABC")
    assert {runs[k].failure for k in "ABC"} == {"overfitting", "lr_too_low", "healthy"}
    baseline = over["baseline_loss"]
    assert baseline == pytest.approx(np.log(3), rel=0.01)
    # A memorizes: training loss ~0, validation loss 20 % above its own best.
    assert over["loss_end"] < 0.01 and over["val_loss_end"] > 1.2 * over["val_loss_min"]
    # C (the same with dropout) beats the baseline by far and ends near its best.
    assert healthy["val_loss_end"] < 0.5 * baseline
    assert healthy["val_loss_end"] < 0.8 * over["val_loss_end"]
    assert healthy["val_loss_end"] < 1.1 * healthy["val_loss_min"]
    # B barely leaves the baseline, with updates far below the healthy -3.
    assert slow["loss_end"] > 0.8 * baseline and slow["update_ratio"] < -3.5


def test_q4_placeholder_is_not_attempted(assert_status):
    assert_status(ex.q4.check(...), "not_attempted")
    assert_status(ex.q4.check(dict.fromkeys("ABC", ...)), "not_attempted")


@pytest.mark.parametrize(
    "answer, words",
    [
        ({**RIGHT, "A": ("healthy", "none")}, ["Run A is not a healthy run", "validation loss"]),
        ({**RIGHT, "C": ("overfitting", "dropout")}, ["Run C is not overfitting", "normal"]),
        ({**RIGHT, "B": ("vanishing", "relu_he")}, ["Run B is not vanishing", "every layer"]),
        ({**RIGHT, "A": ("overfitting", "lower_lr")}, ["right, overfitting", "does not address"]),
        ({**RIGHT, "B": ("lr_too_low", "dropout")}, ["right, a learning rate", "raise"]),
    ],
)
def test_q4_confusions_are_answered_with_what_tells_them_apart(answer, words, assert_status):
    assert_status(ex.q4.check(answer), "incorrect", "2 of 3 runs right", *words)


def test_q4_answers_that_know_nothing_never_pass(always_equal):
    for failure, remedy in [("healthy", "none"), ("overfitting", "dropout")]:
        assert ex.q4.check(dict.fromkeys("ABC", (failure, remedy))).status == "incorrect"
    assert ex.q4.check(always_equal).status == "incorrect"
    assert ex.q4.check({"A": "overfitting"}).status == "incorrect"


# --- p1: playground challenge (its solution and set-up: test_challenges.py) ----------------------
def test_p1_only_dropout_or_l2_may_change(assert_status):
    answer = {**ex.p1.playground().state, "learning_rate": 0.0}
    assert_status(ex.p1.check(answer), "incorrect", "only dropout, l2 may change", "learning_rate")


@pytest.mark.parametrize("rate", [0.01, 0.9], ids=["p1-too-little", "p1-too-much"])
def test_p1_a_useless_dropout_rate_is_incorrect(rate, assert_status):
    answer = {**ex.p1.playground().state, "dropout": rate}
    assert_status(ex.p1.check(answer), "incorrect", "test loss", "under 0.6")
