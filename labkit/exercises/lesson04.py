"""Lesson 04 — dead ReLU units: exercises.

The model checks train on the ``spiral`` dataset (3 classes that no straight line separates)
with fixed seeds and judge the answer by what the network does: how many units are dead, and the
loss or test accuracy beside its chance level (ln 3 = 1.10, 33%). q4 diagnoses recorded runs.
``predict`` (ungraded) and k1–k5 are multiple-choice questions; p1 and p2 are playground
challenges (kill units with one control, then revive them).

Example
-------
>>> from labkit.exercises import lesson04 as ex
>>> ex.q1.check(...).status
'not_attempted'
"""

from __future__ import annotations

import math

import numpy as np

from labkit.exercises.challenges import challenges
from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ModelExercise,
    ValueExercise,
    expect_number,
)
from labkit.exercises.diagnosis import FAILURES, REMEDIES, DiagnosisExercise
from labkit.exercises.quiz import QuizExercise
from labkit.exercises.recording import Recipe
from labkit.exercises.training import CHECK_SEED, train_for_check

__all__ = [
    "FAILURES",
    "LESSON",
    "REMEDIES",
    "RUNS",
    "k1",
    "k2",
    "k3",
    "k4",
    "k5",
    "p1",
    "p2",
    "predict",
    "q1",
    "q2",
    "q3",
    "q4",
    "summary",
]

EPOCHS = 5
BATCH = 32
DEAD_LIMIT = 0.25
LR_ACCURACY = 0.75
LR_SEEDS = (CHECK_SEED, CHECK_SEED + 1, CHECK_SEED + 2)
CHANCE = 1 / 3
BASELINE_LOSS = math.log(3)
BIAS = -1.0
RELU_LR = 0.5
RELU_LOSS = 0.6


# --- predict, then run: section 2's learning rate of 3.0 ----------------------------------------
predict = QuizExercise(
    id="predict",
    hints=[
        "A unit computes max(0, z) with z = w·x + b. What can one very large step do to w and b?",
        "A unit whose z is below 0 for every input outputs 0 and gets a zero gradient for its own "
        "weights. Does anything push it back?",
    ],
    question="Section 2 trains the spiral network for 10 epochs with plain SGD at learning rate "
    "3.0. What will the monitor and the test accuracy show?",
    options={
        "a": "A few units die, but the big steps make the network learn fast: the test accuracy "
        "ends well above chance (33%).",
        "b": "The dead fractions climb within the first few dozen steps until whole layers are "
        "dead, and the test accuracy is at chance.",
        "c": "Many units die in the first steps, but they come back as training goes on, and the "
        "test accuracy ends well above chance.",
    },
    explanations={
        "a": "a large rate does not just learn faster. At step 4 already 44%, 75% and 84% of the "
        "three layers' units are dead, from step 32 on hidden_2 and hidden_3 are 100% dead, and "
        "the test accuracy is 33%, chance.",
        "b": "by step 32 hidden_2 and hidden_3 are 100% dead (hidden_1 56%), and the test "
        "accuracy is 33%, chance: the big steps threw the weighted sums below 0 for every input.",
        "c": "a dead unit's own weights get an exactly-zero gradient, so nothing pulls it back by "
        "itself. Steps 32 and 120 print the same 56%, 100%, 100%, and the accuracy is 33%.",
    },
    correct="b",
    points=0,
)


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


def train_on_spiral(model, optimizer, seed: int = CHECK_SEED) -> dict:
    """Train for 5 epochs (batch 32) from ``seed``; losses, dead fractions, test accuracy."""
    import keras

    from labkit import datasets
    from labkit.activations import dead_relu_fraction

    (x, y), test = datasets.load("spiral")
    run = train_for_check(
        model,
        (x, y),
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=EPOCHS,
        batch_size=BATCH,
        eval_data=test,
        seed=seed,
    )
    return {
        "start_loss": run.start_loss,
        "loss": run.final_loss,
        "accuracy": run.accuracy,
        "dead": dead_relu_fraction(run.model, x),
    }


