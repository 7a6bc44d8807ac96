"""Lesson 03 — exploding gradients: exercises.

Every check trains a network like the lesson's — ReLU layers of 32 units whose weights start
twice as large as He initialization (``RandomNormal(stddev=0.5)``) — on fresh regression data
with a fixed seed, and judges the answer by how training went: the loss must stay finite and end
a stated margin below the trivial baseline (predicting the mean, whose MSE is the target's
variance). The initial
weights (``labkit.models.reinitialize``) and the batch order are drawn with NumPy, so a check
judges the same run on TensorFlow, JAX and PyTorch.

Example
-------
>>> from labkit.exercises import lesson03 as ex
>>> ex.q1.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.challenges import challenges
from labkit.exercises.core import Incorrect, Lesson, ModelExercise, ValueExercise, expect_number
from labkit.exercises.diagnosis import DiagnosisExercise
from labkit.exercises.quiz import QuizExercise
from labkit.exercises.recording import Recipe
from labkit.exercises.training import CHECK_SEED, CheckRun, train_for_check

__all__ = [
    "LESSON",
    "RUNS",
    "baseline_mse",
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

LARGE_STD = 0.5
FEATURES = 8
EPOCHS = 4
BATCH = 64
STEPS = EPOCHS * 512 // BATCH
LR_EPOCHS = 8
LR_STEPS = LR_EPOCHS * 512 // BATCH
MARGIN = 0.9
"""A check passes only below ``MARGIN`` x the predict-the-mean MSE."""
DEEP = 8
DEEP_LR = 0.05
CLIP_LR = 0.05
BLOW_UP = 100.0


def regression_data(seed: int = CHECK_SEED, n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The lesson's regression task on fresh examples: 8 features, one real-valued target.

    Example
    -------
    >>> x, y = regression_data(seed=1)
    >>> x.shape, y.shape
    ((512, 8), (512, 1))
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] - 0.3 * x[:, 3]
    return x, y.astype("float32")[:, None]


def large_init_model(seed: int = CHECK_SEED):
    """The lesson's exploding network: 4 ReLU layers x 32 units, weights with std 0.5."""
    import keras

    from labkit.models import build_mlp, reinitialize

    init = keras.initializers.RandomNormal(stddev=LARGE_STD)
    return reinitialize(build_mlp(FEATURES, depth=4, width=32, kernel_initializer=init), seed)


def baseline_mse(seed: int = CHECK_SEED) -> float:
    """The MSE of predicting the mean on the check data: the target's variance.

    Example
    -------
    >>> round(baseline_mse(), 3)
    0.822
    """
    return float(np.var(regression_data(seed)[1]))


def train_briefly(model, optimizer, epochs: int = EPOCHS) -> CheckRun:
    """Train ``model`` with ``optimizer`` and MSE for ``epochs`` (batch 64) on the check data.

    Each epoch draws a NumPy batch order (:func:`~labkit.exercises.training.train_for_check`);
    the final loss is the last epoch's training-mode loss (batch normalization's running
    statistics are not settled after so few steps).
    """
    return train_for_check(
        model,
        regression_data(),
        optimizer=optimizer,
        loss="mse",
        epochs=epochs,
        batch_size=BATCH,
        reshuffle=True,
    )


def _blew_up(run: CheckRun) -> str | None:
    """A sentence saying how training diverged, or ``None`` when it stayed under control."""
    if run.diverged:
        return run.diverged
    for epoch, loss in enumerate(run.epoch_losses, start=1):
        if loss > BLOW_UP * run.start_loss:
            return (
                f"the loss shot up to {loss:.2g} in epoch {epoch} (it started at "
                f"{run.start_loss:.3g})"
            )
    return None


def _beat_the_mean(run: CheckRun, what: str, fix: str) -> None:
    """Raise :class:`Incorrect` unless the run ended ``MARGIN`` x below the predict-the-mean MSE."""
    base = baseline_mse()
    if run.final_loss >= MARGIN * base:
        raise Incorrect(
            f"{what} the loss is {run.final_loss:.3g} at the end (it started at "
            f"{run.start_loss:.3g}); predicting the mean scores {base:.3g}, and the check wants "
            f"below {MARGIN:g} x {base:.3g} = {MARGIN * base:.3g}. {fix}"
        )


