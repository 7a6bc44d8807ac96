"""Model builders with readable layer names, so diagnostics read like the lesson text."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

__all__ = ["accuracy", "build_cnn", "build_mlp", "default_initializer", "reinitialize"]

RELU_FAMILY = frozenset({"relu", "leaky_relu", "relu6", "elu", "selu", "gelu", "silu", "swish"})


def default_initializer(activation: str) -> str:
    """He initialization for the ReLU family, Glorot for everything else.

    Example
    -------
    >>> default_initializer("relu"), default_initializer("sigmoid")
    ('he_normal', 'glorot_uniform')
    """
    return "he_normal" if activation in RELU_FAMILY else "glorot_uniform"


def build_mlp(
    input_shape: int | Sequence[int],
    depth: int,
    width: int,
    activation: str = "relu",
    kernel_initializer=None,
    batch_norm: bool = False,
    dropout: float = 0.0,
    output_units: int = 1,
    output_activation: str | None = None,
    name: str | None = None,
    bias_initializer="zeros",
) -> keras.Sequential:
    """An uncompiled multilayer perceptron with layers named ``hidden_1`` ... ``output``.

    Each hidden block is ``Dense(width)`` named ``hidden_i``; with ``batch_norm`` the Dense is
    linear and is followed by ``bn_i`` and an ``Activation`` named ``act_i`` (normalize, then
    activate); with ``dropout > 0`` a ``Dropout`` named ``dropout_i`` follows. The output layer is
    linear by default: pair it with a ``from_logits=True`` loss, which keeps gradients exact on
    every backend.

    Parameters
    ----------
    input_shape : int or tuple
        Features per example, e.g. ``30`` or ``(64,)``.
    depth, width : int
        Number of hidden layers and units per hidden layer.
    activation : str
        Hidden activation, e.g. ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"leaky_relu"``.
    kernel_initializer : str or keras.initializers.Initializer, optional
        Defaults to He normal for the ReLU family and Glorot uniform otherwise.
    batch_norm : bool
        Insert batch normalization before each hidden activation.
    dropout : float
        Dropout rate after each hidden block, in [0, 1].
    output_units, output_activation : int, str or None
        The output layer (``None`` = linear logits / regression output).
    name : str, optional
        The model's name.
    bias_initializer : str or keras.initializers.Initializer
        Hidden layers' bias initializer (lesson 4 uses a negative constant to kill ReLUs).

    Example
    -------
    >>> model = build_mlp(30, depth=3, width=16)
    >>> [layer.name for layer in model.layers]
    ['hidden_1', 'hidden_2', 'hidden_3', 'output']
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int (number of hidden layers), got {depth!r}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int (units per layer), got {width!r}")
    if not 0.0 <= float(dropout) <= 1.0:
        raise ValueError(f"dropout must be a rate between 0.0 and 1.0, got {dropout!r}")
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    init = kernel_initializer or default_initializer(activation)
    layers: list[keras.layers.Layer] = [keras.Input(shape=shape)]
    if len(shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    for i in range(1, depth + 1):
        layers.append(
            keras.layers.Dense(
                width,
                activation=None if batch_norm else activation,
                kernel_initializer=init,
                bias_initializer=bias_initializer,
                name=f"hidden_{i}",
            )
        )
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
            layers.append(keras.layers.Activation(activation, name=f"act_{i}"))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(output_units, activation=output_activation, name="output"))
    return keras.Sequential(layers, name=name or f"mlp_{activation}_{depth}x{width}")


def build_cnn(
    input_shape: Sequence[int],
    filters: Sequence[int] = (8, 16),
    activation: str = "relu",
    dense_units: int = 32,
    dropout: float = 0.0,
    output_units: int = 10,
    name: str | None = None,
) -> keras.Sequential:
    """A small uncompiled convnet: ``conv_i`` (3×3, same padding) + ``pool_i`` blocks, then dense.

    Example
    -------
    >>> model = build_cnn((8, 8, 1), filters=(4, 8))
    >>> [layer.name for layer in model.layers][:4]
    ['conv_1', 'pool_1', 'conv_2', 'pool_2']
    """
    init = default_initializer(activation)
    layers: list[keras.layers.Layer] = [keras.Input(shape=tuple(input_shape))]
    for i, f in enumerate(filters, start=1):
        layers.append(
            keras.layers.Conv2D(
                f,
                3,
                padding="same",
                activation=activation,
                kernel_initializer=init,
                name=f"conv_{i}",
            )
        )
        layers.append(keras.layers.MaxPooling2D(2, padding="same", name=f"pool_{i}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    layers.append(
        keras.layers.Dense(
            dense_units, activation=activation, kernel_initializer=init, name="dense"
        )
    )
    if dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(output_units, name="output"))
    return keras.Sequential(layers, name=name or "cnn")


