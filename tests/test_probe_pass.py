"""The fused probe pass: gradients and dead-unit counts from one compiled call per record."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit import backend
from labkit.activations import dead_relu_fraction, dead_unit_counts, relu_taps
from labkit.backend import loss_and_gradients, probe_pass
from labkit.callbacks import DeadReLUMonitor, GradientMonitor
from labkit.models import build_mlp

pytestmark = pytest.mark.backends

FEATURES = 10


def _data(n: int = 256, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    return x, (x[:, :1] * 2.0 - x[:, 1:2]).astype("float32")


def _half_dead_mlp() -> keras.Model:
    """A ReLU MLP whose second layer's negative biases kill some of its units."""
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=3, width=8)
    bias = model.get_layer("hidden_2").bias
    bias.assign(np.where(np.arange(8) % 2 == 0, -100.0, 0.0).astype("float32"))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def _conv_bn_dropout() -> keras.Model:
    keras.utils.set_random_seed(1)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.5, name="drop")(h)
    h = keras.layers.Dense(
        8, activation="relu", bias_initializer=keras.initializers.Constant(-0.3), name="dense"
    )(h)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(h))
    model.compile(optimizer="sgd", loss="mse")
    return model


def _compiled_functions(model) -> list:
    return [fn for fn, _, _ in backend._COMPILED[model].values()]


def _trace_count(fn) -> int | None:
    """How often a compiled probe function was traced (``None`` on PyTorch, which runs eagerly)."""
    if backend.backend_name() == "tensorflow":
        return fn.experimental_get_tracing_count()
    if backend.backend_name() == "jax":
        return fn._cache_size()
    return None


@pytest.mark.parametrize("build", [_half_dead_mlp, _conv_bn_dropout])
def test_fused_pass_equals_the_separate_measurements(build):
    model = build()
    if build is _conv_bn_dropout:
        x = np.random.default_rng(2).normal(size=(64, 6, 6, 2)).astype("float32")
        y = np.random.default_rng(3).normal(size=(64, 1)).astype("float32")
    else:
        x, y = _data()
    taps = relu_taps(model, x)
    loss, grads, counts, finite = probe_pass(model, x, y, taps.model, dead_unit_counts)
    expected_loss, expected_grads = loss_and_gradients(model, x, y)
    assert finite
    assert loss == expected_loss
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_array_equal(got, want)
    assert taps.fractions(counts) == dead_relu_fraction(model, x)
    assert dead_relu_fraction(model, x, compiled=True) == dead_relu_fraction(model, x)


def test_half_dead_layer_is_counted():
    model = _half_dead_mlp()
    x, _ = _data()
    assert dead_relu_fraction(model, x, compiled=True)["hidden_2"] == 0.5


def test_non_finite_weights_fall_back_to_the_eager_outputs():
    model = _half_dead_mlp()
    x, _ = _data()
    kernel = model.get_layer("hidden_1").kernel
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    assert dead_relu_fraction(model, x, compiled=True) == dead_relu_fraction(model, x)


def test_monitors_share_one_pass_traced_once_per_model():
    model = _half_dead_mlp()
    x, y = _data(512)
    grads = GradientMonitor(probe=(x[:128], y[:128]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:128].copy(), verbose=0)  # equal inputs, another array
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[grads, dead])
    assert len(dead.history) == len(grads.history) >= 7  # steps 0, 1, 2, 4, 8, 16, 32
    [fn] = _compiled_functions(model)  # the fused pass only: no separate activation function
    assert _trace_count(fn) in (1, None)
    assert dead.at(-1) == dead_relu_fraction(model, x[:128])
    assert dead.at(-1)["hidden_2"] >= 0.5


def _auto_named_mlp(seed: int, loss="mse") -> keras.Model:
    """A ReLU MLP whose layers get Keras's automatic names, different for every model."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((FEATURES,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss=loss)
    return model


def test_models_built_alike_share_one_traced_pass_and_get_their_own_gradients():
    x, y = _data()
    first, second = _auto_named_mlp(0), _auto_named_mlp(1)
    assert [layer.name for layer in first.layers] != [layer.name for layer in second.layers]
    loss_and_gradients(first, x, y)
    loss, grads = loss_and_gradients(second, x, y)
    [fn] = _compiled_functions(first)
    assert _compiled_functions(second) == [fn]
    assert _trace_count(fn) in (1, None)
    backend._SHARED.clear()  # the second model on its own: its own trace, the same numbers
    del backend._COMPILED[second]
    alone_loss, alone_grads = loss_and_gradients(second, x, y)
    assert _compiled_functions(second) != [fn]
    assert loss == alone_loss
    for got, want in zip(grads, alone_grads, strict=True):
        np.testing.assert_array_equal(got, want)


def _custom_loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.abs(y_true - y_pred))


@pytest.mark.parametrize("loss", ["mae", _custom_loss], ids=["another_loss", "custom_loss"])
def test_models_with_another_or_a_custom_loss_trace_their_own_pass(loss):
    x, y = _data()
    plain, other = _auto_named_mlp(0), _auto_named_mlp(0, loss=loss)
    loss_and_gradients(plain, x, y)
    other_loss, _ = loss_and_gradients(other, x, y)
    assert _compiled_functions(other) != _compiled_functions(plain)
    expected = np.mean(np.abs(y - keras.ops.convert_to_numpy(other(x))))
    assert other_loss == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("order", ["gradient_first", "dead_first"])
def test_shared_records_equal_separate_runs(order):
    x, y = _data(512)
    runs = {}
    for shared in (True, False):
        model = _half_dead_mlp()
        grads = GradientMonitor(probe=(x[:128], y[:128]), verbose=0)
        # Another probe (the same examples reversed) turns the sharing off.
        dead = DeadReLUMonitor(probe=x[:128] if shared else x[:128][::-1], verbose=0)
        callbacks = [grads, dead] if order == "gradient_first" else [dead, grads]
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=callbacks)
        runs[shared] = (grads.history, dead.history, len(backend._COMPILED[model]))
    (g_shared, d_shared, n_shared), (g_apart, d_apart, n_apart) = runs[True], runs[False]
    assert [r["norms"] for r in g_shared] == [r["norms"] for r in g_apart]
    # reversing the probe's examples changes no dead fraction: dead means 0 for every example
    assert [r["dead_fraction"] for r in d_shared] == [r["dead_fraction"] for r in d_apart]
    assert n_apart == 2
    assert n_shared == (1 if order == "gradient_first" else 2)