# --- predict, then run: section 4's three remedies -----------------------------------------------
predict = QuizExercise(
    id="predict",
    question=(
        "The large-init network trains for 80 steps with batch normalization, with a learning "
        "rate of 2e-3, or with global clipping at 3.0. Which remedy ends with the lowest "
        "training loss?"
    ),
    options={
        "a": "Gradient clipping: no step can overshoot, and it keeps the learning rate of 0.01.",
        "b": "The lower learning rate: the same gradients, with steps 5 times shorter.",
        "c": "Batch normalization: it pulls every layer's factor back to about 1.",
        "d": "All three about equally: each one stops the explosion.",
    },
    explanations={
        "a": "Clipping does keep every run finite, but each step is capped at 0.01 × 3.0 along "
        "a raw gradient still 5.5e+02 at step 0: after 80 steps it ends at 1.45 – 1.80, above "
        "predicting the mean (0.85).",
        "b": "The lower rate keeps the runs finite and ends at 0.84, 0.82 and 0.81, just below "
        "predicting the mean (0.85). Its raw gradient is as large as with no remedy (5.5e+02 "
        "at step 0), so only short steps are safe, and short steps learn slowly.",
        "c": "Batch normalization ends at 0.47, 0.45 and 0.48, well below predicting the mean "
        "(0.85), and its step-0 gradient norm is 3.3e+00 against 5.5e+02 without it: it changes "
        "the gradient itself, the other two only the step taken along it.",
        "d": "All three stop the divergence, but their losses are far apart: batch "
        "normalization 0.45 – 0.48, the lower learning rate 0.81 – 0.84, clipping 1.45 – 1.80, "
        "against 0.85 for predicting the mean.",
    },
    correct="c",
    hints=[
        "Which of the three makes the gradient itself smaller, and which only shorten the step "
        "taken along a huge gradient?",
        "A step that is short enough to be safe along a huge gradient is short everywhere: how "
        "far can 80 such steps go?",
    ],
    points=0,
)


# --- q1: the fastest learning rate that stays stable ---------------------------------------------
def _check_learning_rate(value) -> str:
    import keras

    lr = expect_number(value, "learning_rate")
    if lr <= 0:
        raise Incorrect(f"learning_rate is {lr:g}; a learning rate must be positive (e.g. 0.001).")
    if lr > 10:
        raise Incorrect(f"learning_rate {lr:g} is far too large: steps that big always diverge.")
    run = train_briefly(large_init_model(), keras.optimizers.SGD(learning_rate=lr), LR_EPOCHS)
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"With learning_rate={lr:g}, {blew}: the gradients are huge, so each step "
            "overshoots and the next gradient is even larger. Lower it."
        )
    _beat_the_mean(
        run,
        f"Stable, but it barely learns: after {LR_STEPS} steps at learning_rate={lr:g}",
        "The steps are too small: raise the learning rate, as far as it goes without diverging.",
    )
    return (
        f"Correct! With learning_rate={lr:g} the loss went from {run.start_loss:.3g} to "
        f"{run.final_loss:.3g} in {LR_STEPS} steps (predicting the mean: {baseline_mse():.3g})."
    )


q1 = ValueExercise(
    id="q1",
    answer="learning_rate",
    hints=[
        "A stable rate is not enough: in so few steps only a rate close to the one where "
        "training diverges learns enough to beat predicting the mean.",
        "Bisect: find one rate that diverges and one that is stable, then try the rate halfway "
        "between them (on a log scale), and repeat.",
        "ex.q1.solution() shows a rate that works.",
    ],
    constants={"steps": LR_STEPS, "batch": BATCH, "margin": MARGIN},
    check_fn=_check_learning_rate,
    points=1,
)


# --- q2: a deeper network at a higher rate -------------------------------------------------------
def _hidden_kernel_std(model) -> float:
    """Mean standard deviation of the hidden Dense kernels (every 2-D kernel but the last)."""
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    if len(kernels) < 2:
        raise Incorrect(
            "your model should have hidden Dense layers followed by an output layer; it has "
            f"{len(kernels)} Dense layer(s)."
        )
    return float(np.mean([np.std(k) for k in kernels[:-1]]))


