"""GradientMonitor and DeadReLUMonitor in real (small, fast) training runs."""

from __future__ import annotations

import csv
import math

import keras
import numpy as np
import pytest

from labkit.activations import dead_relu_fraction
from labkit.callbacks import DeadReLUMonitor, ExplodingGradientError, GradientMonitor
from labkit.gradients import layer_gradient_norms
from labkit.models import build_cnn, build_mlp

pytestmark = pytest.mark.backends

N, FEATURES, BATCH = 512, 10, 32
STEPS_PER_EPOCH = N // BATCH


def _classification(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("float32")[:, None]
    return x, y


def _regression(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    return x, x.sum(axis=1, keepdims=True).astype("float32")


def _binary(model: keras.Model) -> keras.Model:
    model.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def _exploding_regressor() -> keras.Model:
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=10.0)
    model = build_mlp(FEATURES, depth=3, width=16, kernel_initializer=init)
    model.compile(optimizer="sgd", loss="mse")
    return model


def _layer_names(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers if layer.trainable_weights]


@pytest.fixture(scope="module")
def sigmoid_run():
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(build_mlp(FEATURES, depth=8, width=16, activation="sigmoid"))
    monitor = GradientMonitor(probe=(x[:256], y[:256]), verbose=0)
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[monitor])
    return model, monitor


@pytest.fixture(scope="module")
def relu_run(tmp_path_factory):
    """He-initialised ReLU MLP with both monitors and a CSVLogger listed after them."""
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(build_mlp(FEATURES, depth=8, width=16))
    grads = GradientMonitor(probe=(x[:256], y[:256]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:256], verbose=0)
    csv_path = tmp_path_factory.mktemp("logs") / "log.csv"
    history = model.fit(
        x,
        y,
        epochs=3,
        batch_size=BATCH,
        verbose=0,
        callbacks=[grads, dead, keras.callbacks.CSVLogger(str(csv_path))],
    )
    return model, grads, dead, history, csv_path, x


@pytest.fixture(scope="module")
def dead_run():
    keras.utils.set_random_seed(0)
    x, y = _regression()
    init = keras.initializers.Constant(-5.0)
    model = build_mlp(FEATURES, depth=3, width=16, bias_initializer=init)
    model.compile(optimizer="sgd", loss="mse")
    monitor = DeadReLUMonitor(probe=x[:256], verbose=0)
    history = model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[monitor])
    return model, monitor, history, x


# --- vanishing / healthy -------------------------------------------------------------------------
def test_deep_sigmoid_vanishes_at_the_lowest_layer(sigmoid_run):
    _, monitor = sigmoid_run
    vanishing = [f for f in monitor.findings if f.kind == "vanishing"]
    assert [f.layer for f in vanishing] == ["hidden_1"]
    assert vanishing[0].step == 0
    assert "ReLU" in vanishing[0].message and "He initialization" in vanishing[0].message
    norms = monitor.at(0)
    assert norms["hidden_1"] < 1e-3 * max(norms.values())


def test_he_relu_is_healthy(relu_run):
    _, grads, dead, *_ = relu_run
    assert grads.findings == []
    assert dead.findings == []
    for step in grads.steps():
        values = list(grads.snapshot(step).values())
        assert all(math.isfinite(v) and v > 0 for v in values)
        assert values[0] > 1e-3 * max(values)


# --- schedule and logs ---------------------------------------------------------------------------
def test_default_schedule_is_log_spaced_then_every_epoch(relu_run):
    _, grads, dead, *_ = relu_run
    powers = [2**k for k in range(10) if 2**k < STEPS_PER_EPOCH]
    epoch_ends = [STEPS_PER_EPOCH * e for e in (1, 2, 3)]
    expected = [0, *powers, *epoch_ends]
    assert grads.steps() == expected
    assert dead.steps() == expected
    assert [r["epoch"] for r in grads.history] == [0] * (1 + len(powers)) + [0, 1, 2]


def test_every_n_steps_schedule():
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(build_mlp(FEATURES, depth=2, width=8))
    monitor = GradientMonitor(probe=(x[:64], y[:64]), every=5, verbose=0)
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[monitor])
    assert monitor.steps() == [0, 1, 2, 4, *range(5, 2 * STEPS_PER_EPOCH + 1, 5)]


