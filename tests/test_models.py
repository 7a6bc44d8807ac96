"""labkit.models: layer names, structure, initializers and argument checks of the builders."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit.models import accuracy, build_cnn, build_mlp, default_initializer, reinitialize

pytestmark = pytest.mark.backends


def _names(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers]


def test_mlp_names_and_shapes():
    model = build_mlp(30, depth=3, width=16, output_units=2)
    assert _names(model) == ["hidden_1", "hidden_2", "hidden_3", "output"]
    assert model.input_shape == (None, 30)
    assert model.output_shape == (None, 2)
    assert [model.get_layer(f"hidden_{i}").units for i in (1, 2, 3)] == [16, 16, 16]
    assert model.get_layer("output").activation.__name__ == "linear"
    assert not model.compiled


def test_mlp_with_batch_norm_and_dropout():
    model = build_mlp(4, depth=2, width=8, activation="tanh", batch_norm=True, dropout=0.25)
    assert _names(model) == [
        "hidden_1",
        "bn_1",
        "act_1",
        "dropout_1",
        "hidden_2",
        "bn_2",
        "act_2",
        "dropout_2",
        "output",
    ]
    assert model.get_layer("hidden_1").activation.__name__ == "linear"
    assert model.get_layer("act_1").activation.__name__ == "tanh"
    assert model.get_layer("dropout_2").rate == 0.25


def test_image_input_is_flattened():
    model = build_mlp((8, 8), depth=1, width=4, output_units=10, output_activation="softmax")
    assert _names(model)[0] == "flatten"
    out = keras.ops.convert_to_numpy(model(np.ones((3, 8, 8), dtype="float32")))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("activation", "scale"), [("relu", 2.0), ("leaky_relu", 2.0), ("sigmoid", 1.0), ("tanh", 1.0)]
)
def test_default_initializer_per_activation(activation, scale):
    """He: Var = 2/fan_in; Glorot uniform: Var = 2/(fan_in + fan_out) (= 1/fan_in when square)."""
    keras.utils.set_random_seed(0)
    fan = 256
    model = build_mlp(fan, depth=2, width=fan, activation=activation)
    kernel = model.get_layer("hidden_2").kernel.numpy()
    assert kernel.var() == pytest.approx(scale / fan, rel=0.1)


def test_default_initializer_names():
    assert default_initializer("relu") == "he_normal"
    assert default_initializer("elu") == "he_normal"
    assert default_initializer("sigmoid") == "glorot_uniform"


def test_explicit_initializers_are_used():
    init = keras.initializers.Constant(0.5)
    model = build_mlp(3, depth=1, width=2, kernel_initializer=init, bias_initializer="ones")
    np.testing.assert_array_equal(model.get_layer("hidden_1").kernel.numpy(), 0.5)
    np.testing.assert_array_equal(model.get_layer("hidden_1").bias.numpy(), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": 0, "width": 4}, "depth must be a positive int"),
        ({"depth": 2, "width": 2.5}, "width must be a positive int"),
        ({"depth": 2, "width": 4, "dropout": 1.5}, "dropout must be a rate between 0.0 and 1.0"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_mlp(4, **kwargs)


def test_cnn_structure_and_output():
    model = build_cnn((8, 8, 1), filters=(4, 8), dense_units=16, dropout=0.5)
    assert _names(model) == [
        "conv_1",
        "pool_1",
        "conv_2",
        "pool_2",
        "flatten",
        "dense",
        "dropout",
        "output",
    ]
    assert model.get_layer("conv_2").filters == 8
    assert model.get_layer("pool_2").output.shape == (None, 2, 2, 8)
    assert model.output_shape == (None, 10)


def test_default_names_describe_the_model():
    assert build_mlp(4, depth=3, width=8, activation="sigmoid").name == "mlp_sigmoid_3x8"
    assert build_mlp(4, depth=1, width=8, name="mine").name == "mine"


def test_reinitialize_is_seeded_numpy_and_follows_each_initializer():
    from labkit.models import reinitialize

    def weights(seed):
        model = build_mlp(
            200, depth=2, width=300, bias_initializer=keras.initializers.Constant(-1.0)
        )
        return [keras.ops.convert_to_numpy(v) for v in reinitialize(model, seed).weights]

    first, again, other = weights(0), weights(0), weights(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])
    # He normal (truncated): std sqrt(2 / fan_in); biases keep their constant
    assert np.std(first[0]) == pytest.approx(np.sqrt(2 / 200), rel=0.03)
    assert np.std(first[2]) == pytest.approx(np.sqrt(2 / 300), rel=0.03)
    assert np.all(first[1] == -1.0)
    # the first kernel values are the same NumPy draw on every backend
    expected = np.random.default_rng(0).standard_normal(3)
    assert np.all(np.abs(expected) <= 2)  # not redrawn by the truncation
    np.testing.assert_allclose(
        first[0].ravel()[:3], expected * np.sqrt(2 / 200) / 0.87962566103423978, rtol=1e-5
    )


@pytest.mark.parametrize(
    "optimizer, batch_norm",
    [(lambda: keras.optimizers.Adam(0.01), False), (lambda: keras.optimizers.SGD(0.05, 0.9), True)],
    ids=["adam", "sgd-momentum-batchnorm"],
)
def test_reinitialize_restarts_a_trained_compiled_model_like_a_new_one(optimizer, batch_norm):
    from labkit.models import reinitialize

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 4)).astype("float32"), rng.integers(0, 3, 96)

    def trained(model, epochs):
        model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0)
        return [keras.ops.convert_to_numpy(v) for v in model.weights]

    def compiled():
        model = build_mlp(4, depth=2, width=8, batch_norm=batch_norm, output_units=3)
        model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
        return model

    new = trained(reinitialize(compiled(), seed=2), epochs=3)
    reused = compiled()
    trained(reinitialize(reused, seed=7), epochs=2)  # momenta, step count and BN statistics move
    again = trained(reinitialize(reused, seed=2), epochs=3)
    for a, b in zip(new, again):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert float(reused.optimizer.learning_rate) == pytest.approx(optimizer().learning_rate)


def test_reinitialize_restarts_the_dropout_masks_so_a_reused_network_repeats_a_new_ones_run():
    from labkit.models import reinitialize

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(96, 4)).astype("float32"), rng.integers(0, 3, 96)

    def compiled():
        # seed=1: PyTorch draws an unseeded Dropout's masks from its global generator instead
        model = keras.Sequential(
            [
                keras.Input(shape=(4,)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dropout(0.5, seed=1),
                keras.layers.Dense(3),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        return model

    def trained(model):
        model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        return [keras.ops.convert_to_numpy(v) for v in model.trainable_weights]

    new = trained(reinitialize(compiled(), seed=2))
    reused = compiled()
    other = trained(reinitialize(reused, seed=7))  # the masks' stream moves on
    again = trained(reinitialize(reused, seed=2))
    for a, b in zip(new, again):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(new[0], other[0])  # another seed: other weights and masks


def test_accuracy_is_what_evaluate_reports_with_dropout_off():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(90, 2)).astype("float32"), rng.integers(0, 3, size=90)
    model = reinitialize(build_mlp(2, depth=2, width=16, dropout=0.5, output_units=3), seed=0)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(x, y, epochs=3, batch_size=30, verbose=0)
    reported = model.evaluate(x, y, verbose=0)[1]
    assert accuracy(model, x, y) == pytest.approx(reported, abs=1e-6)
    assert 0.0 < accuracy(model, x, y) < 1.0
    assert accuracy(model, x, np.full(90, 7)) == 0.0  # no output is ever label 7