def _check_deep_model(model) -> str:
    import keras

    if tuple(model.input_shape[1:]) != (FEATURES,) or tuple(model.output_shape[1:]) != (1,):
        raise Incorrect(
            f"the model should take {FEATURES} features and output one number; it maps "
            f"{tuple(model.input_shape[1:])} to {tuple(model.output_shape[1:])}."
        )
    if not model.trainable_weights:
        raise Incorrect(
            "your model has no trainable weights, so training cannot change what it predicts: "
            "it can never beat predicting the mean."
        )
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    if len(kernels) < DEEP + 1:
        raise Incorrect(
            f"the exercise asks for {DEEP} hidden Dense layers and an output layer; your model "
            f"has {len(kernels)} Dense layer(s). Depth is what makes the product explode."
        )
    std = _hidden_kernel_std(model)
    if std < 0.8 * LARGE_STD:
        raise Incorrect(
            f"the hidden layers start with weights of standard deviation {std:.2f}, but the "
            f"exercise keeps the large initialization (stddev={LARGE_STD}). Shrinking the "
            "weights is another fix; here, keep them and stop their product from growing."
        )
    run = train_briefly(model, keras.optimizers.SGD(learning_rate=DEEP_LR))
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"Trained with SGD(learning_rate={DEEP_LR}), {blew}: the gradients still explode. "
            "Every hidden layer whose weighted sums are not rescaled multiplies the signal "
            "by about 2; a single rescaled layer does not stop the others."
        )
    _beat_the_mean(
        run,
        f"Stable, but after {STEPS} steps",
        "Rescale the weighted sums of every hidden layer, before its ReLU.",
    )
    return (
        f"Correct! From weights of std {std:.2f}, {len(kernels) - 1} hidden layers trained from "
        f"{run.start_loss:.3g} to {run.final_loss:.3g} in {STEPS} steps of "
        f"SGD(learning_rate={DEEP_LR}) (predicting the mean: {baseline_mse():.3g})."
    )


q2 = ModelExercise(
    id="q2",
    answer="build_model",
    hints=[
        "With std 0.5 and 32 inputs each layer multiplies the signal by about 2; eight layers "
        "make that 2^8. Something must pull every layer's factor back to 1.",
        "Which layer rescales a batch of weighted sums to mean 0 and variance 1, whatever the "
        "weights? Where must it sit relative to the ReLU, and in how many of the layers?",
        "ex.q2.solution() shows a builder that works.",
    ],
    constants={"steps": STEPS, "learning_rate": DEEP_LR, "depth": DEEP, "margin": MARGIN},
    check_fn=_check_deep_model,
    points=2,
)


# --- q3: a global clip value ---------------------------------------------------------------------
def _check_clip_value(value) -> str:
    import keras

    clip = expect_number(value, "clip_value")
    if clip <= 0:
        raise Incorrect(
            f"clip_value is {clip:g}; global_clipnorm is the largest norm the whole gradient may "
            "have, so it must be positive (e.g. 1.0)."
        )
    optimizer = keras.optimizers.SGD(learning_rate=CLIP_LR, global_clipnorm=clip)
    run = train_briefly(large_init_model(), optimizer)
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"With global_clipnorm={clip:g}, {blew}: a cap this high hardly ever bites, so the "
            "huge gradients still reach the weights. Lower the clip value."
        )
    _beat_the_mean(
        run,
        f"Stable, but too slow: with global_clipnorm={clip:g} each step moves the weights by at "
        f"most {CLIP_LR:g} x {clip:g} = {CLIP_LR * clip:.2g}, and after {STEPS} steps",
        "Raise the clip value.",
    )
    return (
        f"Correct! With global_clipnorm={clip:g} at learning rate {CLIP_LR:g} the loss went from "
        f"{run.start_loss:.3g} to {run.final_loss:.3g} in {STEPS} steps (predicting the mean: "
        f"{baseline_mse():.3g})."
    )


q3 = ValueExercise(
    id="q3",
    answer="clip_value",
    hints=[
        "Global clipping rescales the whole gradient when its norm exceeds the clip value, so "
        "one step moves the weights by at most learning_rate x global_clipnorm.",
        "Too high a cap never bites and training diverges; too low a cap makes every step tiny. "
        "Start from a value that diverges and one that is too slow, and bisect on a log scale.",
        "ex.q3.solution() shows a value that works.",
    ],
    constants={"steps": STEPS, "learning_rate": CLIP_LR, "margin": MARGIN},
    check_fn=_check_clip_value,
    points=1,
)


