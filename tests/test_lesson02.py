"""Lesson 02 exercises: the shown solutions pass, placeholders, wrong and bad answers do not."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit.exercises import lesson02 as ex
from labkit.models import build_mlp

pytestmark = pytest.mark.backends


# The lesson's own variable that q1's solution reads.
CONTEXT = {"record": ex.RECORD}


@pytest.fixture(scope="module")
def deep_solution_result(solution):
    """q2's reference solution, checked once (the check trains a model for a few seconds)."""
    return ex.q2.check(solution(ex.q2, **CONTEXT))


# --- every exercise ------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=lambda q: q.id)
def test_reference_solution_is_correct(q, solution, assert_status):
    result = q.check(solution(q, **CONTEXT))
    assert_status(result, "correct")
    assert result.points == q.points and bool(result)


def test_deep_model_solution_is_correct(deep_solution_result, assert_status):
    assert_status(deep_solution_result, "correct", "10 hidden layers")


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_untouched_placeholder_is_not_attempted(q, placeholder, assert_status):
    untouched = ... if q.kind == "value" else placeholder
    assert_status(q.check(untouched), "not_attempted", "not attempted", f"ex.{q.id}.hint()")


@pytest.mark.parametrize("q", [ex.q1, ex.q3], ids=lambda q: q.id)
def test_grader_path_equals_check(q, solution):
    answer = solution(q, **CONTEXT)
    assert q.grade(q.collect(answer)).to_dict() == q.check(answer).to_dict()


def test_grader_path_carries_the_model_as_keras_bytes(assert_status):
    data = ex.q2.collect(lambda: build_mlp(2, depth=3, width=8, output_units=3))
    assert type(data).__name__ == "KerasModelBytes"
    assert_status(ex.q2.grade(data), "incorrect", "at least 10")


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
@pytest.mark.parametrize("bad", [None, "0.25", float("nan"), float("inf"), np.zeros((2, 2))])
def test_bad_values_are_rejected_with_a_message(q, bad):
    result = q.check(bad)
    assert result.status in ("incorrect", "error"), str(result)
    assert result.message


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_an_always_equal_answer_is_rejected(q, always_equal, assert_status):
    assert_status(q.check(always_equal), "incorrect")


def test_hints_increase():
    for q in ex.LESSON:
        assert len(q.hints) >= 2
        assert "Hint 2" in str(q.hint(2)) and f"ex.{q.id}.hint(2)" in str(q.hint())


# --- q1: ratio from a record ---------------------------------------------------------------------
def test_ratio_matches_the_library_definition(assert_status):
    from labkit.gradients import vanishing_ratio

    assert_status(ex.q1.check(vanishing_ratio(ex.RECORD["norms"])), "correct")
    assert_status(ex.q1.check(np.float32(1.5e-4)), "correct")


@pytest.mark.parametrize(
    "answer, words",
    [
        (0.016 / 2.4e-06, ["upside down"]),
        (2.4e-06 / 0.0095, ["output layer", "hidden_6"]),
        (2.4e-06, ["hidden_1's norm itself"]),
        (0.5, ["divide it by the largest"]),
    ],
)
def test_ratio_plausible_mistakes_are_explained(answer, words, assert_status):
    assert_status(ex.q1.check(answer), "incorrect", *words)


# --- q3: the bound -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer, words",
    [
        (0.25 * 12, ["multiplied 0.25 by the number", "0.25 ** 12"]),
        (0.5**12, ["0.25"]),
        (0.25**11, ["12 factors"]),
        (1e-3, ["largest value of σ'(z) is 0.25"]),
    ],
)
def test_bound_plausible_mistakes_are_explained(answer, words, assert_status):
    assert_status(ex.q3.check(answer), "incorrect", *words)


def test_bound_written_differently_passes(assert_status):
    assert_status(ex.q3.check(np.prod(np.full(12, 0.25))), "correct")
    assert_status(ex.q3.check(2.0**-24), "correct")


# --- q2: a deep network that is healthy and learns ----------------------------------------------
def test_deep_sigmoid_network_is_rejected_for_vanishing_gradients(assert_status):
    result = ex.q2.check(
        lambda: build_mlp(2, depth=10, width=32, activation="sigmoid", output_units=3)
    )
    assert_status(result, "incorrect", "vanish", "ReLU")


def test_shallow_network_is_rejected_for_depth(assert_status):
    result = ex.q2.check(lambda: build_mlp(2, depth=3, width=32, output_units=3))
    assert_status(result, "incorrect", "3 hidden layers", "at least 10")


def test_wrong_input_or_output_shape_is_explained(assert_status):
    assert_status(
        ex.q2.check(lambda: build_mlp(30, depth=10, width=32, output_units=3)),
        "incorrect",
        "2 coordinates",
    )
    assert_status(
        ex.q2.check(lambda: build_mlp(2, depth=10, width=32, output_units=1)),
        "incorrect",
        "3 classes",
    )


def test_network_without_any_gradient_is_rejected(assert_status):
    keras.utils.set_random_seed(0)
    result = ex.q2.check(lambda: build_mlp(2, depth=10, width=2, output_units=3))
    assert_status(result, "incorrect", "no gradient at all", "wider")


def test_healthy_but_linear_network_is_rejected_for_not_learning(assert_status):
    result = ex.q2.check(
        lambda: build_mlp(2, depth=10, width=32, activation="linear", output_units=3)
    )
    assert_status(result, "incorrect", "test accuracy", "nonlinear activation")


def test_builder_that_raises_or_returns_a_non_model_is_incorrect(always_equal, assert_status):
    def boom():
        raise ValueError("no such activation")

    assert_status(ex.q2.check(boom), "incorrect", "failed", "no such activation")
    assert_status(ex.q2.check(lambda: "a model"), "incorrect", "keras.Model")
    assert_status(ex.q2.check(lambda: always_equal), "incorrect", "keras.Model")


def test_builder_that_hangs_runs_out_of_time(monkeypatch, assert_status):
    def forever():
        while True:
            pass

    monkeypatch.setattr(ex.q2, "time_budget", 0.2)
    assert_status(ex.q2.check(forever), "incorrect", "did not finish")


def test_a_functional_model_written_differently_passes(assert_status):
    def functional():
        inputs = keras.Input(shape=(2,))
        x = inputs
        for i in range(10):
            x = keras.layers.Dense(32, kernel_initializer="he_uniform", name=f"d{i}")(x)
            x = keras.layers.Activation("relu")(x)
        return keras.Model(inputs, keras.layers.Dense(3)(x))

    keras.utils.set_random_seed(3)
    assert_status(ex.q2.check(functional), "correct")