# --- q2: a learning rate that keeps units alive on every seed ------------------------------------
def _check_learning_rate(value) -> str:
    import keras

    lr = expect_number(value, "learning_rate")
    if lr <= 0:
        raise Incorrect(f"learning_rate is {lr:g}; it must be positive (e.g. 0.1).")
    if lr > 100:
        raise Incorrect(f"learning_rate {lr:g} is far too large: such steps always diverge.")
    accuracies = []
    for seed in LR_SEEDS:
        run = train_on_spiral(spiral_model(), keras.optimizers.SGD(learning_rate=lr), seed=seed)
        worst = max(run["dead"].values())
        layer = max(run["dead"], key=run["dead"].get)
        where = f"With learning_rate={lr:g}, on seed {seed} (of {', '.join(map(str, LR_SEEDS))})"
        if not math.isfinite(run["loss"]):
            raise Incorrect(
                f"{where} the loss became {run['loss']}: the steps are so large that training "
                "diverged. Lower the learning rate."
            )
        if worst >= DEAD_LIMIT:
            raise Incorrect(
                f"{where} {worst:.0%} of {layer}'s units died (the limit is {DEAD_LIMIT:.0%}) "
                f"and test accuracy is {run['accuracy']:.0%} (chance is {CHANCE:.0%}): large "
                "steps push units' weighted sums below 0 for every input. A rate that works on "
                "one seed can kill units on another; lower it."
            )
        if run["accuracy"] < LR_ACCURACY:
            raise Incorrect(
                f"{where} units stay alive (at most {worst:.0%} dead in a layer), but after "
                f"{EPOCHS} epochs the loss only went from {run['start_loss']:.2f} to "
                f"{run['loss']:.2f} (predicting the class frequencies scores {BASELINE_LOSS:.2f}) "
                f"and the test accuracy is {run['accuracy']:.0%} (chance {CHANCE:.0%}, the "
                f"target {LR_ACCURACY:.0%}): the steps are too small. Raise the learning rate."
            )
        accuracies.append(run["accuracy"])
    spread = ", ".join(f"{a:.0%}" for a in accuracies)
    return (
        f"Correct! With learning_rate={lr:g} every seed keeps its units alive (under "
        f"{DEAD_LIMIT:.0%} dead per layer) and reaches test accuracies {spread} "
        f"(chance {CHANCE:.0%})."
    )


q2 = ValueExercise(
    id="q2",
    answer="learning_rate",
    hints=[
        "Two things limit the rate from opposite sides: too large and some units die (the "
        f"lesson's seed table), too small and {EPOCHS} epochs are not enough to learn.",
        "The check needs a rate that works on every one of its seeds, so stay away from the "
        "edge where units start dying on some seeds; the message says which side you are on "
        "and which seed failed.",
    ],
    constants={
        "epochs": EPOCHS,
        "dead_limit": DEAD_LIMIT,
        "accuracy": LR_ACCURACY,
        "seeds": len(LR_SEEDS),
        "chance": CHANCE,
    },
    check_fn=_check_learning_rate,
    points=1,
)


# --- q3: keep ReLU and the negative biases, yet keep the units alive -----------------------------
def _hidden_dense(model) -> list:
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    return dense[:-1]


