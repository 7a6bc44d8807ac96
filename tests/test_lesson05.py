"""Lesson 05 exercises: reference solutions pass, placeholders are 'not attempted', plausible
wrong answers fail with a message that teaches, bad inputs never raise."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labkit.exercises import lesson05 as ex

pytestmark = pytest.mark.backends


# The lesson's own variable that q2's solution reads.
CONTEXT = {"sweep_record": ex.SWEEP_RECORD}


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


# --- q2: best_rate --------------------------------------------------------------------------------
def test_q2_solution_is_correct(solution):
    best_rate = solution(ex.q2, **CONTEXT)
    assert status(ex.q2, best_rate)[0] == "correct"
    assert best_rate == min(ex.SWEEP_RECORD, key=lambda r: r["val_loss"])["rate"]


def test_q2_placeholder_is_not_attempted():
    assert status(ex.q2, ...)[0] == "not_attempted"


@pytest.mark.parametrize(
    "answer, words",
    [
        (0.0, "TRAINING loss"),
        (0.5, "validation accuracy"),
        (1.0, "learns"),
        (0.1, "not the lowest"),
        (0.25, "not one of the swept rates"),
    ],
)
def test_q2_wrong_rates_teach(answer, words):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert words in message


@pytest.mark.parametrize("answer", [None, "0.3", float("nan"), float("inf"), [0.3]])
def test_q2_bad_inputs_get_a_message(answer):
    state, message = status(ex.q2, answer)
    assert state == "incorrect"
    assert message


def test_q2_an_always_equal_answer_gets_a_message(always_equal):
    state, message = status(ex.q2, always_equal)
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
