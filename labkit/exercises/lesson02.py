"""Lesson 02 — Vanishing gradients: exercises, hints, solutions and checks.

Example
-------
>>> from labkit.exercises import lesson02 as ex
>>> ex.q1.check(2.4e-06 / 1.6e-02).status
'correct'
"""

from __future__ import annotations

import math

from labkit.exercises.core import Incorrect, Lesson, ModelExercise, ValueExercise, expect_number
from labkit.exercises.diagnosis import FAILURES, REMEDIES, DiagnosisExercise
from labkit.exercises.recording import Recipe
from labkit.exercises.training import train_for_check

__all__ = [
    "FAILURES",
    "LESSON",
    "RECORD",
    "REMEDIES",
    "RUNS",
    "UPDATE_RECORD",
    "q1",
    "q2",
    "q3",
    "q4",
    "summary",
]


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


# --- q2: a deep network that must keep its sigmoids, and still learns --------------------------
MIN_HIDDEN = 10
MIN_RATIO = 1e-3
CHANCE = 1 / 3
MARGIN = 0.15
MIN_ACCURACY = CHANCE + MARGIN
TRAIN_EPOCHS = 8
LEARNING_RATE = 0.1
_ALLOWED = (None, "sigmoid", "linear")


def _spiral():
    from labkit import datasets

    return datasets.load("spiral")


def _layers(model) -> list:
    """Every layer of a Sequential or Functional model, nested models flattened."""
    layers = []
    for layer in model.layers:
        layers.extend(_layers(layer) if hasattr(layer, "layers") else [layer])
    return layers


def _sigmoid_layers(model) -> list[str]:
    """The names of the sigmoid-activated layers, or :class:`Incorrect` for another activation."""
    from labkit.activations import activation_kind

    sigmoid = []
    for layer in _layers(model):
        kind = activation_kind(layer)
        if kind not in _ALLOWED:
            raise Incorrect(
                f"layer {layer.name!r} uses {kind}; this exercise keeps every hidden activation a "
                "sigmoid. Find a change that makes the sigmoids themselves pass the gradient."
            )
        if kind == "sigmoid":
            sigmoid.append(layer.name)
    return sigmoid


def _judge_gradient_profile(model, x, y) -> float:
    """The vanishing ratio at initialization, or :class:`Incorrect` when gradients vanish."""
    from labkit.gradients import layer_gradient_norms, vanishing_ratio

    norms = layer_gradient_norms(model, x, y)
    ratio = vanishing_ratio(norms)
    first = next(iter(norms))
    if not math.isfinite(ratio):
        raise Incorrect(
            "the gradients at initialization are not finite (or all zero); keep the default "
            "initializers and no huge weights."
        )
    if ratio == 0:
        raise Incorrect(
            f"{first} gets no gradient at all (norm 0): every path back to it is blocked, e.g. "
            "by all-zero weights above it, so the network can only ever predict a constant."
        )
    if ratio < MIN_RATIO:
        raise Incorrect(
            f"the gradients vanish: {first}'s gradient norm is {ratio:.1e} of the largest layer's "
            f"(it needs ≥ {MIN_RATIO:g}). The sigmoid's derivative is at most 0.25 at z = 0 and "
            "far smaller when |z| is large: what keeps every layer's z near 0 with a spread of "
            "about 1?"
        )
    return ratio


