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
from labkit.exercises.diagnosis import DiagnosisExercise
from labkit.exercises.recording import Recipe
from labkit.exercises.training import CHECK_SEED, train_for_check

__all__ = [
    "BATCH_SIZE",
    "EPOCHS",
    "LEARNING_RATE",
    "LESSON",
    "RUNS",
    "TARGET_ACCURACY",
    "broken_model",
    "q1",
    "q2",
    "q3",
    "q4",
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


# --- q3: fix the broken model, judged on the hidden split ---------------------------------------
TARGET_ACCURACY = 0.90
CHANCE = 0.10
EPOCHS = 15
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
MAX_PARAMS = 300_000
PROBE_SIZE = 256
BLOCKING_KINDS = ("vanishing", "exploding", "dead_relu", "saturation")


def broken_model():
    """The capstone's broken network: six sigmoid layers, weights drawn with std 1, softmax out.

    Example
    -------
    >>> broken_model().layers[-1].activation.__name__
    'softmax'
    """
    import keras

    from labkit.models import build_mlp

    return build_mlp(
        64,
        depth=6,
        width=64,
        activation="sigmoid",
        kernel_initializer=keras.initializers.RandomNormal(stddev=1.0),
        output_units=10,
        output_activation="softmax",
    )


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
    if not model.trainable_weights:
        raise Incorrect(
            "the model has no trainable weights, so training cannot change what it predicts: "
            "it would score chance (10%) at best. Give it Dense layers that can learn."
        )
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if isinstance(last, keras.layers.Softmax) or activation == "softmax":
        raise Incorrect(
            "the last layer applies softmax, but the checker trains with "
            "SparseCategoricalCrossentropy(from_logits=True), which applies softmax itself: "
            "softmax twice flattens the probabilities and shrinks the gradient. Leave the "
            "output layer linear (no activation)."
        )
    if model.count_params() > MAX_PARAMS:
        raise Incorrect(
            f"the model has {model.count_params():,} weights; keep it under {MAX_PARAMS:,} so "
            "the checker can train it in a few seconds (two hidden layers of 128-256 units is "
            "plenty for 8×8 digits)."
        )

    (x_train, y_train), _ = datasets.load("digits")
    x_hidden, y_hidden = datasets.hidden("digits")
    majority = float(np.bincount(y_hidden).max() / len(y_hidden))
    probe = (x_train[:PROBE_SIZE], y_train[:PROBE_SIZE])
    run = train_for_check(
        model,
        (x_train, y_train),
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        eval_data=(x_hidden, y_hidden),
        inspect=lambda fresh: diagnose(fresh, *probe),
        clone=True,
    )
    budget = (
        f"(trained {EPOCHS} epochs on the lesson's training split, batch {BATCH_SIZE}, Adam "
        f"{LEARNING_RATE:g}, seed {CHECK_SEED}; judged on {len(y_hidden)} hidden digits the "
        f"notebook never loads, where chance is {CHANCE:.0%} and always answering the most "
        f"common class scores {majority:.1%})"
    )
    if run.diverged:
        raise Incorrect(
            f"{budget} {run.diverged}: the gradients exploded. Draw the initial weights at the "
            "scale of He or Glorot initialization instead of a fixed large std."
        )
    model, accuracy = run.model, run.accuracy
    problems = [
        (when, f)
        for when, report in (("before training", run.inspected), ("after training", None))
        for f in (report if report is not None else diagnose(model, *probe))
        if f.kind in BLOCKING_KINDS
    ]

    shortfalls = []
    if accuracy < TARGET_ACCURACY:
        learned = (
            "no better than guessing: the model learned nothing from the pixels"
            if accuracy <= majority + 0.05
            else f"{(TARGET_ACCURACY - accuracy) * 100:.1f} percentage points short of the "
            f"{TARGET_ACCURACY:.0%} target"
        )
        shortfalls.append(
            f"hidden-split accuracy {accuracy:.1%} (loss {run.start_loss:.3f} before training, "
            f"{run.final_loss:.3f} after) is {learned}"
        )
    for when, f in problems:
        shortfalls.append(f"{when}, diagnose found {f.kind} in {f.layer}: {f.message}")
    if shortfalls:
        raise Incorrect(f"{budget} " + "; ".join(shortfalls))
    return (
        f"Correct! {budget}: hidden-split accuracy {accuracy:.1%} (target "
        f"{TARGET_ACCURACY:.0%}, {(accuracy - CHANCE) * 100:.0f} points above chance), and "
        "diagnose finds no vanishing, exploding, dead-ReLU or saturated layer."
    )


q3 = ModelExercise(
    id="q3",
    answer="build_model",
    hints=[
        "Run diagnose on broken_model() and look at every layer: how many faults can you name? "
        "There are three: the activation, the initial weights and the output layer.",
        "Six sigmoid layers make the gradient vanish (lesson 2); weights of std 1 saturate "
        "every sigmoid and blow up a ReLU network (lesson 3); softmax before a from_logits loss "
        "applies softmax twice.",
        "Two ReLU layers of 128 units with He initialization and a linear output of 10 units "
        "is enough: build_mlp(64, depth=2, width=128, output_units=10) from labkit.models.",
    ],
    constants={
        "epochs": EPOCHS,
        "batch": BATCH_SIZE,
        "target": TARGET_ACCURACY,
        "chance": CHANCE,
    },
    check_fn=_check_model,
    points=3,
    time_budget=30.0,
)


# --- q4: diagnose four recorded digits runs -------------------------------------------------------
RUNS = [
    Recipe(
        "A",
        "overfitting",
        "2 ReLU layers of 256 units, Adam 0.003, 60 epochs on only the first 100 training digits",
        "digits",
        depth=2,
        width=256,
        optimizer="adam",
        learning_rate=0.003,
        epochs=60,
        batch_size=100,
        train_size=100,
    ),
    Recipe(
        "B",
        "vanishing",
        "6 sigmoid layers of 32 units (Glorot), SGD 0.1, 5 epochs, batches of 64",
        "digits",
        depth=6,
        activation="sigmoid",
        learning_rate=0.1,
        epochs=5,
        batch_size=64,
    ),
    Recipe(
        "C",
        "healthy",
        "2 ReLU layers of 128 units (He), Adam 0.002, 8 epochs, batches of 64",
        "digits",
        depth=2,
        width=128,
        optimizer="adam",
        learning_rate=0.002,
        epochs=8,
        batch_size=64,
    ),
    Recipe(
        "D",
        "dead_relu",
        "3 ReLU layers of 64 units (He, biases started at -1), SGD 0.1, 5 epochs, batches of 64",
        "digits",
        depth=3,
        width=64,
        bias=-1.0,
        learning_rate=0.1,
        epochs=5,
        batch_size=64,
    ),
]
"""The recorded runs of q4 (``labkit build 06`` trains them on digits)."""

q4 = DiagnosisExercise(
    id="q4",
    answer="diagnosis",
    runs=[recipe.id for recipe in RUNS],
    hints=[
        "Start with the loss panel and its dashed line, the loss of guessing the class "
        "frequencies (ln 10 ≈ 2.30): which runs never get below it?",
        "Two runs are stuck at 2.30 for different reasons. Compare the gradient panel (does the "
        "lowest layer's norm sit orders of magnitude below the top's?) with the dead-unit panel "
        "(does a layer output 0 for every example?).",
        "A run whose training loss falls far below its validation loss, while the validation "
        "loss turns back up, memorizes its training set.",
    ],
    points=2,
)


LESSON = Lesson("06_capstone", [q1, q2, q3, q4])
summary = LESSON.summary
