"""The only module that knows which Keras backend runs: stateless loss and gradients.

``loss_and_gradients(model, x, y)`` differentiates the model's *compiled* loss (regularization
losses included) with respect to ``model.trainable_variables`` exactly as the optimizer would see it
on that batch (``training=True``), without changing anything: weights, batch-norm statistics,
dropout RNG state (on PyTorch also torch's global generator and every parameter's ``.grad``),
metric and optimizer state are all left as they were. It runs the forward pass through
``model.stateless_call`` on the variable values and discards the updated values.
The differentiated function is compiled once per model (``tf.function`` on TensorFlow, ``jax.jit``
on JAX; PyTorch runs eagerly on detached clones).

It is also the only module that touches private Keras attributes: the small functions at the end
(``compiled_loss``, ``call_takes_training``, ``layer_losses_overridden``,
``intercept_optimizer_gradients``, ``wrap_train_step``, ``restore_train_step``,
``is_functional``, ``layer_graph_built``), each with a comment naming the Keras versions it was
checked on (3.8.0, the floor in pyproject.toml, and 3.15.1).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator

import keras
import numpy as np

__all__ = [
    "backend_name",
    "call_takes_training",
    "compiled_loss",
    "intercept_optimizer_gradients",
    "is_functional",
    "layer_graph_built",
    "layer_losses_overridden",
    "loss_and_gradients",
    "restore_train_step",
    "to_numpy",
    "wrap_train_step",
]

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
    if compiled_loss(model) is None:
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
    # No metric variables: stateless_compute_loss zips the ones it gets with the model's, so an
    # empty list maps none, and the loss tracker's update stays inside its StatelessScope
    # (discarded). Passing them would retrace the compiled function once `fit` builds the metrics.
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [],
    )


def _compiled_fn(model) -> Callable:
    """The backend's compiled ``(trainable, non_trainable, metrics, x, y) -> (loss, grads)``."""
    key = (id(compiled_loss(model)), len(model.trainable_variables))
    cached = _COMPILED.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    fn = _BUILDERS[backend_name()](model)
    _COMPILED[model] = (key, fn)
    return fn


def _loss_fn(model) -> Callable:
    """A pure function of the variable values: the same computation Keras's own trainers run."""

    def compute(trainable, non_trainable, metrics, x, y):
        kwargs = {"training": True} if call_takes_training(model) else {}
        y_pred, non_trainable, losses = model.stateless_call(
            trainable, non_trainable, x, return_losses=True, **kwargs
        )
        with layer_losses_overridden(model, losses):
            loss, _ = model.stateless_compute_loss(
                trainable, non_trainable, metrics, x=x, y=y, y_pred=y_pred, training=True
            )
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


# Private Keras attributes. Each function below names what it relies on and the Keras versions it
# was checked on; a new Keras release is checked here, and nowhere else.


def compiled_loss(model: keras.Model):
    """The loss object ``model.compile(loss=...)`` built, or ``None`` before ``compile``.

    Example
    -------
    >>> compiled_loss(keras.Sequential([keras.layers.Dense(1)])) is None
    True
    """
    # Keras 3.8.0, 3.15.1: Trainer.compile stores its CompileLoss as `model._compile_loss`.
    return getattr(model, "_compile_loss", None)


def call_takes_training(model: keras.Model) -> bool:
    """Whether ``model.call`` accepts a ``training`` argument.

    Example
    -------
    >>> call_takes_training(keras.Sequential([keras.layers.Dense(1)]))
    True
    """
    # Keras 3.8.0, 3.15.1: Layer.__init__ inspects call() and stores `_call_has_training_arg`.
    return model._call_has_training_arg


@contextlib.contextmanager
def layer_losses_overridden(model: keras.Model, losses: list) -> Iterator[None]:
    """Inside the block ``model.losses`` is ``losses`` (those ``stateless_call`` returned).

    Example
    -------
    >>> with layer_losses_overridden(model, losses):  # doctest: +SKIP
    ...     loss, _ = model.stateless_compute_loss(...)
    """
    if not losses:
        yield
        return
    # Keras 3.8.0, 3.15.1: Layer.losses returns `_losses_override` when it is non-empty; the JAX
    # trainer's compute_loss_and_updates sets and clears it the same way.
    model._losses_override = list(losses)
    try:
        yield
    finally:
        model._losses_override = []


