"""Lesson 06 — Capstone, multi-class classification on digits: exercises, hints, solutions, checks.

Example
-------
>>> from labkit.exercises import lesson06 as ex
>>> ex.q1.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ModelExercise,
    expect_array,
)
from labkit.exercises.training import CHECK_SEED, train_for_check

__all__ = [
    "BATCH_SIZE",
    "EPOCHS",
    "LEARNING_RATE",
    "LESSON",
    "TARGET_ACCURACY",
    "q1",
    "q2",
    "q3",
    "summary",
]


# --- q1: one-hot labels --------------------------------------------------------------------------
def _one_hot_inputs() -> list[tuple]:
    """``(labels, num_classes)`` cases, including classes that never occur in ``labels``."""
    rng = np.random.default_rng(606)
    return [
        (np.array([0, 2, 1]), 3),
        (np.array([3, 0, 0, 1]), 6),
        (rng.integers(0, 10, size=25), 10),
        (np.array([7]), 10),
    ]


def _check_one_hot(inputs: list[tuple], outputs: list) -> str:
    for (labels, k), out in zip(inputs, outputs):
        where = f"(labels {labels.tolist()[:6]}{'...' if len(labels) > 6 else ''}, {k} classes)"
        out = expect_array(out, name=f"the output {where}")
        n = len(labels)
        if out.shape == (k, n) and n != k:
            raise Incorrect(
                f"the output {where} has shape {out.shape}: rows and columns are swapped. Use "
                f"one row per example and one column per class, shape ({n}, {k})."
            )
        if out.shape != (n, k):
            extra = (
                " Use num_classes for the number of columns, not labels.max() + 1: the "
                "highest classes may not occur in a batch."
                if out.ndim == 2 and out.shape[0] == n
                else ""
            )
            raise Incorrect(
                f"the output {where} has shape {out.shape}, expected ({n}, {k}).{extra}"
            )
        want = np.eye(k)[labels]
        if not np.array_equal(out, want):
            row = int(np.flatnonzero(np.any(out != want, axis=1))[0])
            raise Incorrect(
                f"row {row} {where} is {out[row].tolist()}, but example {row} has label "
                f"{labels[row]}: its row should be all 0 with a single 1 in column {labels[row]}."
            )
    return "Correct! One row per example, one column per class, a single 1 at the label."


q1 = FunctionExercise(
    id="q1",
    answer="one_hot",
    hints=[
        "Start from np.zeros((len(labels), num_classes)) and set one entry per row.",
        "`out[np.arange(len(labels)), labels] = 1` sets them all at once; `np.eye(num_classes)"
        "[labels]` is a one-line alternative.",
    ],
    check_fn=_check_one_hot,
    make_inputs=_one_hot_inputs,
    time_budget=10.0,
)


# --- q2: a numerically stable softmax ------------------------------------------------------------
def _softmax_inputs() -> list[tuple]:
    """Logit matrices, some with entries large enough to overflow ``np.exp``."""
    rng = np.random.default_rng(616)
    return [
        (rng.normal(size=(4, 10)),),
        (np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]]),),
        (np.array([[2.0, 2.0, 2.0, 2.0]]),),
        (3 * rng.normal(size=(3, 3)),),
    ]


def _reference_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_softmax(inputs: list[tuple], outputs: list) -> str:
    for (z,), out in zip(inputs, outputs):
        where = f"(logits of shape {z.shape}, largest |logit| {np.abs(z).max():.3g})"
        if isinstance(out, np.ndarray) and not np.all(np.isfinite(out)):
            raise Incorrect(
                f"the output {where} contains NaN or inf: np.exp overflows for logits near 1000. "
                "Subtract each row's maximum first; softmax does not change when you shift a row."
            )
        out = expect_array(out, name=f"the output {where}")
        if out.shape != z.shape:
            raise Incorrect(
                f"the output {where} has shape {out.shape}: softmax gives one probability per "
                f"logit, so it should be {z.shape}."
            )
        sums = out.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            column = " It looks normalized over the wrong axis: use axis=1." * bool(
                z.shape[0] > 1 and np.allclose(out.sum(axis=0), 1.0, atol=1e-6)
            )
            raise Incorrect(
                f"the rows {where} sum to {np.round(sums, 3).tolist()}; each row is a probability "
                f"distribution over the classes and must sum to 1.{column}"
            )
        want = _reference_softmax(z)
        if not np.allclose(out, want, rtol=1e-5, atol=1e-8):
            raise Incorrect(
                f"the probabilities {where} are off by up to {np.abs(out - want).max():.2g}: "
                "softmax(z)_j = exp(z_j) / sum_k exp(z_k), computed along each row."
            )
    return (
        "Correct! Each row sums to 1, the values match keras.ops.softmax, and logits of 1000 "
        "do not overflow."
    )


q2 = FunctionExercise(
    id="q2",
    answer="softmax",
    hints=[
        "softmax(z)_j = exp(z_j) / sum_k exp(z_k) along each row: use axis=1 with "
        "keepdims=True so the division broadcasts.",
        "exp(1000) overflows to inf. Subtracting the row's maximum, z - z.max(axis=1, "
        "keepdims=True), gives the same probabilities with every exponent ≤ 0.",
    ],
    check_fn=_check_softmax,
    make_inputs=_softmax_inputs,
    time_budget=10.0,
)


# --- q3: the capstone model ----------------------------------------------------------------------
TARGET_ACCURACY = 0.95
EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
MAX_PARAMS = 300_000
PROBE_SIZE = 256
BLOCKING_KINDS = ("vanishing", "exploding", "dead_relu")


def _check_model(model) -> str:
    import keras

    from labkit import datasets
    from labkit.diagnose import diagnose

    try:
        inputs, outputs = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    except (AttributeError, ValueError, TypeError):
        raise Incorrect(
            "the checker could not read the model's input and output shapes: build a Sequential "
            "model that starts with keras.Input(shape=(64,))."
        ) from None
    if inputs != (64,):
        raise Incorrect(
            f"the model's input shape is {inputs}; the digits come as flat vectors of 64 pixels, "
            "so start with keras.Input(shape=(64,))."
        )
    if outputs != (10,):
        raise Incorrect(
            f"the model's output shape is {outputs}; there are 10 classes, so the last layer "
            "needs 10 units (one logit per digit)."
        )
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if isinstance(last, keras.layers.Softmax) or activation == "softmax":
        raise Incorrect(
            "the last layer applies softmax, but the checker trains with "
            "SparseCategoricalCrossentropy(from_logits=True), which applies softmax itself. "
            "Leave the output layer linear (no activation)."
        )
    if model.count_params() > MAX_PARAMS:
        raise Incorrect(
            f"the model has {model.count_params():,} weights; keep it under {MAX_PARAMS:,} so "
            "the checker can train it in a few seconds (two hidden layers of 128-256 units is "
            "plenty for 8×8 digits)."
        )

    (x_train, y_train), test = datasets.load("digits")
    run = train_for_check(
        model,
        (x_train, y_train),
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        eval_data=test,
        clone=True,
    )
    if run.diverged:
        raise Incorrect(
            f"{run.diverged}: the gradients exploded. Lower the learning rate's effect with "
            "batch normalization or smaller initial weights (He/Glorot)."
        )
    model, accuracy = run.model, run.accuracy
    report = diagnose(model, x_train[:PROBE_SIZE], y_train[:PROBE_SIZE])
    problems = [f for f in report if f.kind in BLOCKING_KINDS]

    shortfalls = []
    if accuracy < TARGET_ACCURACY:
        shortfalls.append(
            f"test accuracy {accuracy:.1%} is {(TARGET_ACCURACY - accuracy) * 100:.1f} "
            f"percentage points short of the {TARGET_ACCURACY:.0%} target"
        )
    for f in problems:
        shortfalls.append(f"diagnose found {f.kind} in {f.layer}: {f.message}")
    budget = (
        f"(trained {EPOCHS} epochs, batch {BATCH_SIZE}, Adam {LEARNING_RATE:g}, seed {CHECK_SEED})"
    )
    if shortfalls:
        raise Incorrect(f"{budget} " + "; ".join(shortfalls))
    return (
        f"Correct! {budget}: test accuracy {accuracy:.1%} (target {TARGET_ACCURACY:.0%}), and "
        "diagnose finds no vanishing, exploding or dead-ReLU layer."
    )


q3 = ModelExercise(
    id="q3",
    answer="build_model",
    hints=[
        "Everything from the course applies: ReLU hidden layers with He initialization, a "
        "linear output of 10 units, and dropout at the rate the validation set chose.",
        "`build_mlp(64, depth=2, width=256, dropout=best_dropout, output_units=10)` from "
        "labkit.models builds such a network.",
        "Written by hand: keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(256, "
        "activation='relu', kernel_initializer='he_normal'), keras.layers.Dropout(0.2), ..., "
        "keras.layers.Dense(10)]).",
    ],
    constants={"epochs": EPOCHS, "batch": BATCH_SIZE, "target": TARGET_ACCURACY},
    check_fn=_check_model,
    points=3,
    time_budget=30.0,
)


LESSON = Lesson("06_capstone", [q1, q2, q3])
summary = LESSON.summary
