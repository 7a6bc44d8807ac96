"""labkit.gradients on every backend: layer grouping, repeatability and the verdicts.

The comparisons with a hand-written ``tf.GradientTape`` live in ``test_gradients_tf.py``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from labkit.gradients import (
    exploding_layers,
    layer_gradient_norms,
    layer_of_variables,
    vanishing_ratio,
    zero_gradient_fraction,
)
from labkit.models import build_mlp, reinitialize

pytestmark = pytest.mark.backends


def _regression(n: int = 64, features: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, np.sin(x[:, :1]).astype("float32")


def test_dropout_norms_are_repeatable():
    keras.utils.set_random_seed(2)
    model = build_mlp(8, depth=3, width=32, dropout=0.5)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression()
    first = layer_gradient_norms(model, x, y)
    assert layer_gradient_norms(model, x, y) == first
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # advances the dropout seed
    assert layer_gradient_norms(model, x, y) != first


def test_layer_of_variables_groups_kernel_and_bias():
    model = build_mlp(4, depth=2, width=3, batch_norm=True)
    mapping = layer_of_variables(model)
    assert list(mapping) == ["hidden_1", "bn_1", "hidden_2", "bn_2", "output"]
    assert sorted(i for idx in mapping.values() for i in idx) == list(
        range(len(model.trainable_variables))
    )


def test_vanishing_ratio_is_lowest_over_largest():
    assert vanishing_ratio({"a": 0.002, "b": 4.0, "c": 0.5}) == pytest.approx(0.0005)
    assert math.isnan(vanishing_ratio({"a": 0.0, "b": 0.0}))
    with pytest.raises(ValueError, match="no layer has trainable weights"):
        vanishing_ratio({})


def test_exploding_layers_flags_non_finite_and_large_in_order():
    norms = {"a": 1.0, "b": float("nan"), "c": 5e3, "d": float("inf")}
    assert exploding_layers(norms, threshold=1e3) == ["b", "c", "d"]
    assert exploding_layers({"a": 999.0}, threshold=1e3) == []


def test_zero_gradient_fraction_counts_dead_units_and_the_layers_they_starve():
    x, y = _regression(features=4)
    model = reinitialize(build_mlp(4, depth=2, width=8), seed=0)
    model.compile(optimizer="sgd", loss="mse")
    assert zero_gradient_fraction(model, x, y) == {"hidden_1": 0.0, "hidden_2": 0.0}

    hidden_1, hidden_2 = model.get_layer("hidden_1"), model.get_layer("hidden_2")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in hidden_1.weights)
    kernel[:, 1], bias[1] = 0.0, -1.0  # unit 1 of hidden_1 is negative for every input
    hidden_1.set_weights([kernel, bias])
    assert zero_gradient_fraction(model, x, y) == {"hidden_1": 0.125, "hidden_2": 0.0}

    kernel, bias = (keras.ops.convert_to_numpy(w) for w in hidden_2.weights)
    hidden_2.set_weights([kernel, np.full_like(bias, -100.0)])  # every hidden_2 unit dead
    assert zero_gradient_fraction(model, x, y) == {"hidden_1": 1.0, "hidden_2": 1.0}
