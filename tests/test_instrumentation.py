"""labkit.instrument: the optimizer's own gradients, reported every step, training unchanged."""

import keras
import numpy as np
import pytest

import labkit
from labkit import plots
from labkit.callbacks import GradientMonitor
from labkit.gradients import layer_gradient_norms, layer_of_variables
from labkit.instrumentation import LOG_KEY, decode
from labkit.models import build_mlp

pytestmark = pytest.mark.backends


class _StepLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, :1] * 2 - x[:, 1:2]).astype("float32")
    return x, y


def _model(compile_first=True):
    keras.utils.set_random_seed(3)
    model = build_mlp(8, depth=3, width=16)
    if compile_first:
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model


def test_instrumented_norms_equal_the_probe_computation(data):
    x, y = data
    model = labkit.instrument(_model())
    expected = layer_gradient_norms(model, x[:64], y[:64])  # same weights, same first batch
    steps = _StepLogs()
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0, callbacks=[steps])
    (step,) = decode(list(expected), steps.logs[0])
    assert list(step["norms"]) == list(expected) and not step["nonfinite"]
    for layer, norm in expected.items():
        assert step["norms"][layer] == pytest.approx(norm, rel=1e-5)
    assert step["applied_norms"] == step["norms"] and not step["skipped"] | step["clipped"]
    assert len(steps.logs) == 4 and all(s[LOG_KEY].shape == (2 * 4 + 5,) for s in steps.logs)


def test_training_is_unchanged_and_compile_settings_kept(data):
    x, y = data
    plain, instrumented = _model(), labkit.instrument(_model())
    h_plain = plain.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    h_inst = instrumented.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), instrumented.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert h_inst.history["mae"] == pytest.approx(h_plain.history["mae"], rel=1e-6)
    assert isinstance(instrumented.optimizer, keras.optimizers.SGD)
    assert len(h_inst.history[LOG_KEY]) == 2


def test_instrument_before_compile_and_uninstrument(data):
    x, y = data
    model = labkit.instrument(_model(compile_first=False))
    model.compile(optimizer="adam", loss="mse")
    assert LOG_KEY in model.fit(x, y, epochs=1, verbose=0).history
    labkit.uninstrument(model)
    assert not labkit.instrumentation.is_instrumented(model)
    assert list(model.fit(x, y, epochs=1, verbose=0).history) == ["loss"]


def test_recompiling_moves_the_interception_and_uninstrument_leaves_nothing_behind(data):
    x, y = data
    model = labkit.instrument(_model())
    first = model.optimizer
    model.fit(x, y, epochs=1, verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history[LOG_KEY][0]))
    assert not {"apply", "stateless_apply"} & set(vars(first))  # the old optimizer is plain again
    labkit.uninstrument(model)
    for plain in (model, first, model.optimizer):
        assert not {"train_step", "apply", "stateless_apply"} & set(vars(plain))


def test_nonfinite_gradients_are_flagged(data):
    x, y = data
    keras.utils.set_random_seed(0)
    model = build_mlp(
        8, depth=3, width=16, kernel_initializer=keras.initializers.RandomNormal(0, 40)
    )
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    labkit.instrument(model)
    steps = _StepLogs()
    model.fit(x * 100, y, batch_size=64, epochs=2, verbose=0, callbacks=[steps])
    layers = list(layer_of_variables(model))
    assert any(decode(layers, s)[0]["nonfinite"] for s in steps.logs)


class _Snapshots(keras.callbacks.Callback):
    """Weights before and after the first update, by hand."""

    def on_train_batch_begin(self, batch, logs=None):
        if not hasattr(self, "before"):
            self.before = [w.copy() for w in self.model.get_weights()]

    def on_train_batch_end(self, batch, logs=None):
        if not hasattr(self, "after"):
            self.after = [w.copy() for w in self.model.get_weights()]


def _hand_update_ratios(model, snaps: _Snapshots) -> dict[str, float]:
    """Per layer, log10(std(after - before) / std(after)) of the first update, by hand."""
    ratios, offset = {}, 0
    for layer in [layer for layer in model.layers if layer.trainable_weights]:
        n = len(layer.trainable_weights)
        before = np.concatenate([w.ravel() for w in snaps.before[offset : offset + n]])
        after = np.concatenate([w.ravel() for w in snaps.after[offset : offset + n]])
        offset += n
        ratios[layer.name] = np.log10(np.std(after - before) / np.std(after))
    return ratios


def test_update_ratio_equals_hand_computation(data, tmp_path):
    x, y = data
    model = _model()
    monitor = GradientMonitor(probe=(x[:64], y[:64]), verbose=0)
    snaps = _Snapshots()
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[monitor, snaps])
    record = next(r for r in monitor.history if r["step"] == 1)
    assert "update_ratio" not in monitor.history[0]  # step 0: no update yet
    for layer, expected in _hand_update_ratios(model, snaps).items():
        assert record["update_ratio"][layer] == pytest.approx(expected, abs=1e-6)
    assert all(r["step"] > 0 for r in monitor.history if "update_ratio" in r)
    fig = plots.update_ratios(monitor)
    fig.savefig(tmp_path / "ratios.png")
    assert fig.axes[0].get_ylabel().startswith("log10")