def _check_sigmoid_model(model) -> str:
    """Judge the activations, the gradient profile at a NumPy-drawn initialization, then a short
    SGD run in the data's stored order: the same run on TensorFlow, JAX and PyTorch."""
    import keras

    if not model.trainable_weights:
        raise Incorrect(
            "the model has no trainable weights, so training cannot change what it predicts: "
            "leave its layers trainable."
        )
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
    sigmoid = _sigmoid_layers(model)
    if len(sigmoid) < MIN_HIDDEN:
        raise Incorrect(
            f"the model has {len(sigmoid)} sigmoid layers; this exercise is about deep sigmoid "
            f"networks, so it needs at least {MIN_HIDDEN}."
        )
    (x_train, y_train), (x_test, y_test) = _spiral()
    run = train_for_check(
        model,
        (x_train, y_train),
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=TRAIN_EPOCHS,
        batch_size=64,
        eval_data=(x_test, y_test),
        inspect=lambda m: _judge_gradient_profile(m, x_train[:256], y_train[:256]),
    )
    if run.diverged:
        raise Incorrect(f"{run.diverged}: keep the default initializers and no huge weights.")
    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for layer in _layers(model))
    if run.accuracy < MIN_ACCURACY and has_bn and run.final_loss < 0.6 * run.start_loss:
        raise Incorrect(
            f"the training loss fell {run.start_loss:.3f} → {run.final_loss:.3f}, yet the test "
            f"accuracy is {run.accuracy:.0%} (chance {CHANCE:.0%}, needed ≥ {MIN_ACCURACY:.0%}). "
            "Predictions use batch normalization's running statistics, which follow the batches "
            "slowly (momentum 0.99 by default) and lag behind in a short run: try "
            "BatchNormalization(momentum=0.9)."
        )
    if run.accuracy < MIN_ACCURACY:
        raise Incorrect(
            f"the gradient profile is healthy (ratio {run.inspected:.1e}), but after "
            f"{TRAIN_EPOCHS} epochs the test accuracy is {run.accuracy:.0%}: chance is "
            f"{CHANCE:.0%} and the check needs ≥ {MIN_ACCURACY:.0%} (chance + {MARGIN:.0%}); the "
            f"training loss went {run.start_loss:.3f} → {run.final_loss:.3f}. Are all the "
            "layers trainable, and does the output depend on the input?"
        )
    return (
        f"Correct! {len(sigmoid)} sigmoid layers, vanishing ratio {run.inspected:.2f} at "
        f"initialization and {run.accuracy:.0%} test accuracy (chance {CHANCE:.0%}) after "
        f"{TRAIN_EPOCHS} epochs."
    )


q2 = ModelExercise(
    id="q2",
    answer="build_sigmoid_model",
    hints=[
        "Section 3: σ'(z) is 0.25 at z = 0 and nearly 0 when a unit saturates. The profile is "
        "set by the pre-activations z of each layer: what would keep them centred with spread 1?",
        "Normalize each layer's pre-activations over the batch: Dense(32), then "
        "BatchNormalization(momentum=0.9), then Activation('sigmoid'), ten times.",
    ],
    constants={
        "min_hidden": MIN_HIDDEN,
        "min_ratio": MIN_RATIO,
        "min_accuracy": MIN_ACCURACY,
        "chance": CHANCE,
        "margin": MARGIN,
        "epochs": TRAIN_EPOCHS,
        "learning_rate": LEARNING_RATE,
    },
    check_fn=_check_sigmoid_model,
    points=2,
)


# --- q3: what raising the learning rate does to the other layers -------------------------------
UPDATE_RECORD = {
    "step": 1,
    "epoch": 0,
    "update_ratio": {
        "hidden_1": -8.3,
        "hidden_2": -7.6,
        "hidden_3": -6.9,
        "hidden_4": -6.2,
        "hidden_5": -5.5,
        "hidden_6": -4.8,
        "hidden_7": -4.1,
        "hidden_8": -3.5,
        "output": -2.6,
    },
}
"""One ``update_ratio`` record (log10 std(Δw)/std(w)) of an 8-layer sigmoid network, plain SGD."""

HEALTHY = -3.0
_UPDATES = UPDATE_RECORD["update_ratio"]
_SHIFT = HEALTHY - _UPDATES["hidden_1"]
_OUTPUT = _UPDATES["output"] + _SHIFT
TOLERANCE = 0.05


