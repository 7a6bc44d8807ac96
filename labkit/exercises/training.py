"""The one pipeline every model check trains with, so every backend judges the same run.

``train_for_check`` redraws the model's weights with NumPy from :data:`CHECK_SEED`
(:func:`labkit.models.reinitialize`), seeds Keras's generator (dropout masks), compiles, measures
the loss before any step, trains in a NumPy-fixed batch order and measures accuracy on held-out
data. TensorFlow, JAX and PyTorch then run the same experiment from the same start.

Example
-------
>>> run = train_for_check(model, (x, y), optimizer=keras.optimizers.SGD(0.01), loss="mse",
...                       epochs=4, batch_size=64)  # doctest: +SKIP
>>> run.start_loss, run.final_loss, run.diverged  # doctest: +SKIP
(0.82, 0.31, None)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CHECK_SEED", "CheckRun", "train_for_check"]

CHECK_SEED = 3
"""The seed of every check's weights, batch order and dropout masks: a run the lesson never
showed (the lessons seed with 0 and 1)."""


@dataclass
class CheckRun:
    """What :func:`train_for_check` measured.

    ``start_loss`` is the loss on the training data before any step (inference mode),
    ``epoch_losses`` the mean training loss of each epoch, ``accuracy`` the argmax accuracy on
    ``eval_data`` (``None`` without it) and ``inspected`` what ``inspect`` returned.
    """

    model: object
    start_loss: float
    epoch_losses: list[float] = field(default_factory=list)
    accuracy: float | None = None
    inspected: object = None

    @property
    def final_loss(self) -> float:
        """The last epoch's mean training loss (the start loss if nothing was trained)."""
        return self.epoch_losses[-1] if self.epoch_losses else self.start_loss

    @property
    def diverged(self) -> str | None:
        """A sentence saying where the loss stopped being finite, or ``None``."""
        for epoch, loss in enumerate(self.epoch_losses, start=1):
            if not math.isfinite(loss):
                return f"the loss became {loss} in epoch {epoch}"
        return None


def train_for_check(
    model,
    data: tuple[np.ndarray, np.ndarray],
    *,
    optimizer,
    loss,
    epochs: int,
    batch_size: int,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    reshuffle: bool = False,
    inspect: Callable | None = None,
    clone: bool = False,
    seed: int = CHECK_SEED,
) -> CheckRun:
    """Train a student's (or the reference) model the one way every check does.

    Parameters
    ----------
    model : keras.Model
        Uncompiled or compiled; its weights are redrawn from its initializers.
    data : (x, y)
        The training data, in a fixed (already shuffled) order.
    optimizer, loss
        Passed to ``model.compile``.
    epochs, batch_size : int
        The training budget.
    eval_data : (x, y), optional
        Held-out data for the argmax accuracy of a classifier.
    reshuffle : bool
        ``False``: every epoch sees ``data`` in its stored order. ``True``: each epoch draws a
        NumPy permutation from ``seed``.
    inspect : callable, optional
        Called with the compiled, freshly initialized model before the first step (e.g. to
        judge its gradient profile); it may raise :class:`labkit.exercises.core.Incorrect`.
    clone : bool
        Train a clone (``keras.models.clone_model``, made after seeding so that its dropout
        layers' seeds are fixed too) and leave ``model`` untouched; ``run.model`` is the clone.
    seed : int
        Weights, batch order and Keras's generator; :data:`CHECK_SEED` unless a test varies it.
    """
    import keras

    from labkit.datasets import epoch_batches
    from labkit.models import accuracy, reinitialize

    x, y = data
    keras.utils.set_random_seed(seed)
    if clone:
        model = keras.models.clone_model(model)
    reinitialize(model, seed)
    model.compile(optimizer=optimizer, loss=loss)
    # What model.evaluate(x, y, batch_size=len(x)) returns, in one eager call: no test
    # function for Keras to trace for every model a check builds.
    start = model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=False)
    run = CheckRun(model, float(keras.ops.convert_to_numpy(start)))
    if inspect is not None:
        run.inspected = inspect(model)
    # One fit call for every epoch (Keras sets up the run once), on the batches that one call
    # per epoch would see: with reshuffling, each epoch in a new order from NumPy.
    stream, steps = epoch_batches(x, y, batch_size, shuffle_seed=seed if reshuffle else None)
    history = model.fit(stream, steps_per_epoch=steps, epochs=epochs, shuffle=False, verbose=0)
    run.epoch_losses = [float(loss) for loss in history.history["loss"]]
    if eval_data is not None:
        run.accuracy = accuracy(model, *eval_data)
    return run
