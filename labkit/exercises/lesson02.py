"""Lesson 02 — Vanishing gradients: exercises, hints, solutions and checks.

Example
-------
>>> from labkit.exercises import lesson02 as ex
>>> ex.q1.check(2.4e-06 / 1.6e-02).status
'correct'
"""

from __future__ import annotations

import math

from labkit.exercises.challenges import challenges
from labkit.exercises.core import Incorrect, Lesson, ModelExercise, ValueExercise, expect_number
from labkit.exercises.diagnosis import FAILURES, REMEDIES, DiagnosisExercise
from labkit.exercises.quiz import QuizExercise
from labkit.exercises.recording import Recipe
from labkit.exercises.training import train_for_check

__all__ = [
    "FAILURES",
    "LESSON",
    "RECORD",
    "REMEDIES",
    "RUNS",
    "UPDATE_RECORD",
    "k1",
    "k2",
    "k3",
    "k4",
    "k5",
    "p1",
    "predict",
    "q1",
    "q2",
    "q3",
    "q4",
    "summary",
]


# --- predict, then run: section 5's ablation ----------------------------------------------------
predict = QuizExercise(
    id="predict",
    question=(
        "Section 4 changed the activation and the initializer at once. Trained alone, which of "
        "the two changes makes the 10-layer network learn the spirals far above chance?"
    ),
    options={
        "a": "He initialization alone (sigmoid + He): the starting weights set how fast the "
        "gradient shrinks.",
        "b": "ReLU alone (ReLU + Glorot): it removes the factor σ′ ≤ 0.25 of every layer.",
        "c": "Both, about equally: each is half of the fix.",
        "d": "Neither: only ReLU and He together learn.",
    },
    explanations={
        "a": "He initialization is made to keep signal sizes steady, which makes it tempting. "
        "But its variance 2/fan-in is scaled for a ReLU that zeroes half its inputs, and "
        "σ′ ≤ 0.25 still shrinks the gradient at every sigmoid layer: sigmoid + He has a "
        "vanishing ratio of 2e-06 – 4e-06 and stays at 33%, chance, for all three seeds.",
        "b": "ReLU + Glorot reaches 64% – 91% (chance 33%), with a vanishing ratio of 3e-02 – "
        "2e-01, while sigmoid + He stays at 33% for every seed. ReLU does the work; He makes it "
        "reliable: ReLU + He gives 98% for all three seeds.",
        "c": "The table is lopsided, not balanced: ReLU + Glorot learns (64% – 91%) while "
        "sigmoid + He stays at chance (33%) for every seed. Only the activation removes the "
        "shrinking factor.",
        "d": "ReLU alone already learns far above chance: ReLU + Glorot reaches 64% – 91% "
        "(chance 33%). What He adds is a narrower spread: ReLU + He gives 98% for every seed.",
    },
    correct="b",
    hints=[
        "Which factor of the chain rule does each change touch: the activation's derivative, or "
        "the weights' starting size?",
        "Section 3: σ′(z) ≤ 0.25 whatever the weights are. Can a different weight scale lift "
        "that bound?",
    ],
    points=0,
)


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
FREQUENCY_LOSS = math.log(3)
"""The cross-entropy of predicting the spiral's class frequencies (three equal classes): the
training loss of a network that learned nothing about the input."""
LOSS_FRACTION = 0.75
MAX_LOSS = LOSS_FRACTION * FREQUENCY_LOSS
"""A network "learns" when its final training loss is at most this: 25% below the
class-frequency loss. The training loss is judged, not test accuracy: after a short run the
running statistics of ten batch normalization layers still lag behind the weights, so inference
accuracy jumps between runs (49–74% across backends) while the training loss ends at 0.49–0.53 on
every one."""
BATCH_STATS_GAP = 0.15
"""When inference accuracy trails accuracy with the test set's own batch statistics by more than
this, the message explains the running statistics."""
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
    import numpy as np

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
    if run.final_loss > MAX_LOSS:
        raise Incorrect(
            f"the gradient profile is healthy (ratio {run.inspected:.1e}), but after "
            f"{TRAIN_EPOCHS} epochs the training loss is {run.final_loss:.3f} (it started at "
            f"{run.start_loss:.3f}): predicting the class frequencies scores {FREQUENCY_LOSS:.3f} "
            f"and the check needs ≤ {MAX_LOSS:.3f}. Are all the layers trainable, and does the "
            "output depend on the input?"
        )
    message = (
        f"Correct! {len(sigmoid)} sigmoid layers, vanishing ratio {run.inspected:.2f} at "
        f"initialization; after {TRAIN_EPOCHS} epochs the training loss is "
        f"{run.final_loss:.3f} (class frequencies: {FREQUENCY_LOSS:.3f}) and the test accuracy "
        f"{run.accuracy:.0%} (chance {CHANCE:.0%})."
    )
    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for layer in _layers(model))
    if has_bn:
        # Training mode normalizes with the test set's own statistics (and moves the running
        # averages, which the check no longer needs).
        x_test_logits = keras.ops.convert_to_numpy(run.model(x_test, training=True))
        batch_accuracy = float(np.mean(np.argmax(x_test_logits, axis=-1) == y_test))
        if batch_accuracy - run.accuracy > BATCH_STATS_GAP:
            message += (
                f" With the test set's own batch statistics the same weights score "
                f"{batch_accuracy:.0%}: inference normalizes with running averages, which lag "
                "behind weights that are still changing fast, and the error compounds over the "
                "layers. Longer training narrows the gap; re-estimating the averages with the "
                "final weights closes it."
            )
    return message


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
        "max_loss": MAX_LOSS,
        "frequency_loss": FREQUENCY_LOSS,
        "loss_fraction": LOSS_FRACTION,
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

