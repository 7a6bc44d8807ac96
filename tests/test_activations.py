"""labkit.activations: dead ReLU fractions and saturation against NumPy counts on sub-models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit.activations import activation_kind, activation_stats, dead_relu_fraction, relu_layers

pytestmark = pytest.mark.backends

DEAD = 5  # units (or channels) per layer given a bias so negative they can never fire


def _bias(units: int) -> keras.initializers.Initializer:
    """The first ``DEAD`` units get bias -1000 (always dead), the rest bias +0.1."""
    values = np.full(units, 0.1, dtype="float32")
    values[:DEAD] = -1000.0
    return keras.initializers.Constant(values)


def _numpy_dead_fraction(model: keras.Model, layer_name: str, x) -> float:
    """Reference: the layer's own output via a sub-model, a unit is dead when its max is 0."""
    sub = keras.Model(model.inputs, model.get_layer(layer_name).output)
    out = sub.predict(x, verbose=0)
    per_unit_max = out.max(axis=tuple(range(out.ndim - 1)))
    assert (out >= 0).all()
    return float((per_unit_max == 0).sum() / per_unit_max.size)


@pytest.fixture(scope="module")
def relu_zoo():
    """Dense(relu), Conv2D(relu), a ReLU layer and Activation('relu'), each with dead units."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(8, 3, activation="relu", bias_initializer=_bias(8), name="conv")(inputs)
    h = keras.layers.Conv2D(12, 3, bias_initializer=_bias(12), name="conv_linear")(h)
    h = keras.layers.ReLU(name="relu_layer")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(16, activation="relu", bias_initializer=_bias(16), name="dense")(h)
    h = keras.layers.Dense(20, bias_initializer=_bias(20), name="dense_linear")(h)
    h = keras.layers.Activation("relu", name="act_relu")(h)
    h = keras.layers.Dense(10, activation="tanh", name="tanh")(h)
    h = keras.layers.LeakyReLU(name="leaky")(h)
    model = keras.Model(inputs, keras.layers.Dense(1, name="output")(h))
    x = np.random.default_rng(0).uniform(-1, 1, size=(40, 6, 6, 2)).astype("float32")
    return model, x


def test_keys_are_relu_layers_in_order(relu_zoo):
    model, x = relu_zoo
    fractions = dead_relu_fraction(model, x)
    assert list(fractions) == ["conv", "relu_layer", "dense", "act_relu"]
    assert [layer.name for layer in relu_layers(model)] == list(fractions)


@pytest.mark.parametrize(
    ("layer", "units"), [("conv", 8), ("relu_layer", 12), ("dense", 16), ("act_relu", 20)]
)
def test_fraction_equals_numpy_count(relu_zoo, layer, units):
    model, x = relu_zoo
    got = dead_relu_fraction(model, x)[layer]
    assert got == pytest.approx(_numpy_dead_fraction(model, layer, x))
    assert got >= DEAD / units  # the forced-dead units are counted, per channel for conv


def test_conv_counts_channels_not_positions():
    """A channel alive at a single pixel of a single example is alive."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 1, activation="relu", use_bias=False, name="conv"),
        ]
    )
    model.get_layer("conv").kernel.assign(np.array([[[[1.0, -1.0]]]], dtype="float32"))
    x = np.zeros((3, 4, 4, 1), dtype="float32")
    x[2, 3, 1, 0] = 1.0  # channel 0 fires once; channel 1 never (its output is -x <= 0)
    assert dead_relu_fraction(model, x) == {"conv": 0.5}
    assert dead_relu_fraction(model, -x) == {"conv": 0.5}
    assert dead_relu_fraction(model, np.zeros_like(x)) == {"conv": 1.0}


def test_activation_kind_recognises_layers():
    assert activation_kind(keras.layers.Dense(2, activation="relu")) == "relu"
    assert activation_kind(keras.layers.Dense(2)) is None
    assert activation_kind(keras.layers.Activation("sigmoid")) == "sigmoid"
    assert activation_kind(keras.layers.ReLU()) == "relu"
    assert activation_kind(keras.layers.ReLU(negative_slope=0.1)) == "leaky_relu"
    assert activation_kind(keras.layers.LeakyReLU()) == "leaky_relu"
    assert activation_kind(keras.layers.Dropout(0.5)) is None


def test_activation_stats_match_numpy(relu_zoo):
    model, x = relu_zoo
    stats = activation_stats(model, x)
    assert list(stats) == ["conv", "relu_layer", "dense", "act_relu", "tanh", "leaky"]
    tanh_out = keras.Model(model.inputs, model.get_layer("tanh").output).predict(x, verbose=0)
    assert stats["tanh"]["activation"] == "tanh"
    assert stats["tanh"]["mean"] == pytest.approx(tanh_out.mean(), abs=1e-6)
    assert stats["tanh"]["std"] == pytest.approx(tanh_out.std(), rel=1e-5)
    assert stats["tanh"]["saturated_fraction"] == pytest.approx(np.mean(np.abs(tanh_out) > 0.97))
    assert stats["tanh"]["dead_fraction"] == 0.0
    dense_out = keras.Model(model.inputs, model.get_layer("dense").output).predict(x, verbose=0)
    assert stats["dense"]["zero_fraction"] == pytest.approx(np.mean(dense_out == 0))
    assert stats["dense"]["dead_fraction"] == dead_relu_fraction(model, x)["dense"]


def test_sigmoid_saturation_with_large_weights():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(
                32,
                activation="sigmoid",
                kernel_initializer=keras.initializers.RandomNormal(stddev=5.0),
                name="big",
            ),
            keras.layers.Dense(
                32,
                activation="sigmoid",
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                name="small",
            ),
        ]
    )
    x = np.random.default_rng(0).normal(size=(100, 10)).astype("float32")
    stats = activation_stats(model, x)
    big = keras.Model(model.inputs, model.get_layer("big").output).predict(x, verbose=0)
    expected = np.mean((big < 0.02) | (big > 0.98))
    assert stats["big"]["saturated_fraction"] == pytest.approx(expected)
    assert stats["big"]["saturated_fraction"] > 0.5
    assert stats["small"]["saturated_fraction"] == 0.0


def test_does_not_change_the_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8, name="dense"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.ReLU(name="relu"),
            keras.layers.Dropout(0.5, name="drop"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(32, 5)).astype("float32")
    before = [v.numpy().copy() for v in model.variables]
    first = dead_relu_fraction(model, x)
    activation_stats(model, x)
    assert dead_relu_fraction(model, x) == first
    for b, v in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), b, err_msg=v.path)


def test_model_without_relu_gives_empty_dict():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])
    assert dead_relu_fraction(model, np.ones((4, 3))) == {}


def test_unbuilt_sequential_is_built_from_the_probe():
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", name="dense")])
    assert list(dead_relu_fraction(model, np.ones((4, 3)))) == ["dense"]


class TinySubclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(4, activation="relu")
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_gets_an_explanation():
    model = TinySubclassed()
    model(np.ones((2, 3)))
    with pytest.raises(ValueError, match="subclassed") as info:
        dead_relu_fraction(model, np.ones((2, 3)))
    assert "keras.Sequential or the Functional API" in str(info.value)


def test_empty_probe_is_rejected():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu")])
    with pytest.raises(ValueError, match=r"empty.*x_train\[:512\]"):
        dead_relu_fraction(model, np.zeros((0, 3)))