def test_epoch_values_land_in_history_and_csv_logger(relu_run):
    model, grads, dead, history, csv_path, _ = relu_run
    layers = _layer_names(model)
    relu_names = [n for n in layers if n != "output"]
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for epoch in range(3):
        step = STEPS_PER_EPOCH * (epoch + 1)
        for layer in layers:
            value = history.history[f"grad_norm/{layer}"][epoch]
            assert value == grads.snapshot(step)[layer]
            assert float(rows[epoch][f"grad_norm/{layer}"]) == pytest.approx(value, rel=1e-6)
        for layer in relu_names:
            value = history.history[f"dead_relu/{layer}"][epoch]
            assert value == dead.snapshot(step)[layer]
            assert float(rows[epoch][f"dead_relu/{layer}"]) == pytest.approx(value)


# --- reading the records -------------------------------------------------------------------------
def test_accessors_read_the_history_records(relu_run):
    model, grads, dead, history, *_ = relu_run
    layers = _layer_names(model)
    assert set(grads.history[0]) == {"step", "epoch", "norms", "grad_hist"}  # the raw format
    assert set(grads.history[1]) == {"step", "epoch", "norms", "grad_hist", "update_ratio"}
    assert grads.layers() == layers
    assert dead.layers() == layers[:-1]  # every hidden layer is a ReLU layer, the output is not
    for monitor in (grads, dead):
        for layer in monitor.layers():
            series = monitor.values(layer)
            assert series.shape == (len(monitor.steps()),)
            for index, step in enumerate(monitor.steps()):
                assert series[index] == monitor.at(index)[layer] == monitor.snapshot(step)[layer]
    epoch_ends = [grads.steps().index(STEPS_PER_EPOCH * e) for e in (1, 2, 3)]
    for layer in layers:
        assert list(grads.values(layer)[epoch_ends]) == history.history[f"grad_norm/{layer}"]


def test_accessors_read_another_record_entry(relu_run):
    _, grads, dead, history, *_ = relu_run
    assert grads.steps("update_ratio") == grads.steps()[1:]  # no update before step 0
    assert grads.layers("update_ratio") == grads.layers()
    for layer in grads.layers():
        ratios = grads.values(layer, key="update_ratio")
        assert ratios.shape == (len(grads.steps()) - 1,)
        assert np.all((-6 < ratios) & (ratios < 0))
        assert not np.array_equal(ratios, grads.values(layer)[1:])
        last = grads.snapshot(STEPS_PER_EPOCH * 3, key="update_ratio")[layer]
        assert ratios[-1] == last == history.history[f"update_ratio/{layer}"][-1]
    assert grads.at(0, key="update_ratio") == grads.snapshot(1, key="update_ratio")
    assert dead.steps("update_ratio") == [] and dead.layers("update_ratio") == []


def test_accessors_say_what_was_recorded(relu_run):
    _, grads, *_ = relu_run
    with pytest.raises(ValueError, match=r"no layer 'hidden_9' in the 'norms' records; measured"):
        grads.values("hidden_9")
    with pytest.raises(ValueError, match=r"step 3: the 8 'norms' records run from step 0 to 48"):
        grads.snapshot(3)
    with pytest.raises(IndexError, match="no record 8: the 8 'norms' records"):
        grads.at(8)
    assert grads.at(-8) == grads.snapshot(0)
    changed = grads.at(0)
    changed["hidden_1"] = -1.0
    assert grads.at(0)["hidden_1"] > 0  # at() hands out a copy: history is unchanged


def test_accessors_before_fit():
    monitor = GradientMonitor(probe=(np.ones((2, FEATURES)), np.ones((2, 1))))
    assert monitor.steps() == [] and monitor.layers() == []
    with pytest.raises(IndexError, match=r"no 'norms' records yet; pass it to model.fit\(...\)"):
        monitor.at(-1)
    with pytest.raises(ValueError, match="no record at step 0: the monitor holds no 'norms'"):
        monitor.snapshot(0)


def test_last_record_equals_a_direct_measurement(relu_run):
    model, grads, dead, _, _, x = relu_run
    assert grads.at(-1) == pytest.approx(layer_gradient_norms(model, grads.x, grads.y), rel=1e-6)
    assert dead.at(-1) == dead_relu_fraction(model, x[:256])


