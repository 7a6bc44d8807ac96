"""Lesson 04 — dead ReLU units: exercises.

The model checks train on the ``spiral`` dataset (3 classes that no straight line separates)
with a fixed seed and judge the answer by what the network does: how many units are dead,
whether every hidden layer still gets a gradient, and the test accuracy.

Example
-------
>>> from labkit.exercises import lesson04 as ex
>>> ex.q1.check(...).status
'not_attempted'
"""

from __future__ import annotations

import math

import numpy as np

from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ModelExercise,
    ValueExercise,
    expect_number,
)
from labkit.exercises.training import train_for_check

__all__ = ["LESSON", "q1", "q2", "q3", "summary"]

EPOCHS = 5
BATCH = 32
DEAD_LIMIT = 0.25
LR_ACCURACY = 0.8
LEAKY_ACCURACY = 0.8
LEAKY_LR = 0.01
ZERO_GRADIENT_LIMIT = 0.1


# --- q1: count dead units by hand ----------------------------------------------------------------
def _count_dead(activations: np.ndarray) -> int:
    flat = activations.reshape(-1, activations.shape[-1])
    return int(np.sum(np.all(flat == 0, axis=0)))


def _activation_inputs() -> list[tuple]:
    rng = np.random.default_rng(404)
    cases = []
    dense = np.maximum(rng.normal(size=(50, 12)), 0.0)
    dense[:, [1, 4, 9]] = 0.0
    cases.append(dense)
    conv = np.maximum(rng.normal(size=(6, 5, 5, 8)), 0.0)
    conv[..., [0, 7]] = 0.0
    conv[0, 2, 3, 3] = 0.0
    conv[..., 5] = 0.0
    conv[3, 1, 1, 5] = 0.25  # alive at a single position of a single example
    cases.append(conv)
    cases.append(np.zeros((4, 6)))  # every unit dead
    cases.append(np.maximum(rng.normal(size=(1, 7)), 0.0))  # one example: zero means dead
    alive = np.abs(rng.normal(size=(30, 5))) + 0.1
    cases.append(alive)
    tiny = np.zeros((20, 4))
    tiny[7, 2] = 1e-9  # a unit that fires once, weakly, is still alive
    cases.append(tiny)
    return [(c.astype("float32"),) for c in cases]


def _check_counts(inputs, outputs) -> str:
    for (activations,), got in zip(inputs, outputs):
        expected = _count_dead(activations)
        shape = tuple(activations.shape)
        units = shape[-1]
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise Incorrect(
                f"for activations of shape {shape} your function returned "
                f"{type(got).__name__} {got!r:.40}; it should return one number, the count "
                "of dead units."
            )
        if not math.isfinite(got):
            raise Incorrect(f"for activations of shape {shape} your function returned {got}.")
        if got == expected:
            continue
        per_entry = int(np.sum(activations == 0))
        per_example = int(np.sum(np.any(activations.reshape(shape[0], -1, units) == 0, axis=1)))
        if got == per_entry:
            advice = (
                "you counted zero entries; a unit is dead only when it is zero for EVERY "
                "example (and every position)"
            )
        elif got == units - expected:
            advice = "you counted the live units; count the ones that are never positive"
        elif len(shape) > 2 and got > units:
            advice = (
                f"a unit is a channel (the last axis, {units} here): count channels that are "
                "zero at every example and every position"
            )
        elif got == per_example:
            advice = "a unit must be zero for all examples at once, not in some of them"
        else:
            advice = (
                "a unit (one index of the last axis) is dead when its activation is exactly "
                "0 for every example and every position"
            )
        raise Incorrect(
            f"for activations of shape {shape} you returned {got:g}, but {expected} of the "
            f"{units} units are dead: {advice}."
        )
    return "Correct! Your count matches on dense and convolutional (N, H, W, C) activations."


q1 = FunctionExercise(
    id="q1",
    answer="count_dead_units",
    hints=[
        "Flatten everything but the last axis: activations.reshape(-1, activations.shape[-1]) "
        "gives one row per (example, position) and one column per unit.",
        "A column is dead when np.all(column == 0); np.all(..., axis=0) tests every column at "
        "once. Sum the booleans and return an int.",
    ],
    check_fn=_check_counts,
    make_inputs=_activation_inputs,
    points=1,
    time_budget=5.0,
)


# --- shared training for q2 and q3 ---------------------------------------------------------------
def spiral_model(activation: str = "relu", bias: float = 0.0):
    """The lesson's network: 3 hidden layers of 32 units on the 2-D spiral, 3 logits out."""
    import keras

    from labkit.models import build_mlp

    return build_mlp(
        2,
        depth=3,
        width=32,
        activation=activation,
        output_units=3,
        bias_initializer=keras.initializers.Constant(bias),
    )


def train_on_spiral(model, optimizer) -> dict:
    """Train for 5 epochs (batch 32); dead/zero-gradient fractions and test accuracy."""
    import keras

    from labkit import datasets
    from labkit.activations import dead_relu_fraction
    from labkit.gradients import zero_gradient_fraction

    (x, y), test = datasets.load("spiral")
    run = train_for_check(
        model,
        (x, y),
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=EPOCHS,
        batch_size=BATCH,
        eval_data=test,
    )
    return {
        "loss": run.final_loss,
        "accuracy": run.accuracy,
        "dead": dead_relu_fraction(model, x),
        "zero_gradient": zero_gradient_fraction(model, x[:256], y[:256]),
    }


