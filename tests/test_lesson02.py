"""Lesson 02 exercises: the shown solutions pass, placeholders, wrong and bad answers do not."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit.exercises import lesson02 as ex
from labkit.models import build_mlp

pytestmark = pytest.mark.backends


# The lesson's own variables that the solution cells read.
CONTEXT = {"record": ex.RECORD, "update_record": ex.UPDATE_RECORD}
VALUE_EXERCISES = [ex.q1, ex.q3]
LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _sigmoid_stack(depth=10, **dense):
    """A plain deep sigmoid network (the lesson's failing model), Dense options passed on."""
    return build_mlp(2, depth=depth, width=32, activation="sigmoid", output_units=3, **dense)


@pytest.fixture(scope="module")
def sigmoid_solution_result(solution):
    """q2's reference solution, checked once (the check trains a model for a few seconds)."""
    return ex.q2.check(solution(ex.q2, **CONTEXT))


# --- every exercise ------------------------------------------------------------------------------
@pytest.mark.parametrize("q", VALUE_EXERCISES, ids=lambda q: q.id)
def test_reference_solution_is_correct(q, solution, assert_status):
    result = q.check(solution(q, **CONTEXT))
    assert_status(result, "correct")
    assert result.points == q.points and bool(result)


def test_sigmoid_model_solution_is_correct(sigmoid_solution_result, assert_status):
    assert_status(sigmoid_solution_result, "correct", "10 sigmoid layers", "chance 33%")


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_untouched_placeholder_is_not_attempted(q, placeholder, assert_status):
    untouched = {
        "value": ...,
        "model": placeholder,
        "diagnosis": {"A": ..., "B": ..., "C": ...},
        "quiz": ...,
        "playground": ...,
    }[q.kind]
    assert_status(q.check(untouched), "not_attempted", "not attempted", f"ex.{q.id}.hint()")


@pytest.mark.parametrize("q", VALUE_EXERCISES, ids=lambda q: q.id)
def test_grader_path_equals_check(q, solution):
    answer = solution(q, **CONTEXT)
    assert q.grade(q.collect(answer)).to_dict() == q.check(answer).to_dict()


def test_grader_path_carries_the_model_as_keras_bytes(assert_status):
    data = ex.q2.collect(lambda: _sigmoid_stack(depth=3))
    assert type(data).__name__ == "KerasModelBytes"
    assert_status(ex.q2.grade(data), "incorrect", "3 sigmoid layers", "at least 10")


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
@pytest.mark.parametrize("bad", [None, "0.25", float("nan"), float("inf"), np.zeros((2, 2))])
def test_bad_values_are_incorrect_with_a_message(q, bad):
    result = q.check(bad)
    assert result.status == "incorrect", str(result)
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


# --- q3: the output layer's update ratio after raising the learning rate -------------------------
def test_output_ratio_is_the_same_shift_on_the_log_scale(assert_status):
    updates = ex.UPDATE_RECORD["update_ratio"]
    shift = -3 - updates["hidden_1"]
    assert_status(ex.q3.check(updates["output"] + shift), "correct", "cannot fix vanishing")
    assert_status(ex.q3.check(np.float32(2.7 + 0.04)), "correct")


@pytest.mark.parametrize(
    "answer, words",
    [
        (-2.6, ["before the change", "EVERY layer"]),
        (-3.0, ["where hidden_1 ends up"]),
        (-2.6 - 5.3, ["wrong sign"]),
        (5.3, ["change of the learning rate"]),
        (10**5.3, ["change of the learning rate"]),
        (0.0, ["log10 scale"]),
    ],
)
def test_output_ratio_trivial_and_plausible_answers_are_explained(answer, words, assert_status):
    assert_status(ex.q3.check(answer), "incorrect", *words)


# --- q2: a deep network that keeps its sigmoids and still learns ------------------------------
def test_plain_deep_sigmoid_network_is_rejected_for_vanishing_gradients(assert_status):
    assert_status(ex.q2.check(_sigmoid_stack), "incorrect", "gradients vanish", "near 0")


def test_he_initialization_alone_does_not_pass(assert_status):
    result = ex.q2.check(lambda: _sigmoid_stack(kernel_initializer="he_normal"))
    assert_status(result, "incorrect", "gradients vanish")


def test_relu_or_tanh_breaks_the_constraint(assert_status):
    for activation in ("relu", "tanh"):
        result = ex.q2.check(
            lambda a=activation: build_mlp(2, depth=10, width=32, activation=a, output_units=3)
        )
        assert_status(result, "incorrect", f"uses {activation}", "keeps every hidden activation")


def test_shallow_network_is_rejected_for_depth(assert_status):
    result = ex.q2.check(lambda: _sigmoid_stack(depth=3))
    assert_status(result, "incorrect", "3 sigmoid layers", "at least 10")


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


def test_model_without_trainable_weights_is_incorrect_not_an_error(solution, assert_status):
    def frozen():
        model = solution(ex.q2, **CONTEXT)()
        model.trainable = False
        return model

    assert_status(ex.q2.check(frozen), "incorrect", "no trainable weights")


def test_constant_predictor_is_rejected(assert_status):
    result = ex.q2.check(lambda: _sigmoid_stack(kernel_initializer="zeros"))
    assert_status(result, "incorrect", "no gradient at all", "constant")


def test_a_learning_rate_that_does_nothing_fails_the_reference(
    solution, monkeypatch, assert_status
):
    monkeypatch.setattr(ex, "LEARNING_RATE", 0.0)
    result = ex.q2.check(solution(ex.q2, **CONTEXT))
    assert_status(
        result, "incorrect", "class frequencies scores 1.099", f"needs ≤ {ex.MAX_LOSS:.3f}"
    )


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


# --- q4: diagnose recorded runs ------------------------------------------------------------------
RIGHT = {"A": ("lr_too_low", "raise_lr"), "B": ("healthy", "none"), "C": ("vanishing", "relu_he")}


def test_recorded_runs_show_their_failures():
    runs = ex.q4.recorded()
    assert [runs[r].failure for r in "ABC"] == ["lr_too_low", "healthy", "vanishing"]
    slow, healthy, vanishing = (runs[r].clues for r in "ABC")
    assert vanishing["vanishing_ratio"] < 1e-5 < slow["vanishing_ratio"]
    assert slow["update_ratio"] < -4 < healthy["update_ratio"]
    assert healthy["loss_end"] < 0.5 * healthy["baseline_loss"] < slow["loss_end"]
    for run in runs.values():
        assert "vanish" not in run.description and "healthy" not in run.description


def test_the_right_diagnosis_is_correct(assert_status):
    assert_status(ex.q4.check(RIGHT), "correct", "C: vanishing gradients")
    assert_status(ex.q4.check({**RIGHT, "C": ("vanishing", "batch_norm")}), "correct")


def test_look_alikes_are_told_apart(assert_status):
    swapped = {**RIGHT, "A": ("vanishing", "relu_he"), "C": ("lr_too_low", "raise_lr")}
    result = ex.q4.check(swapped)
    assert_status(result, "incorrect", "1 of 3", "every layer's step tiny", "no learning rate")


def test_a_remedy_that_does_not_address_the_failure_is_explained(assert_status):
    result = ex.q4.check({**RIGHT, "C": ("vanishing", "raise_lr")})
    assert_status(result, "incorrect", "does not address", "ReLU with He")


def test_calling_everything_healthy_is_incorrect(assert_status):
    result = ex.q4.check(dict.fromkeys("ABC", ("healthy", "none")))
    assert_status(result, "incorrect", "1 of 3")


def test_junk_diagnosis_is_incorrect_with_the_vocabulary(assert_status):
    assert_status(ex.q4.check({**RIGHT, "A": ("slow", "none")}), "incorrect", "'lr_too_low'")
    assert_status(ex.q4.check({"A": RIGHT["A"]}), "incorrect", "missing: B, C")


# --- p1: the playground challenge (its solution and set-up: test_challenges.py) ------------------
@pytest.mark.parametrize(
    "change, words",
    [
        ({"learning_rate": 0.0}, ["majority class", "at least"]),  # a run that learns nothing
        ({"initializer": "he"}, ["majority class", "at least"]),  # section 5: He alone fails
        (
            {"activation": "relu", "initializer": "he", "depth": 3},
            ["changed 3 controls", "at most 2"],
        ),
    ],
)
def test_p1_useless_and_too_many_changes_are_explained(change, words, assert_status):
    answer = {**ex.p1.playground().state, **change}
    assert_status(ex.p1.check(answer), "incorrect", *words)
