"""ActivationMonitor, gradient histograms and TensorBoardHistograms in real, small training runs."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from labkit import plots
from labkit.activations import activation_stats
from labkit.callbacks import ActivationMonitor, GradientMonitor, TensorBoardHistograms
from labkit.models import build_mlp

pytestmark = pytest.mark.backends

N, FEATURES, BATCH, PROBE = 512, 10, 32, 128
STEPS_PER_EPOCH = N // BATCH


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("float32")[:, None]
    return x, y


def _fit(model, callbacks, epochs=2):
    x, y = _data()
    model.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks)


@pytest.fixture(scope="module")
def sigmoid_run(tmp_path_factory):
    """A deep sigmoid net with large initial weights (saturated), every histogram written."""
    keras.utils.set_random_seed(0)
    x, y = _data()
    init = keras.initializers.RandomNormal(stddev=4.0, seed=0)
    model = build_mlp(FEATURES, depth=6, width=16, activation="sigmoid", kernel_initializer=init)
    acts = ActivationMonitor(probe=x[:PROBE], verbose=0)
    grads = GradientMonitor(probe=(x[:PROBE], y[:PROBE]), verbose=0)
    log_dir = tmp_path_factory.mktemp("tensorboard")
    history = _fit(model, [acts, grads, TensorBoardHistograms([acts, grads], log_dir=log_dir)])
    return model, acts, grads, history, log_dir


@pytest.fixture(scope="module")
def dead_run():
    """ReLU layers whose biases of -1000 kill every unit of hidden_2 and half of hidden_3."""
    keras.utils.set_random_seed(0)
    x, _ = _data()
    model = build_mlp(FEATURES, depth=3, width=16)
    model.get_layer("hidden_2").bias.assign(np.full(16, -1000.0, "float32"))
    model.get_layer("hidden_3").bias.assign(np.repeat([-1000.0, 0.1], 8).astype("float32"))
    acts = ActivationMonitor(probe=x[:PROBE], verbose=0)
    history = _fit(model, [acts], epochs=1)
    return model, acts, history


def test_deep_sigmoid_net_shows_saturation(sigmoid_run):
    model, acts, _, _, _ = sigmoid_run
    first = acts.snapshot(0)
    assert list(first) == [f"hidden_{i}" for i in range(1, 7)]
    assert all(stats["saturated"] > 0.5 for stats in first.values())
    assert {f.kind for f in acts.findings} == {"saturation"}
    direct = activation_stats(model, acts.x)  # the eager path agrees with the compiled one
    for layer, stats in acts.at(-1).items():
        assert stats["activation"] == "sigmoid"
        assert stats["saturated"] == pytest.approx(direct[layer]["saturated_fraction"])
        assert stats["mean"] == pytest.approx(direct[layer]["mean"], abs=1e-6)
        assert stats["std"] == pytest.approx(direct[layer]["std"], rel=1e-5)
        assert stats["zero"] == 0.0


def test_dead_relu_net_shows_zeros(dead_run):
    _, acts, _ = dead_run
    zero = acts.at(-1, key="zero")
    assert zero["hidden_2"] == 1.0
    assert zero["hidden_3"] == pytest.approx(0.5, abs=0.01)  # 8 dead units, the others fire
    assert zero["hidden_1"] < 0.75
    assert acts.values("hidden_2", key="zero").tolist() == [1.0] * len(acts.steps())
    counts, _ = acts.at(-1, key="hist")["hidden_2"]
    assert max(counts) == sum(counts) == PROBE * 16  # all in the one bin holding 0


def test_histograms_count_every_output_and_every_gradient(sigmoid_run):
    model, acts, grads, _, _ = sigmoid_run
    for step in acts.steps():
        for layer, (counts, edges) in acts.snapshot(step, key="hist").items():
            assert sum(counts) == PROBE * model.get_layer(layer).units
            assert (edges[0], edges[-1], len(edges)) == (0.0, 1.0, 41)  # sigmoid's range
    for step in grads.steps("grad_hist"):
        for layer, (counts, edges) in grads.snapshot(step, key="grad_hist").items():
            assert sum(counts) == model.get_layer(layer).count_params()
            assert np.all(np.diff(edges) > 0)


def test_records_follow_the_shared_schedule(sigmoid_run):
    _, acts, grads, _, _ = sigmoid_run
    expected = [0, 1, 2, 4, 8, 16, 32]  # log-spaced, then each epoch end (16 steps per epoch)
    assert acts.steps() == grads.steps() == grads.steps("grad_hist") == expected
    assert [r["epoch"] for r in acts.history] == [0, 0, 0, 0, 0, 0, 1]
    assert len(acts.values("hidden_1", key="saturated")) == len(expected)


def test_epoch_logs_hold_the_scalars(sigmoid_run, dead_run):
    _, acts, _, history, _ = sigmoid_run
    last = acts.at(-1)["hidden_3"]
    assert history.history["act_mean/hidden_3"][-1] == last["mean"]
    assert history.history["act_std/hidden_3"][-1] == last["std"]
    assert history.history["act_saturated/hidden_3"][-1] == last["saturated"]
    assert "act_zero/hidden_3" not in history.history  # sigmoid: saturation is what matters
    _, _, relu_history = dead_run
    assert relu_history.history["act_zero/hidden_2"] == [1.0]
    assert "act_saturated/hidden_2" not in relu_history.history


def test_tensorboard_reads_the_histograms_back(sigmoid_run):
    from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
    from tensorboard.util import tensor_util

    _, acts, grads, _, log_dir = sigmoid_run
    run = str(log_dir / "train")
    reader = event_accumulator.EventAccumulator(run, size_guidance={"tensors": 0})
    reader.Reload()
    tags = {f"activations/{layer}" for layer in acts.layers()}
    tags |= {f"gradients/{layer}" for layer in grads.layers("grad_hist")}
    assert set(reader.Tags()["tensors"]) == tags
    for tag in tags:
        assert reader.SummaryMetadata(tag).plugin_data.plugin_name == "histograms"
    events = reader.Tensors("activations/hidden_2")
    assert [e.step for e in events] == acts.steps()
    buckets = tensor_util.make_ndarray(events[-1].tensor_proto)  # rows: left, right, count
    counts, edges = acts.at(-1, key="hist")["hidden_2"]
    np.testing.assert_array_equal(buckets[:, 2], counts)
    np.testing.assert_array_equal(buckets[:, 0], edges[:-1])
    np.testing.assert_array_equal(buckets[:, 1], edges[1:])
    dashboard = plugin_event_accumulator.EventAccumulator(run)  # what the dashboard lists
    dashboard.Reload()
    assert set(dashboard.PluginTagToContent("histograms")) == tags


def test_plots_read_the_monitor(sigmoid_run, dead_run, tmp_path):
    _, acts, grads, _, _ = sigmoid_run
    json.dumps(grads.history)  # histogram records stay JSON-friendly, as recorded runs need
    fig = plots.activation_histograms(acts, step=0)
    (ax,) = fig.axes
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert len(ax.lines) == 6 and labels[0].startswith("hidden_1 (sigmoid): mean ")
    assert "saturated" in labels[-1]
    fig.savefig(tmp_path / "hist.png")
    restored = ActivationMonitor.from_history(json.loads(json.dumps(acts.history)))
    fig = plots.activation_heatmap(restored, "hidden_6")
    assert len(fig.axes[0].collections) == len(acts.steps())  # one column per record
    assert "training step" in fig.axes[0].get_xlabel()
    fig.savefig(tmp_path / "heatmap.png")
    _, relu_acts, _ = dead_run
    fig = plots.activation_histograms(relu_acts, step=relu_acts.steps()[-1])
    assert "exact zeros" in fig.axes[0].get_legend().get_title().get_text()


def test_bad_arguments_say_what_to_pass(sigmoid_run):
    x, y = _data()
    with pytest.raises(ValueError, match="only inputs"):
        ActivationMonitor(probe=(x, y))
    with pytest.raises(ValueError, match="bins"):
        ActivationMonitor(probe=x, bins=0)
    with pytest.raises(ValueError, match="records no histograms"):
        TensorBoardHistograms(["not a monitor"], log_dir="logs")
    with pytest.raises(ValueError, match="probe"):
        TensorBoardHistograms([GradientMonitor()], log_dir="logs")
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(1)])
    with pytest.warns(UserWarning, match="no layer with a non-linear activation"):
        _fit(model, [ActivationMonitor(probe=x[:8])], epochs=1)