def test_a_finding_is_printed_once(capsys):
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(build_mlp(FEATURES, depth=8, width=16, activation="sigmoid"))
    monitor = GradientMonitor(probe=(x[:128], y[:128]))
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[monitor])
    assert len(monitor.history) > 5
    assert sum(vanishing_ratio < 1e-3 for vanishing_ratio in _ratios(monitor)) > 5
    printed = capsys.readouterr().out.splitlines()
    assert len([line for line in printed if "[vanishing] hidden_1" in line]) == 1
    assert printed[0].startswith("GradientMonitor: [vanishing] hidden_1 (step 0):")


def _ratios(monitor: GradientMonitor) -> list[float]:
    lowest = monitor.values(monitor.layers()[0])
    largest = np.max([monitor.values(layer) for layer in monitor.layers()], axis=0)
    return list(lowest / largest)


# --- exploding -----------------------------------------------------------------------------------
def test_huge_weights_explode_from_step_zero():
    model = _exploding_regressor()
    x, y = _regression()
    monitor = GradientMonitor(probe=(x[:128], y[:128]), verbose=0)
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[monitor])
    exploding = [f for f in monitor.findings if f.kind == "exploding"]
    assert exploding[0].step == 0
    assert exploding[0].layer == "hidden_1"
    assert "batch normalization" in exploding[0].message
    assert "clip" in exploding[0].message and "learning rate" in exploding[0].message


def test_on_explode_stop_ends_training():
    model = _exploding_regressor()
    x, y = _regression()
    monitor = GradientMonitor(probe=(x[:128], y[:128]), on_explode="stop", verbose=0)
    history = model.fit(x, y, epochs=5, batch_size=BATCH, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) < 5
    finding = monitor.findings[0]
    assert finding.kind == "exploding"
    # seen in the record after step n, taken as step n + 1 begins: fit stops after that step
    assert int(model.optimizer.iterations.numpy()) == finding.step + 1


def test_on_explode_raise_raises_with_the_finding():
    model = _exploding_regressor()
    x, y = _regression()
    monitor = GradientMonitor(probe=(x[:128], y[:128]), on_explode="raise", verbose=0)
    with pytest.raises(ExplodingGradientError, match=r"\[exploding\] hidden_1 \(step 0\)"):
        model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[monitor])
    assert int(model.optimizer.iterations.numpy()) == 0


# --- dead ReLUs ----------------------------------------------------------------------------------
def test_negative_bias_kills_layers_and_is_logged(dead_run):
    model, monitor, history, x = dead_run
    dead_layers = {f.layer for f in monitor.findings if f.kind == "dead_relu"}
    measured = dead_relu_fraction(model, x[:256])
    assert dead_layers == {name for name, v in measured.items() if v >= 0.5}
    assert {"hidden_2", "hidden_3"} <= dead_layers
    for layer in ("hidden_1", "hidden_2", "hidden_3"):
        logged = history.history[f"dead_relu/{layer}"]
        assert len(logged) == 2
        assert logged[-1] == measured[layer]
    assert "LeakyReLU" in monitor.findings[0].message


def test_dead_relu_monitor_warns_without_relu_layers():
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(build_mlp(FEATURES, depth=2, width=8, activation="tanh"))
    monitor = DeadReLUMonitor(probe=x[:64])
    with pytest.warns(UserWarning, match="no ReLU layer"):
        history = model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[monitor])
    assert monitor.history == []
    assert not any(k.startswith("dead_relu/") for k in history.history)


# --- architectures -------------------------------------------------------------------------------
def test_small_convnet_with_both_monitors():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 10, size=128)
    model = build_cnn((8, 8, 1), filters=(4, 8), dense_units=16)
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    grads = GradientMonitor(probe=(x[:64], y[:64]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:64], verbose=0)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[grads, dead])
    assert grads.layers() == ["conv_1", "conv_2", "dense", "output"]
    assert dead.layers() == ["conv_1", "conv_2", "dense"]
    assert grads.at(-1) == pytest.approx(layer_gradient_norms(model, x[:64], y[:64]), rel=1e-6)
    assert dead.at(-1) == dead_relu_fraction(model, x[:64])
    assert len(history.history["grad_norm/conv_1"]) == 2