# --- q4: diagnose recorded runs ------------------------------------------------------------------
_FOUR_LAYERS = "4 ReLU layers of 32 units, plain SGD, batch size 64, 8 epochs"
RUNS = [
    Recipe(
        "A",
        "lr_too_high",
        f"{_FOUR_LAYERS}, He initialization, learning rate 0.2",
        "regression",
        depth=4,
        learning_rate=0.2,
        batch_size=64,
        epochs=8,
    ),
    Recipe(
        "B",
        "healthy",
        f"{_FOUR_LAYERS}, He initialization, learning rate 0.01",
        "regression",
        depth=4,
        learning_rate=0.01,
        batch_size=64,
        epochs=8,
    ),
    Recipe(
        "C",
        "exploding",
        f"{_FOUR_LAYERS}, weights drawn with std 0.6, learning rate 0.01",
        "regression",
        depth=4,
        init_std=0.6,
        learning_rate=0.01,
        batch_size=64,
        epochs=8,
    ),
]
"""The runs q4 shows: a too-high learning rate (the look-alike), a healthy run, exploding."""

q4 = DiagnosisExercise(
    id="q4",
    answer="diagnosis",
    hints=[
        "Two of the runs end with a loss of nan. Look at the gradient norms at step 0, before "
        "any update: which run's network is already broken before it takes a step?",
        "Gradients that are huge at step 0 come from the weights (exploding); ordinary "
        "gradients at step 0 that still end in nan come from the step size.",
        "ex.q4.solution() shows the diagnosis.",
    ],
    runs=["A", "B", "C"],
    points=2,
)

# --- p1: the playground challenge ---------------------------------------------------------------
(p1,) = challenges("03_exploding_gradients")


# --- test your knowledge -------------------------------------------------------------------------
k1 = QuizExercise(
    id="k1",
    question=(
        "Why do ReLU weights drawn at twice He's standard deviation make the gradients explode "
        "in a deep network?"
    ),
    options={
        "a": "Larger weights make the ReLU's derivative larger than 1.",
        "b": "Each layer multiplies the backward signal by about g = σ√(n/2) = 2, so after L "
        "layers it has grown by about 2^L.",
        "c": "Doubling the weights only doubles the gradients; the explosion comes from the "
        "learning rate alone.",
        "d": "Large weights saturate the ReLUs, as large weights saturate sigmoids.",
    },
    explanations={
        "a": "The ReLU's derivative is 0 or 1 whatever the weights; the factor larger than 1 "
        "comes from the weight matrix the signal is multiplied by at each layer.",
        "b": "Backpropagation multiplies the signal by Wᵀ and the ReLU's 0/1 derivative at "
        "every layer. He's σ = √(2/n) makes that factor 1; twice it makes it 2, and the factors "
        "compound: 2^L, not 2.",
        "c": "The factor 2 is per layer, and the layers' factors multiply: even the 4-layer "
        "network's gradients at step 0, before any step, were one to two hundred times the He "
        "network's.",
        "d": "A ReLU does not saturate for positive inputs: its slope stays 1 however large z "
        "is. Saturation is the sigmoid's problem (lesson 2), and it shrinks gradients.",
    },
    correct="b",
    hints=[
        "At each layer the backward signal is multiplied by two things: which of them depends on "
        "the weights' size?",
        "Section 1: g = σ√(n/2). What is g at twice He's σ, and what does L layers of it give?",
    ],
)

k2 = QuizExercise(
    id="k2",
    question=(
        "GradientMonitor(on_explode='stop') stops training with an exploding finding at step 1, "
        "although every norm at step 0 was below the alarm level. What happened?"
    ),
    options={
        "a": "A false alarm: the network was healthy at step 0, so the finding can be ignored.",
        "b": "The batch of step 1 was unusual; another batch would have been fine.",
        "c": "The learning rate was too low, so the first step made no progress.",
        "d": "The step-0 gradients were large, so the first update overshot; at the new weights "
        "the gradients were larger still, and each step makes the next one worse.",
    },
    explanations={
        "a": "Below the alarm level is not healthy: gradients of hundreds are already huge. The "
        "first step along them ruined the weights, and the loss goes to nan within a few more.",
        "b": "The monitor measures every record on the same fixed probe batch, so the jump "
        "between step 0 and step 1 comes from the changed weights, not from the data.",
        "c": "A step that is too small changes little; here the step changed the weights so much "
        "that the largest gradient norm grew more than tenfold. That is a step far too large.",
        "d": "That is the feedback of an explosion: a large gradient gives a large step, which "
        "lands where the gradient is larger. Stopping after one step keeps the loss finite and "
        "names the layer.",
    },
    correct="d",
    hints=[
        "The monitor reads every record on the same probe batch: what changed between step 0 "
        "and step 1?",
        "Section 3: how large was the largest norm at step 0, and how large at step 1?",
    ],
)