def _check_relu_model(model) -> str:
    import keras

    from labkit.activations import activation_kind

    if tuple(model.input_shape[1:]) != (2,) or tuple(model.output_shape[1:]) != (3,):
        raise Incorrect(
            "the model should take 2 features and output 3 logits; it maps "
            f"{tuple(model.input_shape[1:])} to {tuple(model.output_shape[1:])}."
        )
    hidden = _hidden_dense(model)
    if len(hidden) < 3:
        raise Incorrect(
            f"the model has {len(hidden)} hidden Dense layer(s); keep the 3 hidden Dense layers "
            "of 32 units."
        )
    kinds = {activation_kind(layer) for layer in model.layers} - {None, "linear"}
    if kinds != {"relu"}:
        other = ", ".join(sorted(kinds - {"relu"})) or "none"
        raise Incorrect(
            f"the hidden units must stay plain ReLU (found: {other}). LeakyReLU was the "
            "lesson's remedy; here the constraint is ReLU with the negative biases: change what "
            "the units' weighted sums look like, not the activation."
        )
    biases = [float(np.mean(keras.ops.convert_to_numpy(layer.bias))) for layer in hidden]
    if any(b > BIAS + 0.5 for b in biases):
        raise Incorrect(
            f"keep every hidden Dense layer's bias initializer at Constant({BIAS:g}) (the mean "
            f"initial biases are {', '.join(f'{b:.2f}' for b in biases)}): the exercise is to "
            "keep units with a negative bias alive, not to remove the bias."
        )
    run = train_on_spiral(model, keras.optimizers.SGD(learning_rate=RELU_LR))
    worst = max(run["dead"].values()) if run["dead"] else 0.0
    layer = max(run["dead"], key=run["dead"].get) if run["dead"] else "no layer"
    if not math.isfinite(run["loss"]):
        raise Incorrect(f"Training diverged: the loss became {run['loss']}.")
    if worst >= DEAD_LIMIT:
        raise Incorrect(
            f"After training, {worst:.0%} of {layer}'s units are dead (the limit is "
            f"{DEAD_LIMIT:.0%}) and the loss went from {run['start_loss']:.2f} to "
            f"{run['loss']:.2f} (chance level {BASELINE_LOSS:.2f}): with a bias of {BIAS:g}, "
            "most weighted sums start below 0. What would centre each unit's weighted sum on "
            "zero whatever its bias?"
        )
    if run["loss"] > RELU_LOSS:
        raise Incorrect(
            f"Units stay alive (at most {worst:.0%} dead in a layer), but the training loss only "
            f"went from {run['start_loss']:.2f} to {run['loss']:.2f}; it must fall to "
            f"{RELU_LOSS:.2f} (predicting the class frequencies scores {BASELINE_LOSS:.2f})."
        )
    return (
        f"Correct! With ReLU and biases of {BIAS:g}, at most {worst:.0%} of a layer's units are "
        f"dead and the training loss fell from {run['start_loss']:.2f} to {run['loss']:.2f} "
        f"(chance level {BASELINE_LOSS:.2f})."
    )


q3 = ModelExercise(
    id="q3",
    answer="build_relu_model",
    hints=[
        "A unit dies when its weighted sum z = w·x + b is below 0 for every input. With b = -1 "
        "that is most units. Which layer from an earlier lesson rescales each unit's z over the "
        "batch so that it has mean 0, whatever the bias?",
        "Lesson 3's remedy for exploding gradients does it. Put it between each Dense layer "
        "(then linear) and its ReLU, which becomes a layer of its own.",
    ],
    constants={
        "epochs": EPOCHS,
        "learning_rate": RELU_LR,
        "dead_limit": DEAD_LIMIT,
        "loss": RELU_LOSS,
        "baseline_loss": BASELINE_LOSS,
        "bias": BIAS,
    },
    check_fn=_check_relu_model,
    points=2,
)


# --- q4: diagnose recorded runs ------------------------------------------------------------------
_SPIRAL = "the spiral (3 classes), SGD with learning rate 0.1, 8 epochs of batches of 32"
RUNS = [
    Recipe(
        "A",
        "vanishing",
        f"10 sigmoid hidden layers of 32 units (Glorot initialization) on {_SPIRAL}.",
        "spiral",
        depth=10,
        activation="sigmoid",
        learning_rate=0.1,
        epochs=8,
    ),
    Recipe(
        "B",
        "healthy",
        f"3 ReLU hidden layers of 32 units (He initialization, zero biases) on {_SPIRAL}.",
        "spiral",
        depth=3,
        learning_rate=0.1,
        epochs=8,
    ),
    Recipe(
        "C",
        "dead_relu",
        "3 ReLU hidden layers of 32 units (He initialization, biases initialized to -1) on "
        f"{_SPIRAL}.",
        "spiral",
        depth=3,
        bias=-1.0,
        learning_rate=0.1,
        epochs=8,
    ),
]
"""The runs ``labkit build`` records for q4 (``labkit/exercises/runs/04_dead_relu.json``)."""