# --- p1: the playground challenge ---------------------------------------------------------------
(p1,) = challenges("02_vanishing_gradients")


# --- test your knowledge -------------------------------------------------------------------------
k1 = QuizExercise(
    id="k1",
    question=(
        "In the deep sigmoid network, why does a layer get a smaller gradient the closer it is "
        "to the input?"
    ),
    options={
        "a": "The lower layers start with smaller weights.",
        "b": "float32 loses precision as the error signal travels back through many layers.",
        "c": "Its gradient carries one factor σ′ ≤ 0.25 (and a weight matrix) for every sigmoid "
        "layer above it, so more layers above mean more small factors.",
        "d": "The lower layers have already learned what they can, so their gradient is small.",
    },
    explanations={
        "a": "Glorot initialization gives every hidden layer of the same width weights of the "
        "same size, yet the norms fall layer by layer: the shrinking comes from the path back "
        "to the layer, not from its own weights.",
        "b": "Rounding errors are real but tiny (about 1e-7 of each number) and do not grow "
        "systematically: the shrinking is the exact arithmetic of the chain rule, a product of "
        "small factors.",
        "c": "By the chain rule the gradient of a layer is a product over the layers above it; "
        "each sigmoid contributes σ′(z) ≤ 0.25, so the product shrinks about exponentially with "
        "the number of layers between the layer and the loss.",
        "d": "A small gradient is tempting to read as convergence, but the lower layers barely "
        "moved from their random initial weights and the accuracy stayed at chance: they are "
        "starved, not done.",
    },
    correct="c",
    hints=[
        "Write the gradient of hidden_1's weights with the chain rule: what is multiplied in for "
        "every layer above it?",
        "Section 3: the largest value of σ′(z) is 0.25. What does a product of many such factors "
        "do?",
    ],
)

k2 = QuizExercise(
    id="k2",
    question=(
        "A 12-layer sigmoid network trained with SGD has a vanishing ratio of 1e-8. A colleague "
        "multiplies the learning rate by 1000. What happens?"
    ),
    options={
        "a": "It is fixed: hidden_1's steps become 1000 times larger, so it learns at a normal "
        "pace.",
        "b": "Every layer's step grows 1000 times: the top layers' steps become far too large "
        "before hidden_1's are healthy, and the profile between the layers stays as steep.",
        "c": "Nothing changes: the learning rate does not affect the update-to-weight ratios.",
        "d": "The vanishing ratio becomes 1000 times larger, 1e-5.",
    },
    explanations={
        "a": "It looks like a fix for hidden_1 alone, but the learning rate multiplies EVERY "
        "layer's step: the top layers, already near a healthy update ratio, would move their "
        "weights by about their own size per step and the run blows up (exercise 3).",
        "b": "With SGD a step is the learning rate times the gradient, so a larger rate lifts "
        "every layer's log10 update ratio by the same 3: the gap between the top and the bottom "
        "is unchanged and the top layers overshoot first.",
        "c": "With SGD the step is lr × gradient, so the update-to-weight ratio is proportional "
        "to the learning rate: every layer's log10 ratio goes up by 3.",
        "d": "The vanishing ratio compares gradients computed at the same weights; the learning "
        "rate does not enter a gradient at all, only the step taken along it.",
    },
    correct="b",
    hints=[
        "Plain SGD: Δw = −lr · gradient, for every layer with the same lr.",
        "On the log10 scale a factor of 1000 adds 3 to every layer's update ratio. Where do the "
        "top layers end up?",
    ],
)