def test_functional_residual_with_batch_norm():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((FEATURES,))
    h = keras.layers.Dense(16, activation="relu", name="stem")(inputs)
    r = keras.layers.Dense(16, name="branch")(h)
    r = keras.layers.BatchNormalization(name="bn")(r)
    r = keras.layers.ReLU(name="branch_relu")(r)
    h = keras.layers.Add(name="add")([h, r])
    h = keras.layers.Dropout(0.2, name="drop")(h)
    model = _binary(keras.Model(inputs, keras.layers.Dense(1, name="output")(h)))
    x, y = _classification()
    grads = GradientMonitor(probe=(x[:128], y[:128]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:128], verbose=0)
    history = model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[grads, dead])
    assert grads.layers() == ["stem", "branch", "bn", "output"]
    assert dead.layers() == ["stem", "branch_relu"]
    assert "grad_norm/bn" in history.history and "dead_relu/branch_relu" in history.history


class TinySubclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu", name="hidden")
        self.out = keras.layers.Dense(1, name="out")

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_gradients_work_dead_relu_is_disabled():
    keras.utils.set_random_seed(0)
    x, y = _classification()
    model = _binary(TinySubclassed())
    grads = GradientMonitor(probe=(x[:64], y[:64]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:64], verbose=0)
    with pytest.warns(UserWarning, match="DeadReLUMonitor is off: TinySubclassed is a subclassed"):
        history = model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[grads, dead])
    assert grads.layers() == ["hidden", "out"]
    assert len(history.history["grad_norm/hidden"]) == 2
    assert dead.history == []


# --- statelessness -------------------------------------------------------------------------------
def _bn_dropout_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    model = build_mlp(FEATURES, depth=3, width=16, batch_norm=True, dropout=0.3)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_records_change_nothing():
    x, y = _regression()
    model = _bn_dropout_model()
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    grads = GradientMonitor(probe=(x[:128], y[:128]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:128], verbose=0)
    variables = list(model.variables) + list(model.optimizer.variables)
    before = {v.path: v.numpy().copy() for v in variables}
    for monitor in (grads, dead):
        monitor.set_model(model)
        monitor.record()
        monitor.record()
    assert grads.at(0) == grads.at(1)
    for v in variables:
        np.testing.assert_array_equal(v.numpy(), before[v.path], err_msg=v.path)


def test_monitored_training_is_identical_to_unmonitored():
    x, y = _regression()
    plain = _bn_dropout_model()
    plain_history = plain.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, shuffle=False)
    watched = _bn_dropout_model()
    callbacks = [
        GradientMonitor(probe=(x[:128], y[:128]), every=3, verbose=0),
        DeadReLUMonitor(probe=x[:128], every=3, verbose=0),
    ]
    history = watched.fit(
        x, y, epochs=2, batch_size=BATCH, verbose=0, shuffle=False, callbacks=callbacks
    )
    assert history.history["loss"] == plain_history.history["loss"]
    for a, b in zip(plain.variables, watched.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


# --- probe validation ----------------------------------------------------------------------------
X, Y = _regression()


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        (X[:10], r"must be a pair \(x, y\)"),
        ((X[:0], Y[:0]), r"empty.*x_train\[:256\]"),
        ((X[:10], Y[:9]), "x has 10 examples but y has 9"),
        ((np.array([["a", "b"]] * 4), Y[:4]), "must be numeric.*dtype <U1"),
        ((X[:4], np.array(["cat", "dog", "cat", "dog"])), "targets must be numeric"),
    ],
)
def test_gradient_monitor_rejects_bad_probes(probe, message):
    with pytest.raises(ValueError, match=message):
        GradientMonitor(probe=probe)


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ((X[:10], Y[:10]), r"needs only inputs.*not an \(x, y\) pair"),
        (X[:0], "empty"),
        ([["a"], ["b"]], "must be numeric"),
    ],
)
def test_dead_relu_monitor_rejects_bad_probes(probe, message):
    with pytest.raises(ValueError, match=message):
        DeadReLUMonitor(probe=probe)


def test_wrong_feature_shape_is_caught_when_training_starts():
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=2, width=8)
    model.compile(optimizer="sgd", loss="mse")
    for monitor in (GradientMonitor(probe=(X[:8, :4], Y[:8])), DeadReLUMonitor(probe=X[:8, :4])):
        with pytest.raises(ValueError, match=r"shape \(4,\) but model .* expects \(10,\)"):
            model.fit(X, Y, epochs=1, verbose=0, callbacks=[monitor])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: GradientMonitor((X, Y), every=0), "every must be a positive number"),
        (lambda: GradientMonitor((X, Y), on_explode="panic"), "on_explode must be one of"),
        (lambda: DeadReLUMonitor(X, dead_threshold=0), r"dead_threshold must be in \(0, 1\]"),
    ],
)
def test_bad_settings_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make()
