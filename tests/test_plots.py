"""labkit.plots: every figure renders to PNG with its titles, axis labels and legend.

Copies go to ``/tmp/plots`` so a maintainer can look at them after a test run.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from labkit import plots
from labkit.callbacks import DeadReLUMonitor, GradientMonitor
from labkit.models import build_mlp

LOOK_DIR = Path("/tmp/plots")


def _save(fig: Figure, tmp_path: Path, name: str) -> Path:
    """Render to PNG (in tmp_path, plus a copy to look at) and check a real image came out."""
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=80)
    LOOK_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(LOOK_DIR / f"{name}.png", dpi=80)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
    return path


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, f"axes {ax.get_title()!r} has no legend"
    return [t.get_text() for t in legend.get_texts()]


@pytest.fixture(scope="module")
def runs():
    """Sigmoid (vanishing) and ReLU runs with gradient monitors; a half-dead ReLU run."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 10)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")[:, None]
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    monitors = {}
    histories = {}
    for activation in ("sigmoid", "relu"):
        keras.utils.set_random_seed(0)
        model = build_mlp(10, depth=6, width=16, activation=activation)
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
        monitors[activation] = GradientMonitor(probe=(x[:256], y[:256]), verbose=0)
        histories[activation] = model.fit(
            x,
            y,
            epochs=4,
            batch_size=32,
            validation_split=0.25,
            verbose=0,
            callbacks=[monitors[activation]],
        )
    keras.utils.set_random_seed(0)
    bias = np.zeros(16, dtype="float32")
    bias[:10] = -4.0
    dying = build_mlp(10, depth=3, width=16, bias_initializer=keras.initializers.Constant(bias))
    dying.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
    dead = DeadReLUMonitor(probe=x[:256], verbose=0)
    dying_grads = GradientMonitor(probe=(x[:256], y[:256]), verbose=0)
    dying.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[dead, dying_grads])
    keras.utils.set_random_seed(0)
    all_dead = build_mlp(10, depth=3, width=16, bias_initializer=keras.initializers.Constant(-5.0))
    all_dead.compile(optimizer="sgd", loss=loss)
    zero_grads = GradientMonitor(probe=(x[:256], y[:256]), verbose=0)
    all_dead.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[zero_grads])
    return monitors, histories, dead, zero_grads


def test_gradient_norms(runs, tmp_path):
    monitors, *_ = runs
    fig = plots.gradient_norms(monitors["sigmoid"])
    ax = fig.axes[0]
    _save(fig, tmp_path, "gradient_norms")
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "training step (linear from 0 to 1, logarithmic beyond)"
    assert "gradient L2 norm" in ax.get_ylabel()
    assert ax.get_title() == "Gradient norm per layer during training"
    assert ax.get_xscale() == "symlog" and ax.get_xlim()[0] > -1
    assert "−" not in "".join(t.get_text() for t in ax.get_xticklabels())
    assert _legend_texts(ax) == monitors["sigmoid"].layers()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), monitors["sigmoid"].values("hidden_1"))


def test_monitor_plot_methods_return_figures(runs, tmp_path):
    monitors, _, dead, _ = runs
    assert isinstance(monitors["relu"].plot(), Figure)
    assert isinstance(dead.plot(), Figure)


def test_zero_norms_stay_visible_on_the_log_axis(runs, tmp_path):
    """A dead layer's norm is exactly 0: it is drawn on a labelled floor, not dropped."""
    *_, zero_grads = runs
    assert zero_grads.values("hidden_1").max() == 0.0
    for name, fig in (
        ("gradient_norms_with_zeros", plots.gradient_norms(zero_grads, title="All ReLUs dead")),
        ("gradient_profile_with_zeros", plots.gradient_profile(zero_grads)),
    ):
        _save(fig, tmp_path, name)
        ax = fig.axes[0]
        floor_marks = [c.get_offsets() for c in ax.collections]
        assert floor_marks, "zeros were not drawn"
        floor = floor_marks[0][0, 1]
        assert 0 < floor < zero_grads.values("output").min()
        assert "exactly 0 (no gradient)" in [t.get_text() for t in ax.texts]
    assert fig.axes[0].get_title() == "Gradient profile across layers"


def test_non_finite_norms_are_marked_on_top(tmp_path):
    monitor = GradientMonitor()
    monitor.history = [
        {"step": s, "epoch": 0, "norms": {"hidden_1": v, "output": 1.0}}
        for s, v in ((0, 1.0), (1, 1e4), (2, float("inf")), (4, float("nan")))
    ]
    fig = plots.gradient_norms(monitor)
    _save(fig, tmp_path, "gradient_norms_non_finite")
    ax = fig.axes[0]
    marks = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(marks, [[2, 1e5], [4, 1e5]])
    assert "inf / NaN (exploded)" in [t.get_text() for t in ax.texts]


def test_gradient_profile_single_and_compared(runs, tmp_path):
    monitors, *_ = runs
    fig = plots.gradient_profile(monitors["sigmoid"])
    ax = fig.axes[0]
    _save(fig, tmp_path, "gradient_profile")
    first, last = monitors["sigmoid"].steps()[0], monitors["sigmoid"].steps()[-1]
    assert _legend_texts(ax) == [f"step {first}", f"step {last}"]
    assert [t.get_text() for t in ax.get_xticklabels()] == monitors["sigmoid"].layers()
    first_line, last_line = ax.get_lines()
    np.testing.assert_allclose(first_line.get_ydata(), list(monitors["sigmoid"].at(0).values()))
    np.testing.assert_allclose(last_line.get_ydata(), list(monitors["sigmoid"].at(-1).values()))
    assert ax.get_xlabel() == "layer (input side → output side)"
    assert ax.get_yscale() == "log"

    fig = plots.gradient_profile(
        {"sigmoid": monitors["sigmoid"], "ReLU + He": monitors["relu"]}, steps=[0, 10_000]
    )
    ax = fig.axes[0]
    _save(fig, tmp_path, "gradient_profile_compare")
    assert _legend_texts(ax) == [
        "sigmoid, step 0",
        f"sigmoid, step {last}",
        "ReLU + He, step 0",
        f"ReLU + He, step {monitors['relu'].steps()[-1]}",
    ]
    assert ax.get_title() == "Gradient profile across layers"


