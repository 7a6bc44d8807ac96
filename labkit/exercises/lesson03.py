"""Lesson 03 — exploding gradients: exercises.

Every check trains the same kind of network the lesson uses — 4 ReLU layers of 32 units whose
weights start twice as large as He initialization (``RandomNormal(stddev=0.5)``) — on fresh
regression data with a fixed seed, and judges the answer by how training went. The initial
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

from labkit.exercises.core import Incorrect, Lesson, ModelExercise, ValueExercise, expect_number
from labkit.exercises.training import CHECK_SEED, CheckRun, train_for_check

__all__ = ["LESSON", "q1", "q2", "q3", "summary"]

LARGE_STD = 0.5
FEATURES = 8
EPOCHS = 4
BATCH = 64
STEPS = EPOCHS * 512 // BATCH
LR_TARGET = 5.0
CLIP_LR = 0.05
CLIP_TARGET = 2.0
BN_LR = 0.01
BN_TARGET = 2.0
BLOW_UP = 10.0


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


def train_briefly(model, optimizer) -> CheckRun:
    """Train ``model`` with ``optimizer`` and MSE for 4 epochs (batch 64) on the check data.

    Each epoch draws a NumPy batch order (:func:`~labkit.exercises.training.train_for_check`);
    the final loss is the last epoch's training-mode loss (batch normalization's running
    statistics are not settled after so few steps).
    """
    return train_for_check(
        model,
        regression_data(),
        optimizer=optimizer,
        loss="mse",
        epochs=EPOCHS,
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


# --- q1: a learning rate that trains stably ------------------------------------------------------
def _check_learning_rate(value) -> str:
    import keras

    lr = expect_number(value, "learning_rate")
    if lr <= 0:
        raise Incorrect(f"learning_rate is {lr:g}; a learning rate must be positive (e.g. 0.001).")
    if lr > 10:
        raise Incorrect(f"learning_rate {lr:g} is far too large: steps that big always diverge.")
    run = train_briefly(large_init_model(), keras.optimizers.SGD(learning_rate=lr))
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"With learning_rate={lr:g}, {blew}: the gradients are huge, so each step "
            "overshoots and the next gradient is even larger. Lower it (try dividing by 3)."
        )
    if run.final_loss >= LR_TARGET:
        raise Incorrect(
            f"Stable, but it barely learns: after {STEPS} steps the loss is "
            f"{run.final_loss:.3g} (it started at {run.start_loss:.3g}); it should get below "
            f"{LR_TARGET:g}. The steps are too small: raise the learning rate (try x3)."
        )
    return (
        f"Correct! With learning_rate={lr:g} the loss went from {run.start_loss:.3g} to "
        f"{run.final_loss:.3g} in {STEPS} steps without blowing up."
    )


q1 = ValueExercise(
    id="q1",
    answer="learning_rate",
    hints=[
        "The lesson's 0.01 diverges. Every factor of 10 you go down makes each step 10 times "
        "smaller: too low and the network barely moves in so few steps.",
        "Try values between 3e-4 and 3e-3; the message tells you whether to go up or down.",
        "learning_rate = 1e-3 works.",
    ],
    constants={"steps": STEPS, "batch": BATCH, "target": LR_TARGET},
    check_fn=_check_learning_rate,
    points=1,
)


# --- q2: add batch normalization -----------------------------------------------------------------
def _hidden_kernel_std(model) -> float:
    """Mean standard deviation of the hidden Dense kernels (every 2-D kernel but the last)."""
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    if len(kernels) < 2:
        raise Incorrect(
            "your model should have hidden Dense layers followed by an output layer; it has "
            f"{len(kernels)} Dense layer(s)."
        )
    return float(np.mean([np.std(k) for k in kernels[:-1]]))


def _check_batch_norm_model(model) -> str:
    import keras

    if tuple(model.input_shape[1:]) != (FEATURES,) or tuple(model.output_shape[1:]) != (1,):
        raise Incorrect(
            f"the model should take {FEATURES} features and output one number; it maps "
            f"{tuple(model.input_shape[1:])} to {tuple(model.output_shape[1:])}. Keep the "
            "given Input and output layer."
        )
    std = _hidden_kernel_std(model)
    if std < 0.8 * LARGE_STD:
        raise Incorrect(
            f"the hidden layers start with weights of standard deviation {std:.2f}, but the "
            f"exercise keeps the large initialization (stddev={LARGE_STD}). Shrinking the "
            "weights is another fix; here, add batch normalization and leave the initializer."
        )
    run = train_briefly(model, keras.optimizers.SGD(learning_rate=BN_LR))
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"Trained with SGD(learning_rate={BN_LR}), {blew}: the gradients still explode. "
            "Put a BatchNormalization layer between EVERY hidden Dense layer and its ReLU "
            "(Dense without activation, then BatchNormalization, then Activation('relu'))."
        )
    if run.final_loss >= BN_TARGET:
        raise Incorrect(
            f"Stable, but after {STEPS} steps the loss is {run.final_loss:.3g} (it should get "
            f"below {BN_TARGET:g}). Normalize every hidden layer, not only some of them."
        )
    return (
        f"Correct! From the same large weights, the loss fell from {run.start_loss:.3g} to "
        f"{run.final_loss:.3g} in {STEPS} steps of SGD(learning_rate={BN_LR})."
    )


q2 = ModelExercise(
    id="q2",
    answer="build_model",
    hints=[
        "Batch normalization rescales each layer's weighted sums to mean 0 and variance 1, "
        "so the size of the weights no longer multiplies through the network.",
        "For each hidden layer: Dense(32, kernel_initializer=big) with no activation, then "
        "keras.layers.BatchNormalization(), then keras.layers.Activation('relu').",
        "Or: labkit.models.build_mlp(8, depth=4, width=32, kernel_initializer=big, "
        "batch_norm=True).",
    ],
    constants={"steps": STEPS, "learning_rate": BN_LR, "target": BN_TARGET, "std": LARGE_STD},
    check_fn=_check_batch_norm_model,
    points=2,
)


# --- q3: a clip value ----------------------------------------------------------------------------
def _check_clip_value(value) -> str:
    import keras

    clip = expect_number(value, "clip_value")
    if clip <= 0:
        raise Incorrect(
            f"clip_value is {clip:g}; clipnorm is the largest gradient norm allowed, so it must "
            "be positive (e.g. 1.0)."
        )
    optimizer = keras.optimizers.SGD(learning_rate=CLIP_LR, clipnorm=clip)
    run = train_briefly(large_init_model(), optimizer)
    blew = _blew_up(run)
    if blew:
        raise Incorrect(
            f"With clipnorm={clip:g}, {blew}: a cap this high hardly ever bites, so the huge "
            f"gradients still reach the weights. Lower the clip value (try dividing by 10)."
        )
    if run.final_loss >= CLIP_TARGET:
        raise Incorrect(
            f"Stable, but too slow: with clipnorm={clip:g} each step moves the weights by at "
            f"most {CLIP_LR:g} x {clip:g} = {CLIP_LR * clip:.2g}, and after {STEPS} steps the "
            f"loss is {run.final_loss:.3g} (it should get below {CLIP_TARGET:g}). Raise the clip "
            "value (try x10)."
        )
    return (
        f"Correct! With clipnorm={clip:g} at learning rate {CLIP_LR:g} the loss went from "
        f"{run.start_loss:.3g} to {run.final_loss:.3g} in {STEPS} steps."
    )


q3 = ValueExercise(
    id="q3",
    answer="clip_value",
    hints=[
        "Clipping rescales any gradient whose norm exceeds the clip value down to exactly that "
        "norm, so one step can move the weights by at most learning_rate x clipnorm.",
        "The gradients here start near 1e3. A cap of 1e3 changes nothing; a cap of 0.01 makes "
        "every step tiny. Try values between 1 and 100.",
        "clip_value = 10.0 works.",
    ],
    constants={"steps": STEPS, "learning_rate": CLIP_LR, "target": CLIP_TARGET},
    check_fn=_check_clip_value,
    points=1,
)

LESSON = Lesson("03_exploding_gradients", [q1, q2, q3])
summary = LESSON.summary