def reinitialize(model: keras.Model, seed: int) -> keras.Model:
    """Redraw every Dense/Conv kernel and bias from NumPy, so a seed means the same weights on
    TensorFlow, JAX and PyTorch (Keras's own RNG draws different numbers on each backend).

    Each weight is drawn from its layer's initializer (``kernel_initializer`` /
    ``bias_initializer``): variance-scaling ones (He, Glorot, LeCun), random normal / uniform /
    truncated normal, and constants are reproduced exactly in distribution; a weight with any
    other initializer keeps its Keras draw. Batch normalization starts over too (scale 1, offset
    0, moving mean 0, moving variance 1).

    Every random-number stream of the model restarts from the seed as well: each
    ``keras.random.SeedGenerator`` a layer holds (a ``Dropout`` layer's masks) gets a state drawn
    from ``seed``, so the same seed gives the same masks on every call (not the same masks on
    every backend: each backend has its own generator; and on PyTorch a ``Dropout`` built
    without ``seed=`` draws from torch's global generator instead, which
    ``keras.utils.set_random_seed`` seeds). A compiled model also gets its
    optimizer's state zeroed (step count, momenta), so it trains exactly like a new model with
    these weights and masks, without Keras tracing its training step again (on TensorFlow that
    tracing costs more than a short ``fit`` of a small network). Returns the model.

    Example
    -------
    >>> model = reinitialize(build_mlp(4, depth=2, width=3), seed=0)
    >>> [round(float(v), 4) for v in model.layers[0].kernel.numpy().ravel()[:2]]  # doctest: +SKIP
    [0.0889, -0.7502]
    """
    rng = np.random.default_rng(seed)
    for layer in _all_layers(model):
        for name in _INITIALIZED:
            variable = getattr(layer, name, None)
            initializer = getattr(layer, f"{name}_initializer", None)
            if variable is None or initializer is None:
                continue
            values = _numpy_draw(initializer, tuple(variable.shape), rng)
            if values is not None:
                variable.assign(values.astype(variable.dtype))
    _restart_random_streams(model, seed)
    optimizer = getattr(model, "optimizer", None)
    learning_rate = getattr(optimizer, "learning_rate", None)
    for variable in getattr(optimizer, "variables", None) or []:
        if variable is not learning_rate and not variable.path.endswith("learning_rate"):
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    return model


def accuracy(model: keras.Model, x, y) -> float:
    """A classifier's accuracy on ``(x, y)``: the fraction whose largest output is the label,
    in inference mode (dropout off), from one call of the model.

    It is what ``model.evaluate`` reports as ``"accuracy"`` for integer labels, without the test
    function Keras traces for every new model (on TensorFlow a few tenths of a second, more than
    evaluating a small network takes).

    Example
    -------
    >>> model = reinitialize(build_mlp(2, depth=1, width=4, output_units=3), seed=0)
    >>> accuracy(model, np.zeros((4, 2), "float32"), np.array([0, 1, 2, 0]))  # doctest: +SKIP
    0.5
    """
    outputs = keras.ops.convert_to_numpy(model(np.asarray(x), training=False))
    return float(np.mean(np.argmax(outputs, axis=-1) == np.ravel(y)))


def _restart_random_streams(model: keras.Model, seed: int) -> None:
    """Give every layer's ``SeedGenerator`` a state drawn from ``seed`` (a generator of its own,
    so the weights drawn above do not depend on how many dropout layers there are)."""
    rng = np.random.default_rng([seed, 1])
    for layer in _all_layers(model):
        for generator in _seed_generators(layer):
            state = generator.state
            start = np.array([rng.integers(1, 2**30), 0])
            state.assign(start.astype(keras.backend.standardize_dtype(state.dtype)))


def _seed_generators(layer: keras.layers.Layer) -> list:
    """The ``keras.random.SeedGenerator`` objects a layer keeps as attributes, in a fixed order."""
    return [
        value
        for _, value in sorted(vars(layer).items())
        if isinstance(value, keras.random.SeedGenerator)
    ]


# The weights reinitialize redraws, each from the layer's `<name>_initializer`.
_INITIALIZED = (
    "kernel",
    "bias",
    "depthwise_kernel",
    "gamma",
    "beta",
    "moving_mean",
    "moving_variance",
)


def _all_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _numpy_draw(initializer, shape: tuple[int, ...], rng: np.random.Generator):
    """A NumPy sample from a Keras initializer's distribution, or None when it is not known."""
    initializer = keras.initializers.get(initializer)
    config = initializer.get_config()
    if isinstance(initializer, keras.initializers.Zeros):
        return np.zeros(shape)
    if isinstance(initializer, keras.initializers.Ones):
        return np.ones(shape)
    if isinstance(initializer, keras.initializers.Constant):
        return np.full(shape, float(config["value"]))
    if isinstance(initializer, keras.initializers.TruncatedNormal):
        return config["mean"] + _truncated(rng, shape) * config["stddev"]
    if isinstance(initializer, keras.initializers.RandomNormal):
        return rng.normal(config["mean"], config["stddev"], size=shape)
    if isinstance(initializer, keras.initializers.RandomUniform):
        return rng.uniform(config["minval"], config["maxval"], size=shape)
    if isinstance(initializer, keras.initializers.VarianceScaling):
        fan_in, fan_out = _fans(shape)
        fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        variance = initializer.scale / max(1.0, fans[initializer.mode])
        if initializer.distribution == "truncated_normal":
            return _truncated(rng, shape) * np.sqrt(variance) / 0.87962566103423978
        if initializer.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(variance), size=shape)
        limit = np.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape)
    return None


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal samples redrawn until they lie within two standard deviations."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return values