def test_dead_relu_heatmap(runs, tmp_path):
    _, _, dead, _ = runs
    fig = plots.dead_relu_heatmap(dead)
    _save(fig, tmp_path, "dead_relu_heatmap")
    ax, colorbar = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["hidden_1", "hidden_2", "hidden_3"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(s) for s in dead.steps()]
    assert "not to scale" in ax.get_xlabel() and ax.get_ylabel() == "ReLU layer"
    assert colorbar.get_ylabel() == "dead fraction"
    grid = ax.get_images()[0].get_array()
    np.testing.assert_allclose(grid[0], dead.values("hidden_1"))


def test_training_curves(runs, tmp_path):
    _, histories, *_ = runs
    fig = plots.training_curves(histories["relu"], title="ReLU network")
    _save(fig, tmp_path, "training_curves")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        assert _legend_texts(ax) == ["train", "validation"]
        assert len(ax.get_lines()[0].get_xdata()) == 4
        assert all(float(t).is_integer() for t in ax.get_xticks())
    assert fig.get_suptitle() == "ReLU network"
    with pytest.raises(ValueError, match="history is empty"):
        plots.training_curves({})


def test_dropout_sweep(tmp_path):
    rates = [0.0, 0.2, 0.5, 0.8, 1.0]
    results = [
        {
            "rate": r,
            "loss": 0.05 + 0.6 * r**2,
            "val_loss": 0.6 - 0.4 * r + 0.5 * r**2,
            "accuracy": 1.0 - 0.5 * r**2,
            "val_accuracy": 0.8 + 0.1 * r - 0.4 * r**2,
        }
        for r in rates
    ]
    fig = plots.dropout_sweep(results)
    _save(fig, tmp_path, "dropout_sweep")
    assert [ax.get_xlabel() for ax in fig.axes] == ["dropout rate", "dropout rate"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["final loss", "final accuracy"]
    assert all(_legend_texts(ax) == ["train", "validation"] for ax in fig.axes)
    assert "Dropout sweep" in fig.get_suptitle()


def test_confusion_matrix(tmp_path):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, size=300)
    y_pred = np.where(rng.random(300) < 0.8, y_true, rng.integers(0, 10, size=300))
    fig = plots.confusion_matrix(y_true, y_pred)
    _save(fig, tmp_path, "confusion_matrix")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title() == f"Confusion matrix (accuracy {np.mean(y_true == y_pred):.1%})"
    counts = ax.get_images()[0].get_array()
    assert counts.sum() == 300 and counts[3, 3] == np.sum((y_true == 3) & (y_pred == 3))
    with pytest.raises(ValueError, match="y_true has 3 labels but y_pred has 2"):
        plots.confusion_matrix([0, 1, 2], [0, 1])


def test_update_ratios(runs, tmp_path):
    monitors, _, dead, _ = runs
    relu = monitors["relu"]
    fig = plots.update_ratios(relu)
    _save(fig, tmp_path, "update_ratios")
    ax = fig.axes[0]
    assert _legend_texts(ax) == relu.layers("update_ratio") == relu.layers()
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), relu.steps("update_ratio"))
    np.testing.assert_allclose(line.get_ydata(), relu.values("hidden_1", key="update_ratio"))
    assert relu.steps("update_ratio")[0] > 0  # step 0 has no update to measure
    with pytest.raises(ValueError, match="no 'update_ratio' records to plot"):
        plots.update_ratios(dead)


def test_empty_monitor_is_rejected():
    monitor = GradientMonitor(probe=(np.ones((2, 3)), np.ones((2, 1))))
    with pytest.raises(ValueError, match="used in model.fit"):
        plots.gradient_norms(monitor)


def test_something_else_than_a_monitor_is_rejected(runs):
    monitors, *_ = runs
    with pytest.raises(TypeError, match="expected a monitor from labkit.callbacks, got list"):
        plots.gradient_norms(monitors["relu"].history)
    with pytest.raises(TypeError, match="got dict; pass e.g. GradientMonitor"):
        plots.dead_relu_heatmap(monitors)


def test_training_curves_and_dropout_sweep_draw_the_trivial_baselines():
    history = {
        "loss": [1.0, 0.5],
        "val_loss": [1.1, 0.7],
        "accuracy": [0.5, 0.8],
        "val_accuracy": [0.4, 0.7],
    }
    fig = plots.training_curves(history, baselines={"loss": 1.0986, "accuracy": 1 / 3})
    for ax, level in zip(fig.axes, (1.0986, 1 / 3)):
        lines = [line for line in ax.get_lines() if line.get_label() == "trivial baseline"]
        assert len(lines) == 1 and lines[0].get_ydata()[0] == pytest.approx(level)
    sweep = [
        {"rate": r, "loss": 0.1, "val_loss": 0.3, "accuracy": 0.9, "val_accuracy": 0.8}
        for r in (0.0, 0.5)
    ]
    fig = plots.dropout_sweep(sweep, baselines={"accuracy": 0.1})
    labels = [[line.get_label() for line in ax.get_lines()] for ax in fig.axes]
    assert "trivial baseline" not in labels[0] and "trivial baseline" in labels[1]
