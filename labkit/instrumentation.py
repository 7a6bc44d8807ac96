"""Exact per-step gradient statistics at (almost) no cost: reuse the optimizer's own gradients.

``instrument(model)`` makes the model's training step report, at every step, the L2 norm of each
layer's gradient on the *real* training batch, plus a non-finite flag — with zero extra forward or
backward passes. It intercepts the gradients where every Keras backend hands them to the optimizer
(``optimizer.apply`` on TensorFlow and PyTorch, ``optimizer.stateless_apply`` on JAX), computes the
norms inside the same compiled step, and adds them to the step's logs as one vector,
``grad_norms``: the layers' norms in layer order followed by a non-finite flag (1.0 when any
gradient entry is inf or NaN). One vector rather than a scalar per layer keeps the per-step cost
to a single device-to-host copy. ``GradientMonitor()`` without a probe decodes it every step and
puts ``grad_norm/<layer>`` into the epoch's logs.

Example
-------
>>> import labkit
>>> labkit.instrument(model)  # doctest: +SKIP
>>> monitor = GradientMonitor()  # no probe needed  # doctest: +SKIP
>>> model.fit(x, y, epochs=3, callbacks=[monitor])  # doctest: +SKIP
>>> labkit.uninstrument(model)  # plain Keras again  # doctest: +SKIP
"""

from __future__ import annotations

import keras
import numpy as np

from labkit.backend import intercept_optimizer_gradients, restore_train_step, wrap_train_step
from labkit.gradients import layer_of_variables

__all__ = ["LOG_KEY", "decode", "instrument", "is_instrumented", "uninstrument"]

LOG_KEY = "grad_norms"


class _Stash:
    """Holds the norms computed inside the optimizer call until the train step returns."""

    def __init__(self, model: keras.Model):
        self.model = model
        self.latest: dict | None = None
        self.optimizer = None
        self.undo = None

    def record(self, grads) -> None:
        grads = list(grads)
        squares = [keras.ops.sum(keras.ops.square(keras.ops.cast(g, "float32"))) for g in grads]
        norms = [
            keras.ops.sqrt(sum(squares[i] for i in idx))
            for idx in layer_of_variables(self.model).values()
        ]
        finite = keras.ops.all(
            keras.ops.stack([keras.ops.all(keras.ops.isfinite(g)) for g in grads])
        )
        flag = 1.0 - keras.ops.cast(finite, "float32")
        self.latest = {LOG_KEY: keras.ops.stack([*norms, flag])}

    def add_logs(self, logs: dict) -> dict:
        return {**logs, **(self.latest or {})}

    def wrap_optimizer(self, optimizer) -> None:
        if self.optimizer is optimizer:
            return
        self.unwrap_optimizer()
        self.optimizer, self.undo = optimizer, intercept_optimizer_gradients(optimizer, self.record)

    def unwrap_optimizer(self) -> None:
        if self.undo is not None:
            self.undo()
        self.optimizer = self.undo = None


def instrument(model: keras.Model) -> keras.Model:
    """Make ``model.fit`` log per-layer gradient norms of every real training batch.

    Keeps the model's optimizer, loss and metrics (compile before or after, either works); the
    weights it reaches are the same as without instrumentation. Returns the model.

    Parameters
    ----------
    model : keras.Model
        Any Keras model trained with the built-in ``fit``.

    Example
    -------
    >>> labkit.instrument(model)  # doctest: +SKIP
    >>> history = model.fit(x, y, epochs=1, verbose=0)  # doctest: +SKIP
    >>> history.history["grad_norms"][-1]  # per-layer norms, non-finite flag  # doctest: +SKIP
    array([0.41, 0.38, 0.52, 0.0], dtype=float32)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"instrument() needs a keras.Model, got {type(model).__name__}")
    if is_instrumented(model):
        return model
    stash = _Stash(model)
    step = wrap_train_step(model, lambda: stash.wrap_optimizer(model.optimizer), stash.add_logs)
    step.labkit_stash = stash
    return model


def uninstrument(model: keras.Model) -> keras.Model:
    """Undo :func:`instrument`: plain Keras training again. Returns the model."""
    stash = _stash(model)
    if stash is None:
        return model
    stash.unwrap_optimizer()
    restore_train_step(model)
    return model


def decode(layers: list[str], logs: dict) -> tuple[dict[str, float], bool]:
    """Per-layer norms and the non-finite flag from one step's logs of an instrumented model.

    ``layers`` are the names of the layers with trainable weights, in layer order
    (``list(labkit.gradients.layer_of_variables(model))``).

    Example
    -------
    >>> decode(["hidden_1", "output"], {"grad_norms": [0.5, 0.25, 0.0]})
    ({'hidden_1': 0.5, 'output': 0.25}, False)
    """
    vector = np.asarray(logs[LOG_KEY], dtype=float).ravel()
    return dict(zip(layers, vector[: len(layers)].tolist())), bool(vector[len(layers)])


def is_instrumented(model: keras.Model) -> bool:
    """Whether :func:`instrument` is active on ``model``."""
    return _stash(model) is not None


def _stash(model: keras.Model) -> _Stash | None:
    """The stash of an instrumented model: an attribute of the train step that replaced Keras's."""
    return getattr(model.train_step, "labkit_stash", None)