# --- q2: a learning rate that keeps units alive --------------------------------------------------
def _check_learning_rate(value) -> str:
    import keras

    lr = expect_number(value, "learning_rate")
    if lr <= 0:
        raise Incorrect(f"learning_rate is {lr:g}; it must be positive (e.g. 0.1).")
    if lr > 100:
        raise Incorrect(f"learning_rate {lr:g} is far too large: such steps always diverge.")
    run = train_on_spiral(spiral_model(), keras.optimizers.SGD(learning_rate=lr))
    worst = max(run["dead"].values())
    layer = max(run["dead"], key=run["dead"].get)
    if not math.isfinite(run["loss"]):
        raise Incorrect(
            f"With learning_rate={lr:g} the loss became {run['loss']}: the steps are so large "
            "that training diverged. Lower it (try dividing by 10)."
        )
    if worst >= DEAD_LIMIT:
        raise Incorrect(
            f"With learning_rate={lr:g}, {worst:.0%} of {layer}'s units died (the limit is "
            f"{DEAD_LIMIT:.0%}) and test accuracy is {run['accuracy']:.0%}: large steps push "
            "units' weighted sums below 0 for every input. Lower the learning rate."
        )
    if run["accuracy"] < LR_ACCURACY:
        raise Incorrect(
            f"Units stay alive (at most {worst:.0%} dead in a layer), but after {EPOCHS} epochs "
            f"the test accuracy is only {run['accuracy']:.0%} (it should reach "
            f"{LR_ACCURACY:.0%}): the steps are too small. Raise the learning rate (try x3)."
        )
    return (
        f"Correct! With learning_rate={lr:g} at most {worst:.0%} of a layer's units are dead "
        f"and test accuracy is {run['accuracy']:.0%}."
    )


q2 = ValueExercise(
    id="q2",
    answer="learning_rate",
    hints=[
        "2.0 kills units; a very small rate keeps them alive but learns too little in "
        f"{EPOCHS} epochs.",
        "Try values between 0.03 and 0.3; the message says whether to go up or down.",
        "learning_rate = 0.1 works.",
    ],
    constants={"epochs": EPOCHS, "dead_limit": DEAD_LIMIT, "accuracy": LR_ACCURACY},
    check_fn=_check_learning_rate,
    points=1,
)


# --- q3: LeakyReLU -------------------------------------------------------------------------------
def _check_leaky_model(model) -> str:
    import keras

    if tuple(model.input_shape[1:]) != (2,) or tuple(model.output_shape[1:]) != (3,):
        raise Incorrect(
            "the model should take 2 features and output 3 logits; it maps "
            f"{tuple(model.input_shape[1:])} to {tuple(model.output_shape[1:])}. Keep the "
            "given Input and output layer."
        )
    biases = [w for w in model.get_weights() if w.ndim == 1]
    if not biases or float(np.mean(biases[0])) > -0.5:
        raise Incorrect(
            "keep the negative bias initializer (Constant(-1.0)) of the given builder: the "
            "exercise is to make units that start switched off trainable again by changing "
            "the activation only."
        )
    run = train_on_spiral(model, keras.optimizers.Adam(learning_rate=LEAKY_LR))
    starved = {k: v for k, v in run["zero_gradient"].items() if v >= ZERO_GRADIENT_LIMIT}
    if starved:
        layer, fraction = max(starved.items(), key=lambda kv: kv[1])
        raise Incorrect(
            f"After training, {fraction:.0%} of {layer}'s units get an exactly-zero gradient "
            f"(test accuracy {run['accuracy']:.0%}): with a plain ReLU, a unit whose weighted "
            "sum is negative for every input passes no gradient and never recovers. Use "
            "activation='leaky_relu' (or a keras.layers.LeakyReLU layer) in every hidden layer."
        )
    if not math.isfinite(run["loss"]) or run["accuracy"] < LEAKY_ACCURACY:
        raise Incorrect(
            f"Gradients flow, but the test accuracy is only {run['accuracy']:.0%} (it should "
            f"reach {LEAKY_ACCURACY:.0%}). The spiral needs a nonlinear activation: use "
            "LeakyReLU, not a linear one, in each hidden layer."
        )
    return (
        f"Correct! Every hidden unit gets a gradient and the network reaches "
        f"{run['accuracy']:.0%} test accuracy from the same negative biases."
    )


q3 = ModelExercise(
    id="q3",
    answer="build_leaky_model",
    hints=[
        "LeakyReLU outputs a small multiple of negative inputs instead of 0, so its slope is "
        "never 0 and a gradient always flows back.",
        "Change activation='relu' to activation='leaky_relu' in each hidden Dense layer (or "
        "use a linear Dense followed by keras.layers.LeakyReLU()).",
    ],
    constants={"epochs": EPOCHS, "learning_rate": LEAKY_LR, "accuracy": LEAKY_ACCURACY},
    check_fn=_check_leaky_model,
    points=2,
)

LESSON = Lesson("04_dead_relu", [q1, q2, q3])
summary = LESSON.summary