def intercept_optimizer_gradients(
    optimizer: keras.optimizers.Optimizer, on_grads: Callable[[list], None]
) -> Callable[[], None]:
    """Call ``on_grads(grads)`` with the gradients every train step hands to ``optimizer``.

    ``on_grads`` runs inside the compiled step, before the update. Returns the function that
    undoes the interception.

    Example
    -------
    >>> undo = intercept_optimizer_gradients(model.optimizer, seen.append)  # doctest: +SKIP
    >>> model.fit(x, y, epochs=1)  # doctest: +SKIP
    >>> undo()  # doctest: +SKIP
    """
    # Keras 3.8.0, 3.15.1: the TensorFlow trainer calls optimizer.apply_gradients, which calls
    # self.apply; the PyTorch trainer calls optimizer.apply; the JAX trainer calls
    # optimizer.stateless_apply. A function set on the instance shadows the class's method, and
    # deleting it from the instance's __dict__ uncovers the method again.
    name = "stateless_apply" if backend_name() == "jax" else "apply"
    original = getattr(optimizer, name)

    if name == "stateless_apply":

        def intercept(optimizer_variables, grads, trainable_variables):
            on_grads(grads)
            return original(optimizer_variables, grads, trainable_variables)

    else:

        def intercept(grads, trainable_variables=None):
            grads = list(grads)
            on_grads(grads)
            return original(grads, trainable_variables)

    setattr(optimizer, name, intercept)
    return lambda: optimizer.__dict__.pop(name, None)


def wrap_train_step(
    model: keras.Model, before: Callable[[], None], add_logs: Callable[[dict], dict]
) -> Callable:
    """Make each of ``fit``'s train steps call ``before()`` first and return ``add_logs(logs)``.

    Both run inside the compiled step. Returns the new step; :func:`restore_train_step` undoes it.

    Example
    -------
    >>> wrap_train_step(model, lambda: None, lambda logs: {**logs, "one": 1.0})  # doctest: +SKIP
    >>> model.fit(x, y, epochs=1).history["one"]  # doctest: +SKIP
    [1.0]
    """
    original = model.train_step
    if backend_name() == "jax":

        def train_step(state, data):
            before()
            logs, state = original(state, data)
            return add_logs(logs), state

    else:

        def train_step(data):
            before()
            return add_logs(original(data))

    # Keras 3.8.0, 3.15.1: make_train_function compiles `self.train_step` on every backend (not
    # with Flax NNX enabled: 3.15.1's JAX trainer then calls the class's method), so an instance
    # attribute shadows the method. object.__setattr__ keeps it out of Keras's attribute tracker.
    object.__setattr__(model, "train_step", train_step)
    _reset_train_function(model)
    return train_step


def restore_train_step(model: keras.Model) -> None:
    """Undo :func:`wrap_train_step`: ``fit`` runs the class's own ``train_step`` again."""
    # Keras 3.8.0, 3.15.1: as in wrap_train_step.
    model.__dict__.pop("train_step", None)
    _reset_train_function(model)


def _reset_train_function(model: keras.Model) -> None:
    # Keras 3.8.0, 3.15.1: make_train_function reuses `model.train_function` unless it is None.
    model.train_function = None


def is_functional(model: keras.Model) -> bool:
    """Whether ``model`` is a Functional model (``keras.Model(inputs, outputs)``).

    Example
    -------
    >>> x = keras.Input((3,))
    >>> is_functional(keras.Model(x, keras.layers.Dense(1)(x)))
    True
    """
    # Keras 3.8.0, 3.15.1: Functional is not exported; keras.Model(inputs, outputs) builds one.
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)


def layer_graph_built(model: keras.Sequential) -> bool:
    """Whether a Sequential model knows its input shape, so its layers' outputs exist.

    Example
    -------
    >>> layer_graph_built(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]))
    True
    """
    # Keras 3.8.0, 3.15.1: Sequential.build keeps the equivalent Functional in `_functional`
    # (None until the input shape is known).
    return model.built and getattr(model, "_functional", None) is not None