k3 = QuizExercise(
    id="k3",
    question=(
        "The remedies table prints the raw gradient norm at step 0. Which remedy makes that "
        "number small, and why?"
    ),
    options={
        "a": "Gradient clipping: it caps the gradient's norm at 3.0.",
        "b": "The lower learning rate: smaller steps give smaller gradients.",
        "c": "Batch normalization: it rescales every layer's weighted sums to spread 1, so each "
        "layer's factor is about 1 whatever the weights.",
        "d": "None of them: every remedy keeps the same large weights, and the weights set the "
        "gradient.",
    },
    explanations={
        "a": "Clipping acts inside the optimizer, on a gradient already computed: the raw "
        "gradient is just as large as with no remedy; only the step taken along it is capped.",
        "b": "At step 0 no step has been taken yet, and the learning rate never enters the "
        "gradient: it only multiplies it in the update.",
        "c": "Batch normalization changes the function being differentiated: every layer's ReLU "
        "receives sums of spread 1, so neither the forward activations nor the backward signal "
        "grow by 2 per layer, and the raw gradient is small from the start.",
        "d": "The weights are the same, but batch normalization divides each layer's sums by "
        "their spread over the batch, which undoes the weights' scale in the forward and the "
        "backward pass.",
    },
    correct="c",
    hints=[
        "Which remedies act on the update, after the gradient is computed, and which change the "
        "network the gradient is computed for?",
        "Compare the column 'grad norm, step 0' across the four rows of the table.",
    ],
)

k4 = QuizExercise(
    id="k4",
    question=(
        "Global gradient clipping keeps the large-init network finite. Why is it not yet a fix "
        "in a short training budget?"
    ),
    options={
        "a": "Every step is capped at learning_rate × clip value along a gradient that stays "
        "huge, so the steps are short; the network's factors of about 2 per layer remain.",
        "b": "global_clipnorm changes the gradient's direction, so training descends the wrong "
        "way.",
        "c": "Clipping acts on the first step only; afterwards the gradients explode again.",
        "d": "Clipping makes the lower layers' gradients vanish.",
    },
    explanations={
        "a": "Clipping limits the symptom, the step, not the cause: the weights still amplify "
        "the signal by about 2 per layer, the raw gradient stays far above the cap, and every "
        "capped step is short, so the loss falls slowly.",
        "b": "That holds for per-tensor clipnorm, which rescales each weight tensor on its own. "
        "global_clipnorm scales the whole gradient by one factor, so its direction is kept.",
        "c": "Clipping acts at every step whose gradient norm exceeds the cap; with gradients "
        "this large that is every step.",
        "d": "Global clipping scales every layer's gradient by the same factor, so the balance "
        "between layers is unchanged: nothing vanishes, everything is just shorter.",
    },
    correct="a",
    hints=[
        "What is the largest distance one clipped step can move the weights?",
        "Does clipping change the weights' factor of about 2 per layer?",
    ],
)

k5 = QuizExercise(
    id="k5",
    question="What do lesson 2's vanishing gradients and this lesson's exploding ones share?",
    options={
        "a": "Both are caused by the activation function's derivative.",
        "b": "Both are fixed by lowering the learning rate.",
        "c": "Both show only after many training steps.",
        "d": "Both come from a product of one factor per layer, g^L: below 1 it vanishes, above "
        "1 it explodes; the fixes keep each layer's factor near 1.",
    },
    explanations={
        "a": "For the sigmoid the small factor is its derivative, but the ReLU's derivative is "
        "1 on active units: here the factor larger than 1 comes from the weights.",
        "b": "A lower rate only shortens the steps. For exploding gradients that buys stability; "
        "for vanishing ones it makes the starved lower layers learn even more slowly.",
        "c": "Both are visible at step 0, before any update, in the gradient norms per layer: "
        "that is where the monitor's first record already shows them.",
        "d": "Backpropagation multiplies the signal by one factor per layer. ReLU with He "
        "initialization, or batch normalization, keeps each factor near 1, so the product "
        "neither vanishes nor explodes.",
    },
    correct="d",
    hints=[
        "Section 1 wrote the backward signal after L layers as g^L. What is g in lesson 2, and "
        "what here?",
        "Which remedies in the two lessons change g itself?",
    ],
)

LESSON = Lesson("03_exploding_gradients", [predict, q1, q2, q3, q4, p1, k1, k2, k3, k4, k5])
summary = LESSON.summary
