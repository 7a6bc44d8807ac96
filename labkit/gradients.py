"""Per-layer gradient norms and the vanishing / exploding verdicts drawn from them."""

from __future__ import annotations

import math

import keras
import numpy as np

from labkit.backend import loss_and_gradients

__all__ = [
    "exploding_layers",
    "layer_gradient_norms",
    "layer_of_variables",
    "vanishing_ratio",
    "zero_gradient_fraction",
]


def layer_of_variables(model: keras.Model) -> dict[str, list[int]]:
    """Map each layer with trainable weights to the indices of its ``model.trainable_variables``.

    Layers appear in the model's layer order (input side first); a nested model counts as one layer.

    Example
    -------
    >>> layer_of_variables(model)  # doctest: +SKIP
    {'hidden_1': [0, 1], 'hidden_2': [2, 3], 'output': [4, 5]}
    """
    index = {id(v): i for i, v in enumerate(model.trainable_variables)}
    mapping: dict[str, list[int]] = {}
    for layer in model.layers:
        owned = [index[id(v)] for v in layer.trainable_weights if id(v) in index]
        if owned:
            mapping[layer.name] = owned
    return mapping


def layer_gradient_norms(model: keras.Model, x, y) -> dict[str, float]:
    """L2 norm of each layer's gradient (over all its trainable weights) on one batch.

    Computed statelessly with :func:`labkit.backend.loss_and_gradients`: training is not affected.

    Parameters
    ----------
    model : keras.Model
        A compiled Sequential or Functional model.
    x, y : array-like
        The batch (a fixed "probe" batch when monitoring).

    Returns
    -------
    dict
        ``{layer.name: norm}`` in layer order, for every layer that has trainable weights. A norm
        is ``inf`` or ``nan`` when the gradient is not finite.

    Example
    -------
    >>> norms = layer_gradient_norms(model, x[:256], y[:256])  # doctest: +SKIP
    >>> list(norms)  # doctest: +SKIP
    ['hidden_1', 'hidden_2', 'output']
    """
    if not model.built:
        model(np.asarray(x)[:1])
    _, grads = loss_and_gradients(model, x, y)
    return norms_from_gradients(model, grads)


def norms_from_gradients(model: keras.Model, grads: list[np.ndarray]) -> dict[str, float]:
    """Group per-variable gradients into per-layer L2 norms (see :func:`layer_gradient_norms`)."""
    squares = [float(np.sum(np.square(g, dtype=np.float64))) for g in grads]
    return {
        name: math.sqrt(sum(squares[i] for i in idx))
        for name, idx in layer_of_variables(model).items()
    }


def vanishing_ratio(norms: dict[str, float]) -> float:
    """Lowest layer's norm divided by the largest norm (1.0 is perfectly balanced).

    Example
    -------
    >>> f"{vanishing_ratio({'hidden_1': 1e-6, 'hidden_2': 1e-3, 'output': 1e-1}):.1e}"
    '1.0e-05'
    """
    values = list(norms.values())
    if not values:
        raise ValueError("no layer has trainable weights, so there is no gradient to compare")
    largest = max(values)
    if largest == 0 or not math.isfinite(largest):
        return float("nan")
    return values[0] / largest


def exploding_layers(norms: dict[str, float], threshold: float) -> list[str]:
    """Layers whose gradient norm is non-finite or above ``threshold``, in layer order.

    Example
    -------
    >>> exploding_layers({"hidden_1": float("inf"), "output": 2.0}, threshold=1e3)
    ['hidden_1']
    """
    return [name for name, n in norms.items() if not math.isfinite(n) or n > threshold]


def zero_gradient_fraction(model: keras.Model, x, y) -> dict[str, float]:
    """Per hidden layer: the fraction of its units whose incoming weights all get an exactly-zero
    gradient on ``(x, y)``.

    A unit is one index of the last axis of the layer's ``kernel`` (a Dense unit or a conv
    channel); its weights are that kernel slice. Every layer with a kernel is reported, in layer
    order, except the last one (the output layer, whose units always get a gradient). A dead ReLU
    unit scores 1 here, and so does every unit below a layer that passes no gradient at all.

    Example
    -------
    >>> zero_gradient_fraction(model, x_train[:256], y_train[:256])  # doctest: +SKIP
    {'hidden_1': 0.0, 'hidden_2': 0.25, 'hidden_3': 1.0}
    """
    if not model.built:
        model(np.asarray(x)[:1])
    _, grads = loss_and_gradients(model, x, y)
    index = {id(v): i for i, v in enumerate(model.trainable_variables)}
    fractions: dict[str, float] = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None or id(kernel) not in index:
            continue
        grad = np.asarray(grads[index[id(kernel)]])
        per_unit = grad.reshape(-1, grad.shape[-1])
        fractions[layer.name] = float(np.mean(np.all(per_unit == 0, axis=0)))
    return dict(list(fractions.items())[:-1])
