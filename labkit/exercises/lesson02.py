"""Lesson 02 — Vanishing gradients: exercises, hints, solutions and checks.

Example
-------
>>> from labkit.exercises import lesson02 as ex
>>> ex.q3.check(0.25**12).status
'correct'
"""

from __future__ import annotations

import math

from labkit.exercises.core import Incorrect, Lesson, ModelExercise, ValueExercise, expect_number
from labkit.exercises.training import train_for_check

__all__ = ["LESSON", "RECORD", "q1", "q2", "q3", "summary"]


# --- q1: the vanishing ratio from a monitor's record -------------------------------------------
RECORD = {
    "step": 120,
    "epoch": 9,
    "norms": {
        "hidden_1": 2.4e-06,
        "hidden_2": 1.1e-05,
        "hidden_3": 6.3e-05,
        "hidden_4": 4.0e-04,
        "hidden_5": 2.9e-03,
        "hidden_6": 1.6e-02,
        "output": 9.5e-03,
    },
}
"""One record of a ``GradientMonitor.history`` (a 6-layer sigmoid network), given to students."""

_NORMS = RECORD["norms"]
_RATIO = _NORMS["hidden_1"] / max(_NORMS.values())


def _check_ratio(value) -> str:
    number = expect_number(value, "ratio")
    if math.isclose(number, _RATIO, rel_tol=1e-3):
        return (
            f"Correct! The lowest layer gets {number:.1e} of the largest gradient: far below the "
            "monitor's default threshold of 1e-3, so this network has vanishing gradients."
        )
    if math.isclose(number, 1 / _RATIO, rel_tol=1e-3):
        raise Incorrect(
            f"ratio is {number:.3g}, upside down: divide the LOWEST layer's norm (hidden_1) by "
            "the largest norm, so a healthy network gives about 1 and a vanishing one ≪ 1."
        )
    if math.isclose(number, _NORMS["hidden_1"] / _NORMS["output"], rel_tol=1e-3):
        raise Incorrect(
            "you divided by the output layer's norm, but here the largest norm is hidden_6's. "
            "Use max(record['norms'].values())."
        )
    if math.isclose(number, min(_NORMS.values()), rel_tol=1e-3):
        raise Incorrect(
            "that is hidden_1's norm itself; the ratio compares it with the largest norm."
        )
    raise Incorrect(
        f"ratio is {number:.3g}. Take record['norms']['hidden_1'] (the lowest layer) and divide "
        "it by the largest value in record['norms']."
    )


q1 = ValueExercise(
    id="q1",
    answer="ratio",
    hints=[
        "record['norms'] is a dict {layer name: gradient norm}, input side first.",
        "ratio = record['norms']['hidden_1'] / max(record['norms'].values())",
    ],
    check_fn=_check_ratio,
    points=1,
)


# --- q2: a deep network that stays healthy and learns ------------------------------------------
MIN_HIDDEN = 10
MIN_RATIO = 1e-3
MIN_ACCURACY = 0.8
TRAIN_EPOCHS = 8


def _spiral():
    from labkit import datasets

    return datasets.load("spiral")


def _hidden_layers(model) -> list[str]:
    """Layers with a weight matrix (Dense/Conv kernels), the output layer excluded."""
    with_kernel = [
        layer.name for layer in model.layers if getattr(layer, "kernel", None) is not None
    ]
    return with_kernel[:-1]


def _judge_gradient_profile(model, x, y) -> float:
    """The vanishing ratio at initialization, or :class:`Incorrect` when gradients vanish."""
    from labkit.gradients import layer_gradient_norms, vanishing_ratio

    norms = layer_gradient_norms(model, x, y)
    ratio = vanishing_ratio(norms)
    if not math.isfinite(ratio):
        raise Incorrect(
            "the gradients at initialization are not finite (or all zero); use a standard "
            "initializer such as He normal with ReLU."
        )
    first = next(iter(norms))
    if ratio == 0:
        raise Incorrect(
            f"{first} gets no gradient at all (norm 0): every path back to it is blocked, e.g. "
            "by ReLU layers so narrow that all their units output 0. Use wider layers (e.g. 32 "
            "units) with He initialization."
        )
    if ratio < MIN_RATIO:
        raise Incorrect(
            f"the gradients vanish: {first}'s gradient norm is {ratio:.1e} of the largest layer's "
            f"(it needs ≥ {MIN_RATIO:g}). Use ReLU activations with He initialization."
        )
    return ratio