def _check_output_ratio(value) -> str:
    number = expect_number(value, "output_ratio")
    if abs(number - _OUTPUT) <= TOLERANCE:
        return (
            f"Correct! Multiplying the learning rate by 10**{_SHIFT:.1f} shifts every layer's "
            f"log10 ratio by +{_SHIFT:.1f}, so the output layer would move its weights by "
            f"10**{number:.1f} times their size in one step: the run blows up long before "
            "hidden_1 learns. A learning rate cannot fix vanishing gradients; the profile must."
        )
    if abs(number - _UPDATES["output"]) <= TOLERANCE:
        raise Incorrect(
            "that is the output layer's ratio before the change. With SGD a layer's step is "
            "lr × its gradient: a larger learning rate moves EVERY layer's ratio by the same "
            "amount."
        )
    if abs(number - HEALTHY) <= TOLERANCE:
        raise Incorrect(
            "−3 is where hidden_1 ends up; the output layer's ratio shifts by the same amount, "
            "from a different starting point."
        )
    if abs(number - (_UPDATES["output"] - _SHIFT)) <= TOLERANCE:
        raise Incorrect(
            "the shift has the wrong sign: hidden_1 goes UP from −8.3 to −3, so every layer's "
            "ratio goes up by the same amount."
        )
    if abs(number - _SHIFT) <= TOLERANCE or math.isclose(number, 10**_SHIFT, rel_tol=0.1):
        raise Incorrect(
            "that is the change of the learning rate (log10 or the factor itself); add the same "
            "shift to the output layer's ratio."
        )
    raise Incorrect(
        f"output_ratio is {number:.3g}. Work on the log10 scale: how much must hidden_1's ratio "
        "rise to reach −3, and what does the same rise do to the output layer's?"
    )


q3 = ValueExercise(
    id="q3",
    answer="output_ratio",
    hints=[
        "Plain SGD: Δw = −lr · gradient, so std(Δw) is proportional to lr for every layer.",
        "Multiplying lr by 10**k adds k to every layer's log10 ratio. Find k from hidden_1, then "
        "add it to the output layer's ratio.",
    ],
    constants={"healthy": HEALTHY, "tolerance": TOLERANCE},
    check_fn=_check_output_ratio,
    points=1,
)


# --- q4: diagnose recorded runs ------------------------------------------------------------------
_SPIRAL = "the spiral data (3 classes), 10 hidden layers of 32 units"
RUNS = [
    Recipe(
        "A",
        "lr_too_low",
        f"{_SPIRAL}, ReLU with He initialization; SGD with learning rate 1e-4, 8 epochs.",
        "spiral",
        depth=10,
        activation="relu",
        learning_rate=1e-4,
        epochs=8,
    ),
    Recipe(
        "B",
        "healthy",
        f"{_SPIRAL}, ReLU with He initialization; SGD with learning rate 0.05, 8 epochs.",
        "spiral",
        depth=10,
        activation="relu",
        learning_rate=0.05,
        epochs=8,
    ),
    Recipe(
        "C",
        "vanishing",
        f"{_SPIRAL}, sigmoid with Glorot initialization; SGD with learning rate 0.1, 8 epochs.",
        "spiral",
        depth=10,
        activation="sigmoid",
        learning_rate=0.1,
        epochs=8,
    ),
]
"""The runs ``labkit build 02`` records for q4 (ids shuffled: the healthy run is not last)."""

q4 = DiagnosisExercise(
    id="q4",
    answer="diagnosis",
    runs=["A", "B", "C"],
    hints=[
        "Two runs learn slowly. Compare lowest/largest gradient at step 0 in each: is the bottom "
        "starved, or is every layer's step small?",
        "The update-to-weight panel: healthy is about −3. A run whose layers all sit far below "
        "it with balanced gradients needs a larger step; a run whose bottom layers sit far "
        "below the top needs a different profile.",
    ],
    points=2,
)

LESSON = Lesson("02_vanishing_gradients", [q1, q2, q3, q4])
summary = LESSON.summary
