"""Model builders with readable layer names, so diagnostics read like the lesson text."""

from __future__ import annotations

from collections.abc import Sequence

import keras

__all__ = ["build_cnn", "build_mlp", "default_initializer"]

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