def _check_deep_model(model) -> str:
    """Judge the gradient profile at a NumPy-drawn initialization, then a short Adam run in the
    data's stored (already shuffled) order: the same run on TensorFlow, JAX and PyTorch."""
    import keras

    if tuple(model.input_shape[1:]) != (2,):
        raise Incorrect(
            f"the model takes inputs of shape {tuple(model.input_shape[1:])}; spiral points have "
            "2 coordinates: start with keras.Input(shape=(2,))."
        )
    if tuple(model.output_shape[1:]) != (3,):
        raise Incorrect(
            f"the model outputs shape {tuple(model.output_shape[1:])}; the spiral has 3 classes: "
            "end with Dense(3) (no activation: 3 logits)."
        )
    hidden = _hidden_layers(model)
    if len(hidden) < MIN_HIDDEN:
        raise Incorrect(
            f"the model has {len(hidden)} hidden layers with weights; this exercise is about deep "
            f"networks, so it needs at least {MIN_HIDDEN} (e.g. build_mlp(2, depth=10, ...))."
        )
    (x_train, y_train), (x_test, y_test) = _spiral()
    run = train_for_check(
        model,
        (x_train, y_train),
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=TRAIN_EPOCHS,
        batch_size=64,
        eval_data=(x_test, y_test),
        inspect=lambda m: _judge_gradient_profile(m, x_train[:256], y_train[:256]),
    )
    ratio = run.inspected
    if run.diverged:
        raise Incorrect(
            f"{run.diverged}: the gradients exploded. Keep the default He initialization and "
            "no huge initial weights."
        )
    accuracy = run.accuracy
    if accuracy < MIN_ACCURACY:
        raise Incorrect(
            f"the gradient profile is healthy (ratio {ratio:.1e}), but after {TRAIN_EPOCHS} "
            f"epochs of Adam the test accuracy is only {accuracy:.0%} (needs ≥ "
            f"{MIN_ACCURACY:.0%}). Give the hidden layers a nonlinear activation such as ReLU "
            "and enough units (e.g. 32), and keep the output layer linear."
        )
    return (
        f"Correct! {len(hidden)} hidden layers, a healthy gradient profile (vanishing ratio "
        f"≥ {MIN_RATIO:g}) and at least {MIN_ACCURACY:.0%} test accuracy after {TRAIN_EPOCHS} "
        "short epochs."
    )


q2 = ModelExercise(
    id="q2",
    answer="build_deep_model",
    hints=[
        "The sigmoid network of this lesson fails on both counts. What did section 3 change?",
        "labkit.models.build_mlp(2, depth=10, width=32, activation='relu', output_units=3) — "
        "for ReLU it uses He initialization by default.",
    ],
    constants={
        "min_hidden": MIN_HIDDEN,
        "min_ratio": MIN_RATIO,
        "min_accuracy": MIN_ACCURACY,
        "epochs": TRAIN_EPOCHS,
    },
    check_fn=_check_deep_model,
    points=2,
)


# --- q3: the bound on a product of sigmoid derivatives -----------------------------------------
N_LAYERS = 12
_BOUND = 0.25**N_LAYERS


def _check_bound(value) -> str:
    number = expect_number(value, "bound")
    if math.isclose(number, _BOUND, rel_tol=1e-3):
        return (
            f"Correct! At most {number:.1e}: through {N_LAYERS} sigmoid layers the activation "
            "derivatives alone can shrink a gradient about 17 million-fold."
        )
    if math.isclose(number, 0.25 * N_LAYERS, rel_tol=1e-3):
        raise Incorrect(
            "you multiplied 0.25 by the number of layers; the chain rule MULTIPLIES one factor "
            f"per layer: 0.25 · 0.25 · … ({N_LAYERS} times) = 0.25 ** {N_LAYERS}."
        )
    if math.isclose(number, 0.5**N_LAYERS, rel_tol=1e-3):
        raise Incorrect(
            "σ(0) is 0.5, but σ'(z) = σ(z)(1 − σ(z)) peaks at 0.5 · 0.5 = 0.25: use 0.25 per layer."
        )
    for n in (N_LAYERS - 1, N_LAYERS + 1):
        if math.isclose(number, 0.25**n, rel_tol=1e-3):
            raise Incorrect(
                f"that is 0.25 ** {n}; count one sigmoid derivative per layer: {N_LAYERS} factors."
            )
    if number > 1:
        raise Incorrect(f"bound is {number:.3g}, but a product of numbers ≤ 0.25 is below 1.")
    raise Incorrect(
        f"bound is {number:.3g}. The largest value of σ'(z) is 0.25; multiply {N_LAYERS} of them."
    )


q3 = ValueExercise(
    id="q3",
    answer="bound",
    hints=[
        "What is the largest value σ'(z) = σ(z)(1 − σ(z)) can take, and at which z?",
        f"It is 0.25 (at z = 0), and the chain rule multiplies one such factor per layer: "
        f"0.25 ** {N_LAYERS}.",
    ],
    constants={"n_layers": N_LAYERS},
    check_fn=_check_bound,
    points=1,
)

LESSON = Lesson("02_vanishing_gradients", [q1, q2, q3])
summary = LESSON.summary
