"""labkit.backend on TensorFlow: the loss and gradients the optimizer sees, computed statelessly."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from labkit import backend
from labkit.backend import loss_and_gradients

L2 = 0.01


def _data(n: int = 64, features: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x @ rng.normal(size=(features, 1))).astype("float32")
    return x, y


def _bn_dropout_model(seed: int = 0) -> keras.Sequential:
    """Dense (L2-regularized) → BatchNorm → ReLU → Dropout → Dense: every kind of hidden state."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, kernel_regularizer=keras.regularizers.L2(L2), name="dense"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("relu", name="act"),
            keras.layers.Dropout(0.5, name="drop"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def _tape_reference(model: keras.Model, x, y) -> tuple[float, list[np.ndarray]]:
    """Independent reference: eager forward pass in training mode, MSE plus the L2 penalty."""
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = keras.losses.MeanSquaredError()(y, y_pred)
        loss += L2 * tf.reduce_sum(tf.square(model.get_layer("dense").kernel))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [g.numpy() for g in grads]


def _snapshot(model: keras.Model) -> dict[str, np.ndarray]:
    """Every variable of the model and its optimizer, by path, copied to NumPy."""
    variables = list(model.variables) + list(model.optimizer.variables)
    return {v.path: np.array(v.numpy(), copy=True) for v in variables}


@pytest.fixture(scope="module")
def trained():
    """A model after a few optimizer steps, so BN statistics and Adam moments are non-trivial."""
    model = _bn_dropout_model()
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x, y


def test_matches_gradient_tape_with_regularization_bn_and_dropout(trained):
    model, x, y = trained
    loss, grads = loss_and_gradients(model, x, y)
    # The eager reference draws its dropout mask from the same (unchanged) seed state.
    ref_loss, ref_grads = _tape_reference(model, x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert [g.shape for g in grads] == [tuple(v.shape) for v in model.trainable_variables]
    for got, want in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_regularization_penalty_is_part_of_the_loss():
    x, y = _data()
    model = _bn_dropout_model()
    model.get_layer("drop").rate = 0.0
    loss, _ = loss_and_gradients(model, x, y)
    kernel = model.get_layer("dense").kernel.numpy().astype(np.float64)
    y_pred = model(x, training=True).numpy()
    expected = np.mean((y - y_pred) ** 2) + L2 * np.sum(kernel**2)
    assert L2 * np.sum(kernel**2) > 1e-3  # the penalty is big enough to be seen
    assert loss == pytest.approx(expected, rel=1e-5)


def test_is_stateless(trained):
    model, x, y = trained
    before = _snapshot(model)
    assert int(model.optimizer.iterations.numpy()) > 0
    for _ in range(3):
        loss_and_gradients(model, x, y)
    after = _snapshot(model)
    assert before.keys() == after.keys()
    watched = {"moving_mean", "moving_variance", "seed_generator_state", "iteration", "kernel"}
    assert watched <= {path.rsplit("/", 1)[-1] for path in before}
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=path)


def test_repeated_calls_are_traced_once(trained):
    model, x, y = trained
    for _ in range(4):
        loss_and_gradients(model, x, y)
    [(fn, _, _)] = backend._COMPILED[model].values()
    assert fn.experimental_get_tracing_count() == 1


def test_integer_labels_keep_their_dtype():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="logits")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).normal(size=(12, 4)).astype("float32")
    y = np.arange(12) % 3
    loss, grads = loss_and_gradients(model, x, y)
    logits = model(x).numpy().astype(np.float64)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_softmax[np.arange(12), y].mean(), rel=1e-5)
    assert len(grads) == 2


def test_uncompiled_model_is_rejected_with_a_remedy():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"model\.compile\(optimizer=\.\.\., loss=\.\.\.\)"):
        loss_and_gradients(model, np.zeros((2, 3)), np.zeros((2, 1)))


def test_non_model_is_rejected():
    with pytest.raises(TypeError, match="expected a keras.Model, got list"):
        loss_and_gradients([1, 2], np.zeros((2, 3)), np.zeros((2, 1)))