def test_learning_rate_findings_from_update_ratios(data):
    x, y = data
    keras.utils.set_random_seed(3)
    model = build_mlp(8, depth=3, width=16)
    model.compile(optimizer=keras.optimizers.SGD(1.5), loss="mse")
    monitor = GradientMonitor(probe=(x[:64], y[:64]), verbose=0)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[monitor])
    high = [f for f in monitor.findings if f.kind == "learning_rate"]
    assert high and "too high" in high[0].message

    keras.utils.set_random_seed(3)
    slow = build_mlp(8, depth=3, width=16)
    slow.compile(optimizer=keras.optimizers.SGD(1e-7), loss="mse")
    monitor = GradientMonitor(probe=(x[:64], y[:64]), verbose=0)
    slow.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[monitor])
    low = [f for f in monitor.findings if f.kind == "learning_rate"]
    assert low and "too low" in low[0].message


def test_gradient_monitor_on_an_instrumented_model_needs_no_probe(data):
    x, y = data
    model = labkit.instrument(_model())
    monitor = GradientMonitor(every=1, verbose=0)
    steps = _StepLogs()
    history = model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[monitor, steps])
    assert [r["step"] for r in monitor.history] == list(range(1, 9))
    for record, logs in zip(monitor.history, steps.logs):
        assert record["norms"]["hidden_1"] == pytest.approx(float(logs[LOG_KEY][0]))
    assert "grad_norm/hidden_1" in history.history and "update_ratio/hidden_1" in history.history
    with pytest.raises(ValueError, match="labkit.instrument"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[GradientMonitor()])


def test_instrumented_update_ratios_equal_hand_computation_across_blocks(data):
    """Records are taken from blocks of rows, later than their steps ran; the update ratios
    still compare the weights just before and just after their own step."""
    x, y = data
    model = labkit.instrument(_model())
    monitor = GradientMonitor(every=1, verbose=0)
    snaps = _Snapshots()
    model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[monitor, snaps])
    assert [r["step"] for r in monitor.history] == list(range(1, 161))  # 160 steps > one block
    with_ratio = [r["step"] for r in monitor.history if "update_ratio" in r]
    assert with_ratio == [1, 2, 4, 8, 16, 32, 64, 128]
    ratio = monitor.history[0]["update_ratio"]
    for layer, expected in _hand_update_ratios(model, snaps).items():
        assert ratio[layer] == pytest.approx(expected, abs=1e-6)


def _row(layers: list[str], value: float) -> dict:
    """The logs of one instrumented step whose every norm is ``value``."""
    n = len(layers)
    return {LOG_KEY: np.array([value] * (2 * n) + [0, 0, 0, 1, 0], dtype="float32")}


def test_rows_arriving_out_of_order_are_recorded_in_step_order(data):
    """Keras may run batch-end hooks on worker threads, so a step's row can arrive after a
    later step's: records still come in step order, and none is taken past a missing row."""
    model = labkit.instrument(_model())
    layers = list(layer_of_variables(model))
    # on_explode="stop" takes the rows at every step's start (else: every 64 steps)
    monitor = GradientMonitor(every=1, on_explode="stop", verbose=0)
    monitor.set_model(model)
    monitor.set_params({"epochs": 1, "steps": 4, "verbose": 0})
    monitor.on_train_begin()
    monitor.on_epoch_begin(0)
    for batch in range(3):
        monitor.on_train_batch_begin(batch)
    monitor.on_train_batch_end(2, _row(layers, 3.0))  # steps 1 and 3 arrive, step 2 not yet
    monitor.on_train_batch_end(0, _row(layers, 1.0))
    monitor.on_train_batch_begin(3)
    assert [r["step"] for r in monitor.history] == [1]
    monitor.on_train_batch_end(1, _row(layers, 2.0))
    monitor.on_train_batch_end(3, _row(layers, 4.0))
    monitor.on_epoch_end(0, {})
    assert [r["step"] for r in monitor.history] == [1, 2, 3, 4]
    assert [r["norms"]["hidden_1"] for r in monitor.history] == [1.0, 2.0, 3.0, 4.0]


def test_fit_does_not_wait_for_each_step_unless_an_explosion_must_stop_it():
    """Where the backend allows it (JAX, PyTorch), Keras dispatches the batch-end hooks of an
    instrumented monitor to worker threads: fit goes on to the next step without waiting."""
    model = labkit.instrument(_model())
    # Keras 3.8.0-3.15.1: CallbackList decides once, from every callback's hooks and async_safe
    threads = keras.callbacks.CallbackList([GradientMonitor(every=1)], model=model)._async_train
    assert threads == (keras.backend.backend() != "tensorflow")  # TF: IS_THREAD_SAFE is False
    waits = keras.callbacks.CallbackList([GradientMonitor(on_explode="raise")], model=model)
    assert not waits._async_train