q4 = DiagnosisExercise(
    id="q4",
    answer="diagnosis",
    runs=["A", "B", "C"],
    hints=[
        "Two runs end with the loss where it started, at the chance level: look at what their "
        "units and gradients do. Gradients that are small but not zero are a different failure "
        "from units that output exactly 0.",
        "Read each run's dead-unit panel and its gradient-norm panel at step 0: a layer with "
        "every unit dead passes exactly zero gradient to the layers below it; a deep sigmoid "
        "network shrinks the gradient layer by layer.",
    ],
    points=2,
)

# --- playground challenges: kill units with one control (p1), then revive them (p2) ---------------
p1, p2 = challenges("04_dead_relu")


# --- test your knowledge --------------------------------------------------------------------------
k1 = QuizExercise(
    id="k1",
    hints=[
        "Write down the gradient of one incoming weight of the unit: which factor depends on z?",
        "relu′(z) is 0 for z < 0. If z < 0 for every example, what is each term of the sum?",
    ],
    question="A ReLU unit of hidden_2 outputs 0 for every training example. What does the next "
    "gradient step do to its incoming weights and its bias?",
    options={
        "a": "It changes them a little: their gradient is small but not zero, so the unit "
        "recovers slowly, like a layer with vanishing gradients.",
        "b": "It changes them a lot: the unit contributes nothing, so its error is large and the "
        "gradient pushes it back above 0.",
        "c": "Nothing: every term of their gradient has the factor relu′(z) = 0, so the gradient "
        "is exactly 0 and the step leaves them where they are.",
    },
    explanations={
        "a": "a vanishing gradient is small, a dead unit's is exactly 0 (section 3 printed 0.0 "
        "beside a live unit's 7.1e-05): no number of steps adds up zeros to a change.",
        "b": "the loss may well be large, but it reaches the unit's weights only through "
        "relu′(z), which is 0 on every example, so none of it gets through.",
        "c": "∂L/∂w = Σ a · relu′(z) · ∂L/∂a, and relu′(z) = 0 on every example. Only a change "
        "in the unit's inputs, made by the layers below, can bring z back above 0.",
    },
    correct="c",
)

k2 = QuizExercise(
    id="k2",
    hints=[
        "A dead unit's own weights are frozen. What else does its weighted sum z = w·a + b "
        "depend on?",
        "z can change only if its inputs a change, and they change only if the layers below "
        "receive a gradient.",
    ],
    question="Which of these dead units can still come back to life during training?",
    options={
        "a": "A unit of hidden_3, while hidden_1 and hidden_2 are alive and still learning.",
        "b": "A unit of hidden_1, because the training examples come in a new order every epoch.",
        "c": "A unit of hidden_2 in a network whose hidden_3 is entirely dead.",
        "d": "Any dead unit, given enough epochs: dead units come back by themselves.",
    },
    explanations={
        "a": "its own weights are frozen, but its inputs are the outputs of the layers below; "
        "while those learn, they can push its weighted sum back above 0 (section 3 saw 4 of "
        "hidden_2's 18 dead units revive).",
        "b": "a new order does not give it new inputs: its inputs are the data, the same set of "
        "points every epoch. Dead on all of them, it stays dead (section 3: 0 of 8 revived).",
        "c": "hidden_1 is alive, so it seems hidden_2's inputs could change; but with hidden_3 "
        "entirely dead no gradient passes it, so hidden_1 never changes either (section 4).",
        "d": "nothing in the unit itself moves: its gradient is exactly 0. It revives only if "
        "the layers below change its inputs, and they may never do so.",
    },
    correct="a",
)

