"""The only module that knows which Keras backend runs: stateless loss and gradients.

``loss_and_gradients(model, x, y)`` differentiates the model's *compiled* loss (regularization
losses included) with respect to ``model.trainable_variables`` exactly as the optimizer would see it
on that batch (``training=True``), without changing anything: weights, batch-norm statistics,
dropout RNG state (on PyTorch also torch's global generator and every parameter's ``.grad``),
metric and optimizer state are all left as they were. It runs the forward pass through
``model.stateless_call`` on the variable values and discards the updated values.
The differentiated function is compiled once per model (``tf.function`` on TensorFlow, ``jax.jit``
on JAX; PyTorch runs eagerly on detached clones).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import keras
import numpy as np

__all__ = ["backend_name", "loss_and_gradients", "to_numpy"]

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def backend_name() -> str:
    """The active Keras backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def to_numpy(value) -> np.ndarray:
    """Convert a backend tensor (or anything array-like) to a NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(value))


def loss_and_gradients(model: keras.Model, x, y) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients of ``model``'s compiled loss on ``(x, y)``, statelessly.

    Parameters
    ----------
    model : keras.Model
        A compiled model (``model.compile(loss=...)``); built on first use if needed.
    x, y : array-like
        One batch of inputs and targets.

    Returns
    -------
    loss : float
        The total loss the optimizer would minimise on this batch.
    gradients : list of numpy.ndarray
        One gradient per entry of ``model.trainable_variables``, same order and shapes.

    Example
    -------
    >>> loss, grads = loss_and_gradients(model, x[:256], y[:256])  # doctest: +SKIP
    >>> [g.shape for g in grads] == [v.shape for v in model.trainable_variables]  # doctest: +SKIP
    True
    """
    _require_compiled(model)
    x = _as_batch(x)
    y = _as_batch(y)
    if not model.built:
        model(x[:1])
    loss, grads = _compiled_fn(model)(*_state(model), x, y)
    return float(to_numpy(loss)), [to_numpy(g) for g in grads]


def _require_compiled(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    if getattr(model, "_compile_loss", None) is None:
        raise ValueError(
            f"model {model.name!r} has no compiled loss: gradients are taken of the loss the "
            "optimizer minimises, so call model.compile(optimizer=..., loss=...) first"
        )


def _as_batch(a):
    """Float inputs become float32 arrays; integer labels keep their dtype."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return a.astype("float32", copy=False)
    return a


def _state(model) -> tuple[list, list, list]:
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in model.metrics_variables],
    )


def _compiled_fn(model) -> Callable:
    """The backend's compiled ``(trainable, non_trainable, metrics, x, y) -> (loss, grads)``."""
    key = (id(model._compile_loss), len(model.trainable_variables), len(model.metrics_variables))
    cached = _COMPILED.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    fn = _BUILDERS[backend_name()](model)
    _COMPILED[model] = (key, fn)
    return fn


def _loss_fn(model) -> Callable:
    """A pure function of the variable values: the same computation Keras's own trainers run."""

    def compute(trainable, non_trainable, metrics, x, y):
        kwargs = {"training": True} if model._call_has_training_arg else {}
        y_pred, non_trainable, losses = model.stateless_call(
            trainable, non_trainable, x, return_losses=True, **kwargs
        )
        if losses:
            model._losses_override = list(losses)
        try:
            loss, _ = model.stateless_compute_loss(
                trainable, non_trainable, metrics, x=x, y=y, y_pred=y_pred, training=True
            )
        finally:
            if losses:
                model._losses_override = []
        return loss

    return compute


def _tensorflow(model) -> Callable:
    import tensorflow as tf

    compute = _loss_fn(model)

    @tf.function(reduce_retracing=True)
    def fn(trainable, non_trainable, metrics, x, y):
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            loss = compute(trainable, non_trainable, metrics, x, y)
        grads = tape.gradient(loss, trainable)
        return loss, [tf.zeros_like(t) if g is None else g for t, g in zip(trainable, grads)]

    return fn


def _jax(model) -> Callable:
    import jax

    return jax.jit(jax.value_and_grad(_loss_fn(model)))


def _torch(model) -> Callable:
    import torch

    compute = _loss_fn(model)

    def fn(trainable, non_trainable, metrics, x, y):
        leaves = [t.detach().clone().requires_grad_(True) for t in trainable]
        frozen = [t.detach().clone() for t in non_trainable]
        metric_values = [t.detach().clone() for t in metrics]
        # An unseeded Dropout draws from torch's global generator: fork it so the draw is
        # undone (the same mask on every call, and training's random stream is untouched).
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            loss = compute(leaves, frozen, metric_values, x, y)
            grads = torch.autograd.grad(loss, leaves, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(leaves, grads)]
        return loss.detach(), grads

    return fn


_BUILDERS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}
