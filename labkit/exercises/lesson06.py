"""Lesson 06 — Capstone, multi-class classification on digits: exercises, hints, solutions, checks.

Example
-------
>>> from labkit.exercises import lesson06 as ex
>>> ex.q1.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.challenges import challenges
from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ModelExercise,
    expect_array,
)
from labkit.exercises.diagnosis import DiagnosisExercise
from labkit.exercises.quiz import QuizExercise
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


# --- predict, then run: the dropout sweep of section 4 -------------------------------------------
predict = QuizExercise(
    id="predict",
    hints=[
        "Dropout is a remedy for overfitting. Has this network had time to overfit the whole fit "
        "split in 10 epochs?",
        "A dropped unit cannot help fit this step's batch: with nothing to regularize, what does "
        "dropping units cost?",
    ],
    question="Section 4 trains the ReLU network with dropout 0.0, 0.2 and 0.4, three seeds "
    "each, 10 epochs on the whole fit split. Which rate will have the lowest mean validation "
    "loss?",
    options={
        "a": "0.4: the most dropout regularizes the most, so it generalizes best.",
        "b": "0.2: a moderate rate is the sweet spot between too little and too much.",
        "c": "0.0: at this budget the network does not overfit, so dropout only slows learning.",
        "d": "No clear winner: one rate's seeds will disagree more than the rates do.",
    },
    explanations={
        "a": "Tempting if dropout always improves generalization, but it is a remedy for "
        "overfitting. Rate 0.4 had the highest mean validation loss, 0.231, against 0.120 "
        "without dropout: dropping 40 % of the units at every step slows the fit.",
        "b": "A sweet spot exists only when there is overfitting to fight. Rate 0.2 (mean "
        "validation loss 0.149) lost to no dropout at all (0.120).",
        "c": "The mean validation losses were 0.120, 0.149 and 0.231 for rates 0.0, 0.2 and "
        "0.4. In 10 epochs the network has not begun to memorize its training digits, so "
        "dropout has nothing to fix and only makes each step noisier.",
        "d": "A fair worry with one run per rate, which is why there are three seeds. But the "
        "largest gap between the rates' means, 0.111, is larger than the largest spread across "
        "one rate's seeds, 0.040: the choice is not seed noise.",
    },
    correct="c",
    points=0,
)


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
        "Weights of std 1 push the sigmoids' weighted sums far from 0, where they saturate "
        "(diagnose names those layers) and pass almost no gradient back (lesson 2); the same "
        "weights would blow up a ReLU network (lesson 3); softmax before a from_logits loss "
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


# --- p1: the playground challenge (declared in challenges.py) -------------------------------------
(p1,) = challenges("06_capstone")


# --- test your knowledge: the whole course --------------------------------------------------------
k1 = QuizExercise(
    id="k1",
    hints=[
        "Look at where the gradient gets small: gradually, layer by layer, or all at once at "
        "one layer?",
        "σ′ ≤ 0.25 at every sigmoid layer shrinks the backward signal a little at a time; a ReLU "
        "unit whose input is negative for every example passes back exactly 0.",
    ],
    question="Two digits runs both end with the loss at ln 10 ≈ 2.30, the cost of a uniform "
    "guess. In run X (sigmoid) the gradient norm shrinks layer by layer, the first layer's about "
    "10⁻⁴ of the largest. In run Y (ReLU) one hidden layer is 100 % dead, and the layers below it "
    "get a gradient of exactly 0. Which diagnoses and remedies fit?",
    options={
        "a": "Both vanishing gradients: switch both to ReLU with He initialization.",
        "b": "X vanishing gradients (ReLU with He); Y dead ReLU units (leaky ReLU, or a start "
        "and learning rate that do not kill them).",
        "c": "Both a learning rate too low: raise it in both runs.",
        "d": "X dead units, Y vanishing gradients: a gradient of exactly 0 is vanishing taken "
        "to the extreme.",
    },
    explanations={
        "a": "Tempting, since Y's lower layers get no gradient either. But Y already uses ReLU: "
        "its gradient is not shrunk by many small factors, it is cut off at one layer whose "
        "units output 0 for every example and so pass back exactly 0.",
        "b": "In X every sigmoid layer multiplies the backward signal by σ′ ≤ 0.25, so it fades "
        "layer by layer; ReLU has slope 1 where it is active. In Y one layer is silent for every "
        "input and passes back 0; only a slope for negative inputs (leaky ReLU), or not pushing "
        "the units there in the first place, lets the gradient through.",
        "c": "Tempting because neither loss moves. But a larger step scales every layer's update "
        "by the same factor: X's top layers overshoot long before its first layer moves, and for "
        "Y's dead units 0 times any learning rate is still 0.",
        "d": "Tempting because both end in a tiny gradient, but the mechanism names the remedy. "
        "X's gradient fades gradually and it has no dead units (a sigmoid never outputs exactly "
        "0); Y's drops to 0 at the single dead layer. Swapped, each run gets a remedy for a "
        "fault it does not have.",
    },
    correct="b",
)

k2 = QuizExercise(
    id="k2",
    hints=[
        "Compare the two loss curves: what does it mean when the training loss keeps falling "
        "while the validation loss turns up?",
        "Healthy gradients and no dead units say the optimizer works: the network learns its "
        "100 training digits too well. Which remedy in the course targets that?",
    ],
    question="A network trains on only 100 digits. Its training loss falls to almost 0; the "
    "validation loss reaches its lowest point early, then climbs for the rest of the run. Every "
    "layer's gradient norm is of similar size and no layer has dead units. Which change "
    "addresses the cause?",
    options={
        "a": "Lower the learning rate, so the validation loss does not run away.",
        "b": "Switch to ReLU with He initialization.",
        "c": "A wider, deeper network, so it fits the validation digits as well as the training "
        "ones.",
        "d": "Dropout (or more training data, or stopping at the lowest validation loss).",
    },
    explanations={
        "a": "Tempting because the run goes wrong as training goes on, but a smaller step only "
        "reaches the same memorized solution later. The cause is far more weights than 100 "
        "examples can pin down, not the step size.",
        "b": "That is the remedy for vanishing gradients, and the monitors rule them out: every "
        "layer's gradient norm is of similar size, and the training loss does fall, to almost 0.",
        "c": "More capacity makes memorizing 100 digits easier still, so the gap between the "
        "training and validation loss grows. The network never trains on the validation "
        "digits: it cannot fit them, only generalize to them.",
        "d": "A training loss near 0 with a climbing validation loss is memorization. Dropout "
        "makes each unit useful without the others, so the network cannot lean on the quirks "
        "of particular training digits; more data or stopping at the validation minimum attack "
        "the same cause.",
    },
    correct="d",
)

k3 = QuizExercise(
    id="k3",
    hints=[
        "A NaN means some number grew until it overflowed. What can grow once the gradient "
        "reaches every layer at full size?",
        "Nothing else changed: the weights are still three times the right scale and the "
        "learning rate is still 1.0. Why did they do no harm while the sigmoids were saturated?",
    ],
    question="A ten-layer sigmoid network starts with weights three times Glorot's size and "
    "trains with SGD at learning rate 1.0. Its loss stays flat and the monitor reports "
    "vanishing gradients. You switch to ReLU with He initialization, change nothing else, and "
    "now the loss becomes NaN. What happened?",
    options={
        "a": "ReLU was the wrong remedy: go back to sigmoid and raise the learning rate instead.",
        "b": "The ReLU units died, and dead units make the loss NaN.",
        "c": "The saturated sigmoids hid two more faults: weights three times the right scale "
        "and a learning rate far too large, which blow up the gradient now that it gets through.",
        "d": "Bad luck with the seed: run it again with another one.",
    },
    explanations={
        "a": "Tempting, since the change made things visibly worse. But the sigmoid run was not "
        "healthy, only stuck: its gradient vanished, and a larger step cannot lift a first layer "
        "whose gradient is orders of magnitude below the top's without the top overshooting.",
        "b": "Dead units stop the loss moving; they do not make it NaN. A dead unit outputs 0 and "
        "passes back 0. NaN means numbers grew until they overflowed: exploding.",
        "c": "One failure can mask another. Saturated sigmoids passed back almost no gradient, so "
        "neither the oversized weights nor the huge step could do harm. With ReLU, weights three "
        "times He's scale multiply the signal by about 3 in every layer, and a learning rate of "
        "1.0 turns the large gradients into huge steps. Restore the scale, lower the learning "
        "rate, and read the monitors again after every change.",
        "d": "Weights three times the right scale amplify the signal in every layer on every "
        "seed: another seed draws other weights, not smaller ones. A failure that follows from "
        "the set-up comes back until the set-up changes.",
    },
    correct="c",
)

k4 = QuizExercise(
    id="k4",
    hints=[
        "from_logits=True tells the loss: what you get are logits, apply softmax yourself. What "
        "does it get here?",
        "Softmax of numbers between 0 and 1: how different can the resulting probabilities be?",
    ],
    question="Exercise 3's broken network ends in a softmax layer, and the check trains it with "
    "SparseCategoricalCrossentropy(from_logits=True). What does that combination do?",
    options={
        "a": "The loss applies softmax again to numbers already in [0, 1], so the probabilities "
        "it scores stay close to uniform and the gradient is small.",
        "b": "Nothing: probabilities are a valid kind of logits, so training is the same.",
        "c": "Keras notices the double softmax and raises an error before training.",
        "d": "Only the reported accuracy is wrong; the loss and its gradient are unaffected.",
    },
    explanations={
        "a": "Inputs in [0, 1] differ by at most 1, so the second softmax gives probabilities "
        "within a factor e ≈ 2.7 of each other: with ten classes none can exceed about 0.23, the "
        "loss cannot fall far, and the gradient through two softmaxes is small. Leave the output "
        "layer linear and let the loss apply the softmax.",
        "b": "Tempting, because a logit may be any real number and a probability is one. But "
        "from_logits=True makes the loss apply softmax itself: the outputs, already squeezed "
        "into [0, 1], are squeezed a second time.",
        "c": "It would be convenient, but the loss cannot tell probabilities from logits that "
        "happen to lie in [0, 1]: it trusts the flag. The mistake runs silently, which is why "
        "Exercise 3's check looks at the last layer.",
        "d": "The second softmax keeps the order of the classes, so the predicted class is the "
        "same; but the loss is computed from the squashed probabilities, and so is the gradient "
        "that training follows.",
    },
    correct="a",
)

k5 = QuizExercise(
    id="k5",
    hints=[
        "One run per setting is one draw of the initial weights and dropout masks. How much do "
        "the draws alone move the validation loss?",
        "Section 4 compares two numbers before trusting its choice: the gap between the rates' "
        "means and the spread across one rate's seeds.",
    ],
    question="In a sweep like section 4's, two dropout rates' mean validation losses differ by "
    "0.01, while one rate's three seeds spread over 0.05. What is the sound conclusion?",
    options={
        "a": "Keep the rate with the lower mean: lower is better.",
        "b": "The sweep cannot tell the two rates apart: run more seeds, or keep the simpler "
        "choice.",
        "c": "Evaluate both on the test set and keep the one that scores better there.",
        "d": "Keep the larger rate: more dropout generalizes better.",
    },
    explanations={
        "a": "Tempting because one mean is lower. But three other seeds could reverse the order: "
        "a gap five times smaller than the spread across seeds says nothing about the rates.",
        "b": "When the seeds disagree more than the rates, the choice is within seed noise. "
        "More seeds shrink the noise in the means; otherwise the simpler model (less dropout) "
        "is as good a choice as any.",
        "c": "Tempting, since the test set is the honest judge. But a test set that made a "
        "choice no longer estimates the accuracy on new digits independently: choose on the "
        "validation data and look at the test set once, at the end.",
        "d": "Dropout is a remedy for overfitting, not a default: in section 4 the largest rate "
        "had the highest validation loss.",
    },
    correct="b",
)


LESSON = Lesson("06_capstone", [predict, q1, q2, q3, q4, p1, k1, k2, k3, k4, k5])
summary = LESSON.summary