k3 = QuizExercise(
    id="k3",
    hints=[
        "What exactly does the monitor count as dead: zero on some examples, or on all of them?",
        "A unit that is positive on even a few examples gets a gradient from those examples.",
    ],
    question="DeadReLUMonitor reports 0% dead units in hidden_1, yet most of its units output 0 "
    "on most probe examples. What does that tell you?",
    options={
        "a": "The monitor is wrong: units that are 0 most of the time are dead.",
        "b": "The layer is dying: it will be 100% dead within a few more steps.",
        "c": "The learning rate is too high: lower it until every unit is positive on most "
        "examples.",
        "d": "Nothing is wrong: ReLU units are meant to be off for part of the inputs, and each "
        "one still learns from the examples where it is on.",
    },
    explanations={
        "a": "a unit is dead only when it is 0 for EVERY example; one that is on for some "
        "examples gets a gradient from them and keeps learning.",
        "b": "being off on many inputs is not a step towards dying; units die when a step moves "
        "their weighted sum below 0 for every input, and the reading gives no sign of that.",
        "c": "a lower rate prevents units from being thrown off for every input; it is not meant "
        "to make them positive on most examples, and the run shows no dead unit to prevent.",
        "d": "that is how ReLU networks bend their decision boundaries: each unit is active on "
        "one side of its line. Only a unit that is 0 on every example has stopped learning.",
    },
    correct="d",
)

k4 = QuizExercise(
    id="k4",
    hints=[
        "What killed the units: the activation, the biases, or the size of the steps?",
        "Pick the change that stops a single step from throwing a weighted sum below 0 for every "
        "input, without bringing back another failure.",
    ],
    question="A ReLU network trained with SGD at a high learning rate shows its layers' dead "
    "fractions climbing to 100% in the first few dozen steps, and its accuracy stays at chance. "
    "Which change do you try first?",
    options={
        "a": "Keep everything and train for more epochs, so the units have time to revive.",
        "b": "Lower the learning rate, so that no step moves a unit's weights and bias far enough "
        "to push its weighted sum below 0 for every input.",
        "c": "Switch to sigmoid, which never outputs exactly 0.",
        "d": "Initialize the biases to -1, so that the units start out calmer.",
    },
    explanations={
        "a": "a fully dead layer passes no gradient, so more epochs change none of the hidden "
        "weights: section 4's network did not move at all in 10 epochs.",
        "b": "the large steps are the cause; at 0.5 instead of 3.0 the lesson's network kept "
        "most of its units alive and learned the spirals, on all three seeds.",
        "c": "sigmoid units cannot die, but their slope is at most 0.25, so a deep sigmoid "
        "network brings back the vanishing gradients of lesson 2.",
        "d": "a negative bias pushes every weighted sum down, so even more units start dead: "
        "that is section 4's second way to kill units.",
    },
    correct="b",
)

k5 = QuizExercise(
    id="k5",
    hints=[
        "Compare the derivatives of ReLU and LeakyReLU for a negative input.",
        "For a unit that is below 0 on every input, which activation still lets a gradient "
        "reach its weights?",
    ],
    question="With biases of -1, the ReLU network stayed at chance while the same network with "
    "LeakyReLU learned the spirals. Why?",
    options={
        "a": "LeakyReLU's slope for negative inputs is 0.2 instead of 0, so a unit that is below "
        "0 for every input still gets a gradient and its weights can move back.",
        "b": "LeakyReLU does not saturate for large positive inputs, unlike ReLU.",
        "c": "LeakyReLU sets the negative biases back to zero when training starts.",
    },
    explanations={
        "a": "the gradient of a unit's weights carries the activation's slope as a factor; at "
        "0.2 it is small but never zero, so no unit ever stops learning.",
        "b": "ReLU does not saturate for positive inputs either (its slope there is 1, as for "
        "LeakyReLU); the two differ only for negative inputs, which is where the dead units are.",
        "c": "the biases start at -1 in both networks; LeakyReLU changes the activation, not the "
        "initialization. The units start below 0 and can climb back because a gradient reaches "
        "them.",
    },
    correct="a",
)

LESSON = Lesson("04_dead_relu", [predict, q1, q2, q3, q4, p1, p2, k1, k2, k3, k4, k5])
summary = LESSON.summary