k3 = QuizExercise(
    id="k3",
    question=(
        "In a gradient-profile figure (each layer's gradient norm, log scale, input side on the "
        "left), what does the profile of a healthy deep network look like?"
    ),
    options={
        "a": "Nearly flat: every layer's norm within about a factor of 10 of the largest.",
        "b": "A straight line climbing from the input to the output: every layer shrinks the "
        "gradient by the same factor, so all layers are treated alike.",
        "c": "Exactly level at 1: every layer's gradient norm equals 1.",
        "d": "Highest on the input side: the layers furthest from the loss need the largest "
        "gradients.",
    },
    explanations={
        "a": "A healthy network passes the gradient back without large losses, so no layer is "
        "starved: the ReLU + He network's lowest layer gets about a tenth of the largest "
        "gradient, and its profile is nearly flat.",
        "b": "A constant factor per layer sounds even-handed, but on a log axis a straight climb "
        "is exponential shrinking: that is the deep sigmoid network's profile, with hidden_1 "
        "orders of magnitude below the top.",
        "c": "Gradient norms are not normalized to 1; their size depends on the loss and the "
        "layer. What matters is the balance between layers, not a particular value.",
        "d": "A profile that grows towards the input means factors larger than 1 at every layer: "
        "the signature of exploding gradients (next lesson), not of health.",
    },
    correct="a",
    hints=[
        "The monitor's vanishing ratio is lowest over largest: what ratio does a healthy network "
        "have?",
        "Compare the two profiles in section 4: which one is the ReLU + He network's?",
    ],
)

k4 = QuizExercise(
    id="k4",
    question="Why does switching to ReLU fix the profile, while He initialization alone does not?",
    options={
        "a": "A ReLU network has fewer weights to train.",
        "b": "A ReLU's output is unbounded, so the forward signal grows from layer to layer and "
        "the gradient grows with it.",
        "c": "He initialization would help sigmoids too; the three seeds were unlucky.",
        "d": "A ReLU's derivative is 1 on every active unit, so the backward product loses the "
        "factor σ′ ≤ 0.25 per layer; an initializer only sets the starting weights and cannot "
        "lift that bound.",
    },
    explanations={
        "a": "The networks have the same depth, width and number of weights; only the "
        "activation differs.",
        "b": "A growing signal would be exploding gradients (next lesson). With He "
        "initialization the signal keeps about the same size from layer to layer; the gain is "
        "that nothing shrinks it.",
        "c": "That is why the ablation uses three seeds: sigmoid + He stays at chance for every "
        "one of them, with a vanishing ratio still far below the alarm threshold. The failure is "
        "systematic, not luck.",
        "d": "The backward product carries one activation derivative per layer. The sigmoid's "
        "is at most 0.25 whatever the weights; the ReLU's is exactly 1 where the unit is "
        "active. He's variance 2/fan-in then keeps the ReLU network's signal steady.",
    },
    correct="d",
    hints=[
        "List the factors the backward signal is multiplied by at each layer: which depends on "
        "the activation, which on the weights?",
        "Section 4: the ReLU's derivative on an active unit is 1; the sigmoid's is at most 0.25.",
    ],
)

k5 = QuizExercise(
    id="k5",
    question=(
        "A deep network's loss barely falls. Which reading tells vanishing gradients apart from a "
        "learning rate that is simply too small?"
    ),
    options={
        "a": "The loss curve: a flat loss means vanishing gradients.",
        "b": "The output layer's gradient norm: a small one means vanishing gradients.",
        "c": "The gradient-norm profile: vanishing gradients leave the lower layers orders of "
        "magnitude below the top; a too-small rate gives balanced norms but every layer's "
        "update ratio far below −3.",
        "d": "The test accuracy: exactly chance means vanishing gradients, a little above chance "
        "a low learning rate.",
    },
    explanations={
        "a": "Both faults give a loss that barely falls, which is exactly why the loss alone "
        "cannot tell them apart: look at the layers.",
        "b": "With vanishing gradients the output layer's gradient is ordinary (a few tenths in "
        "section 2); it is the lower layers that are starved.",
        "c": "Vanishing is an imbalance between layers (a tiny lowest/largest ratio); a too-small "
        "learning rate shrinks every layer's step alike, so the norms stay balanced while all "
        "update ratios sit far below the healthy −3.",
        "d": "Either fault can leave the accuracy at chance in a short run; the accuracy says "
        "that the network does not learn, not why.",
    },
    correct="c",
    hints=[
        "One fault is about the balance between layers, the other about the size of every step.",
        "Which monitor reading compares the layers with each other?",
    ],
)

LESSON = Lesson("02_vanishing_gradients", [predict, q1, q2, q3, q4, p1, k1, k2, k3, k4, k5])
summary = LESSON.summary
