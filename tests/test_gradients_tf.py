"""labkit.gradients on TensorFlow: per-layer norms against a hand-written GradientTape.

TensorFlow-only by construction (the reference is a ``tf.GradientTape``); the JAX and PyTorch
results are compared with TensorFlow's in ``test_backends.py``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from labkit.gradients import layer_gradient_norms
from labkit.models import build_cnn, build_mlp

L2 = 0.05


def _regression(n: int = 64, features: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, np.sin(x[:, :1]).astype("float32")


def _tape_norms(model: keras.Model, x, y, penalty=None) -> dict[str, float]:
    """Reference: eager tape in training mode, MSE (+ penalty), grouped by each layer's weights."""
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
        if penalty is not None:
            loss += penalty(model)
    grads = tape.gradient(loss, model.trainable_variables)
    by_id = {id(v): g.numpy().astype(np.float64) for v, g in zip(model.trainable_variables, grads)}
    return {
        layer.name: math.sqrt(sum(np.sum(by_id[id(w)] ** 2) for w in layer.trainable_weights))
        for layer in model.layers
        if layer.trainable_weights
    }


def _plain():
    return build_mlp(8, depth=3, width=16), None


def _regularized():
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(
                16, "relu", kernel_regularizer=keras.regularizers.L2(L2), name="hidden_1"
            ),
            keras.layers.Dense(16, "relu", name="hidden_2"),
            keras.layers.Dense(1, name="output"),
        ]
    )
    return model, lambda m: L2 * tf.reduce_sum(tf.square(m.get_layer("hidden_1").kernel))


def _dropout_and_bn():
    return build_mlp(8, depth=3, width=16, batch_norm=True, dropout=0.3), None


def _functional_residual():
    inputs = keras.Input((8,))
    h = keras.layers.Dense(16, "relu", name="stem")(inputs)
    r = keras.layers.Dense(16, name="branch")(h)
    r = keras.layers.BatchNormalization(name="bn")(r)
    h = keras.layers.Activation("relu", name="act")(keras.layers.Add(name="add")([h, r]))
    return keras.Model(inputs, keras.layers.Dense(1, name="output")(h)), None


@pytest.mark.parametrize("make", [_plain, _regularized, _dropout_and_bn, _functional_residual])
def test_norms_equal_gradient_tape_reference(make):
    keras.utils.set_random_seed(1)
    model, penalty = make()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression()
    norms = layer_gradient_norms(model, x, y)
    # Same (unchanged) dropout seed state, so the reference draws the same mask.
    expected = _tape_norms(model, x, y, penalty)
    assert list(norms) == list(expected)
    assert all(v > 0 for v in norms.values())
    for name, value in expected.items():
        assert norms[name] == pytest.approx(value, rel=1e-4), name


def test_regularization_changes_the_regularized_layer_only():
    keras.utils.set_random_seed(1)
    model, _ = _regularized()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression()
    with_penalty = layer_gradient_norms(model, x, y)
    no_penalty = _tape_norms(model, x, y)
    assert with_penalty["hidden_1"] != pytest.approx(no_penalty["hidden_1"], rel=1e-3)
    assert with_penalty["output"] == pytest.approx(no_penalty["output"], rel=1e-5)


def test_convnet_layers_in_order():
    keras.utils.set_random_seed(0)
    model = build_cnn((8, 8, 1), filters=(4, 8), dense_units=8, output_units=1)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype("float32")
    y = x.mean(axis=(1, 2)).astype("float32")
    norms = layer_gradient_norms(model, x, y)
    assert list(norms) == ["conv_1", "conv_2", "dense", "output"]
    expected = _tape_norms(model, x, y)
    for name, value in expected.items():
        assert norms[name] == pytest.approx(value, rel=1e-4), name
