"""Matplotlib figures for the course. Each function returns a ``Figure`` (shown when it is the
last expression of a notebook cell; save it with ``fig.savefig("name.png")``).

Functions take a monitor from :mod:`labkit.callbacks`, read through the same accessors users
call (``steps``, ``layers``, ``values``, ``snapshot``), or a Keras ``History``; nothing here
imports TensorFlow or changes global pyplot state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

if TYPE_CHECKING:  # only for type hints: importing the callbacks would import Keras
    from labkit.callbacks.probe_monitor import ProbeMonitor

__all__ = [
    "confusion_matrix",
    "dead_relu_heatmap",
    "dropout_sweep",
    "gradient_norms",
    "gradient_profile",
    "recorded_run",
    "training_curves",
    "update_ratios",
]


def _steps(monitor: ProbeMonitor, key: str) -> list[int]:
    """The monitor's steps that hold ``key``, or an error saying which monitor to pass."""
    if not callable(getattr(monitor, "steps", None)):
        raise TypeError(
            f"expected a monitor from labkit.callbacks, got {type(monitor).__name__}; pass e.g. "
            "GradientMonitor(probe=(x_train[:256], y_train[:256])) after model.fit(...)"
        )
    steps = monitor.steps(key)
    if not steps:
        raise ValueError(
            f"no {key!r} records to plot: pass a monitor that was used in model.fit(...)"
        )
    return steps


def _baseline(ax, value: float | None, label: str = "trivial baseline") -> None:
    """A dashed grey line at a trivial baseline (chance accuracy, predict-the-mean loss)."""
    if value is not None:
        ax.axhline(value, color="grey", linestyle="--", linewidth=1, label=label)


def _depth_colours(n: int) -> list:
    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def _log_bounds(values) -> tuple[float, float]:
    """Where exact zeros (below) and non-finite values (above) are drawn on a log axis."""
    values = np.asarray(values, dtype=float).ravel()
    shown = values[np.isfinite(values) & (values > 0)]
    low, high = (shown.min(), shown.max()) if shown.size else (1e-3, 1.0)
    return low / 10, high * 10


def _log_line(ax, x, values, bounds: tuple[float, float], **style) -> tuple[bool, bool]:
    """Plot positive values as a line; exact zeros as ``x`` on the floor, inf/NaN as ``^`` on top.

    A log axis cannot show 0 or infinity, and silently dropping them would hide a dead layer or
    an explosion. Returns whether any zero / any non-finite value was drawn.
    """
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    ax.plot(x, np.where(np.isfinite(values) & (values > 0), values, np.nan), **style)
    zero, bad = values == 0, ~np.isfinite(values)
    colour = style.get("color")
    for mask, level, marker in ((zero, bounds[0], "x"), (bad, bounds[1], "^")):
        if mask.any():
            ax.scatter(x[mask], np.full(mask.sum(), level), marker=marker, color=colour, zorder=3)
    return bool(zero.any()), bool(bad.any())


def _mark_bounds(ax, bounds: tuple[float, float], zero: bool, bad: bool) -> None:
    """Label the floor / ceiling lines that stand for exact zeros and non-finite values."""
    for show, level, text, va in (
        (zero, bounds[0], "exactly 0 (no gradient)", "bottom"),
        (bad, bounds[1], "inf / NaN (exploded)", "top"),
    ):
        if show:
            ax.axhline(level, color="grey", linestyle=":", linewidth=1)
            ax.text(
                0.01,
                level,
                text,
                transform=ax.get_yaxis_transform(),
                va=va,
                ha="left",
                fontsize="small",
                color="grey",
            )


def _step_axis(ax, steps: Sequence[int]) -> None:
    """Training steps on x: linear up to 1 and logarithmic beyond, so log-spaced records spread
    out evenly; plain integers for short runs."""
    if max(steps) > 8:
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(-0.3, max(steps) * 1.3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("training step (linear from 0 to 1, logarithmic beyond)")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("training step")


def _draw_norms(ax, monitor: ProbeMonitor) -> None:
    """Each layer's gradient norm over the steps on a log axis, zeros and inf/NaN marked."""
    steps = _steps(monitor, "norms")
    layers = monitor.layers("norms")
    grid = np.array([monitor.values(layer, "norms") for layer in layers])
    bounds = _log_bounds(grid)
    ax.set_yscale("log")
    zero = bad = False
    for values, layer, colour in zip(grid, layers, _depth_colours(len(layers))):
        z, b = _log_line(
            ax, steps, values, bounds, marker="o", markersize=3, color=colour, label=layer
        )
        zero, bad = zero or z, bad or b
    _mark_bounds(ax, bounds, zero, bad)
    _step_axis(ax, steps)
    ax.set_ylabel("gradient L2 norm (log scale)")


def _draw_update_ratios(ax, monitor: ProbeMonitor, healthy: float = -3.0) -> None:
    """Each layer's log10 update-to-weight ratio over the steps, the healthy band shaded."""
    steps = _steps(monitor, "update_ratio")
    layers = monitor.layers("update_ratio")
    for layer, colour in zip(layers, _depth_colours(len(layers))):
        values = monitor.values(layer, "update_ratio")
        ax.plot(
            steps,
            np.where(np.isfinite(values), values, np.nan),
            marker="o",
            markersize=3,
            color=colour,
            label=layer,
        )
    ax.axhline(healthy, color="black", linestyle="--", linewidth=1)
    ax.axhspan(healthy - 1, healthy + 1, color="tab:green", alpha=0.08)
    ax.annotate(
        f"healthy ≈ {healthy:g}",
        (0.01, healthy),
        xycoords=("axes fraction", "data"),
        xytext=(0, 4),
        textcoords="offset points",
        fontsize="small",
    )
    _step_axis(ax, steps)
    ax.set_ylabel("log10( std(Δw) / std(w) )")


def gradient_norms(monitor: ProbeMonitor, title: str | None = None) -> Figure:
    """Gradient norm of every layer over training steps, log scale, coloured input→output.

    Example
    -------
    >>> fig = gradient_norms(monitor)  # doctest: +SKIP
    """
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    _draw_norms(ax, monitor)
    ax.set_title(title or "Gradient norm per layer during training")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        title="layer (input → output)", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    return fig


def gradient_profile(
    monitors: ProbeMonitor | Mapping[str, ProbeMonitor],
    steps: Sequence[int] | None = None,
    title: str | None = None,
) -> Figure:
    """Gradient norm against layer depth at chosen steps: vanishing/exploding at a glance.

    Parameters
    ----------
    monitors : GradientMonitor or dict of {label: GradientMonitor}
        One monitor, or several to compare (e.g. ``{"sigmoid": m1, "ReLU + He": m2}``).
    steps : list of int, optional
        Steps to draw (each monitor's nearest record is used); default: first and last record.

    Example
    -------
    >>> fig = gradient_profile({"sigmoid": sigmoid_monitor, "relu": relu_monitor})  # doctest: +SKIP
    """
    if not isinstance(monitors, Mapping):
        monitors = {"": monitors}
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.set_yscale("log")
    styles = ["-", "--", ":", "-."]
    colours = colormaps["tab10"].colors
    chosen = []
    for label, monitor in monitors.items():
        available = _steps(monitor, "norms")
        wanted = steps if steps is not None else sorted({available[0], available[-1]})
        nearest = [min(available, key=lambda a, s=s: abs(a - s)) for s in wanted]
        chosen.append((label, [(step, monitor.snapshot(step, "norms")) for step in nearest]))
    bounds = _log_bounds([v for _, picked in chosen for _, norms in picked for v in norms.values()])
    zero = bad = False
    for m_index, (label, picked) in enumerate(chosen):
        for s_index, (step, norms) in enumerate(picked):
            layers = list(norms)
            name = f"{label}, step {step}" if label else f"step {step}"
            z, b = _log_line(
                ax,
                range(1, len(layers) + 1),
                list(norms.values()),
                bounds,
                marker="o",
                linestyle=styles[s_index % len(styles)],
                color=colours[m_index % len(colours)],
                label=name,
            )
            zero, bad = zero or z, bad or b
        ax.set_xticks(range(1, len(layers) + 1), layers, rotation=45, ha="right")
    _mark_bounds(ax, bounds, zero, bad)
    ax.set_xlabel("layer (input side → output side)")
    ax.set_ylabel("gradient L2 norm (log scale)")
    ax.set_title(title or "Gradient profile across layers")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def dead_relu_heatmap(monitor: ProbeMonitor, title: str | None = None) -> Figure:
    """Dead fraction of each ReLU layer (rows) at each record (columns), 0 = none dead.

    Example
    -------
    >>> fig = dead_relu_heatmap(dead_monitor)  # doctest: +SKIP
    """
    steps = _steps(monitor, "dead_fraction")
    layers = monitor.layers("dead_fraction")
    grid = np.array([monitor.values(layer, "dead_fraction") for layer in layers])
    fig = Figure(
        figsize=(max(5, 0.45 * len(steps) + 2.5), 0.5 * len(layers) + 2), layout="constrained"
    )
    ax = fig.add_subplot()
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="magma_r", aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(layers)), layers)
    ax.set_xticks(range(len(steps)), [str(step) for step in steps], rotation=90)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value) and len(steps) <= 16:
            ax.text(
                j,
                i,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > 0.5 else "black",
            )
    ax.set_xlabel("training step of each record (one column per record, not to scale)")
    ax.set_ylabel("ReLU layer")
    ax.set_title(title or "Fraction of dead ReLU units")
    fig.colorbar(image, ax=ax, label="dead fraction")
    return fig


def training_curves(
    history,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
    baselines: Mapping[str, float] | None = None,
) -> Figure:
    """Training and validation curves, one panel per metric (``loss`` first).

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``model.fit`` returned, or its ``.history`` dict.
    metrics : list of str, optional
        Metrics to draw; default: ``loss`` and every other metric that has a ``val_`` twin.
    baselines : dict, optional
        A trivial baseline per metric, drawn as a dashed line: e.g. ``{"loss": 1.10,
        "accuracy": 1 / 3}`` for predicting the class frequencies on 3 balanced classes.

    Example
    -------
    >>> history = model.fit(x, y, validation_split=0.2, epochs=20, verbose=0)  # doctest: +SKIP
    >>> fig = training_curves(history)  # doctest: +SKIP
    """
    logs = getattr(history, "history", history)
    if not logs:
        raise ValueError("the history is empty: pass what model.fit(...) returned")
    if metrics is None:
        metrics = [m for m in logs if not m.startswith("val_") and "/" not in m]
        metrics = sorted(metrics, key=lambda m: (m != "loss", m))
    fig = Figure(figsize=(5 * len(metrics), 3.6), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], label="train")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], label="validation")
        _baseline(ax, (baselines or {}).get(metric))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def dropout_sweep(
    results: Sequence[Mapping],
    title: str | None = None,
    baselines: Mapping[str, float] | None = None,
) -> Figure:
    """Final train vs validation loss and accuracy per dropout rate.

    Parameters
    ----------
    results : list of dict
        One dict per run with keys ``rate``, ``loss``, ``val_loss``, ``accuracy``,
        ``val_accuracy``. Several runs at one rate (seeds) are drawn as their mean, a shaded
        min–max band and one small dot per run.
    baselines : dict, optional
        ``{"loss": ..., "accuracy": ...}``: the trivial baselines, drawn as dashed lines.

    Example
    -------
    >>> fig = dropout_sweep([{"rate": 0.0, "loss": 0.01, "val_loss": 0.4, "accuracy": 1.0,
    ...                      "val_accuracy": 0.9}])
    """
    rates = sorted({r["rate"] for r in results})
    seeds = max(sum(r["rate"] == rate for r in results) for rate in rates)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for key, marker, label in ((metric, "o", "train"), (f"val_{metric}", "s", "validation")):
            runs = [[r[key] for r in results if r["rate"] == rate] for rate in rates]
            (line,) = ax.plot(
                rates,
                [np.mean(v) for v in runs],
                marker=marker,
                label=label if seeds == 1 else f"{label} (mean of {seeds} seeds)",
            )
            if seeds > 1:
                ax.fill_between(
                    rates,
                    [min(v) for v in runs],
                    [max(v) for v in runs],
                    color=line.get_color(),
                    alpha=0.2,
                    linewidth=0,
                )
                for rate, values in zip(rates, runs):
                    ax.plot([rate] * len(values), values, ".", ms=3, color=line.get_color())
        _baseline(ax, (baselines or {}).get(metric))
        ax.set_xlabel("dropout rate")
        ax.set_ylabel(f"final {metric}")
        ax.set_title(f"{metric} after training")
        ax.set_xticks(rates)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title or "Dropout sweep: from overfitting to learning nothing")
    return fig


def confusion_matrix(
    y_true, y_pred, labels: Sequence | None = None, title: str | None = None
) -> Figure:
    """Confusion matrix of integer class labels: rows true class, columns predicted class.

    Example
    -------
    >>> fig = confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    n = int(max(y_true.max(), y_pred.max())) + 1
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    labels = list(labels) if labels is not None else list(range(n))
    fig = Figure(figsize=(5.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        if value:
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > counts.max() / 2 else "black",
            )
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / counts.sum()
    ax.set_title(title or f"Confusion matrix (accuracy {accuracy:.1%})")
    fig.colorbar(image, ax=ax, label="examples")
    return fig


def update_ratios(monitor: ProbeMonitor, title: str | None = None, healthy: float = -3.0) -> Figure:
    """log10 update-to-weight ratio of every layer over training, with the healthy level marked.

    A well-tuned learning rate changes each layer's weights by about a thousandth of their
    spread per step (−3 on this scale); lines far above it mean the learning rate is too high,
    far below it too low (or a vanishing gradient).

    Example
    -------
    >>> fig = update_ratios(grad_monitor)  # doctest: +SKIP
    """
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    _draw_update_ratios(ax, monitor, healthy)
    ax.set_title(title or "Update-to-weight ratio per layer")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        title="layer (input → output)", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    return fig


def _draw_losses(ax, history: Mapping[str, Sequence[float]], baseline: float | None) -> None:
    """Train and validation loss per epoch beside the trivial baseline; inf/NaN marked ``^``.

    A log axis when the values span more than a factor of 20, else a linear one.
    """
    curves = {
        label: np.asarray(history.get(key, []), dtype=float)
        for key, label in (("loss", "train"), ("val_loss", "validation"))
    }
    shown = [v for values in curves.values() for v in values if np.isfinite(v) and v > 0]
    shown += [baseline] if baseline is not None else []
    log = bool(shown) and max(shown) / min(shown) > 20
    if log:
        ax.set_yscale("log")
    bounds = _log_bounds(shown) if log else (0.0, max(shown, default=1.0) * 1.15)
    bad = False
    for (label, values), colour in zip(curves.items(), ("tab:blue", "tab:orange")):
        if values.size:
            epochs = np.arange(1, values.size + 1)
            bad = (
                _log_line(
                    ax, epochs, values, bounds, marker="o", markersize=3, color=colour, label=label
                )[1]
                or bad
            )
    _baseline(ax, baseline)
    _mark_bounds(ax, bounds, False, bad)
    if not log:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale)" if log else "loss")
    ax.set_title("Loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")


def recorded_run(run) -> Figure:
    """Four panels of one recorded run: losses (with the trivial baseline), gradient norms,
    update-to-weight ratios and dead ReLU fractions, each over training.

    ``run`` is a :class:`labkit.exercises.diagnosis.RecordedRun` (``run.plot()`` calls this).

    Example
    -------
    >>> fig = recorded_run(ex.q4.recorded()["A"])  # doctest: +SKIP
    """
    fig = Figure(figsize=(11, 6.4), layout="constrained")
    (loss_ax, norm_ax), (ratio_ax, dead_ax) = fig.subplots(2, 2)
    _draw_losses(loss_ax, run.history, run.clues.get("baseline_loss"))

    _draw_norms(norm_ax, run.grads)
    norm_ax.set_title("Gradient norm per layer")
    norm_ax.legend(fontsize="x-small", title="input → output", title_fontsize="x-small")

    if run.grads.steps("update_ratio"):
        _draw_update_ratios(ratio_ax, run.grads)
    ratio_ax.set_title("Update-to-weight ratio (healthy ≈ −3, shaded ±1)")

    dead_steps = run.dead.steps()
    if dead_steps:
        dead_layers = run.dead.layers()
        for layer, colour in zip(dead_layers, _depth_colours(len(dead_layers))):
            dead_ax.plot(dead_steps, run.dead.values(layer), "o-", ms=3, color=colour, label=layer)
        _step_axis(dead_ax, dead_steps)
        dead_ax.legend(fontsize="x-small")
    else:
        dead_ax.text(
            0.5, 0.5, "no ReLU layers", ha="center", va="center", transform=dead_ax.transAxes
        )
    dead_ax.set_ylim(-0.03, 1.03)
    dead_ax.set_ylabel("dead fraction")
    dead_ax.set_title("Dead ReLU units per layer")
    for ax in (loss_ax, norm_ax, ratio_ax, dead_ax):
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"Run {run.id}: {run.description}")
    return fig


def _layer_label(layer: str, stats: Mapping) -> str:
    """``hidden_1 (tanh): mean 0.01, std 0.62, saturated 12%`` (``zero`` for non-saturating)."""
    share = (
        f"saturated {stats['saturated']:.0%}"
        if stats.get("activation") in ("sigmoid", "tanh")
        else f"zero {stats['zero']:.0%}"
    )
    kind = f" ({stats['activation']})" if stats.get("activation") else ""
    mean = round(stats["mean"], 2) + 0.0  # no "-0.00"
    return f"{layer}{kind}: mean {mean:.2f}, std {stats['std']:.2f}, {share}"


def activation_histograms(monitor: ProbeMonitor, step: int, title: str | None = None) -> Figure:
    """The distribution of every layer's outputs at one record, one curve per layer.

    As in Karpathy's makemore (part 3): a healthy deep network keeps similar, non-collapsed
    distributions layer after layer; saturated sigmoid/tanh units pile up at the ends of their
    range, dead ReLU units at 0. Each curve is the fraction of the layer's outputs in each of
    its histogram's bins; exact zeros (the ReLU family's inactive outputs) are left out of the
    curve and given in the legend, and a layer with nothing else (all dead) has no curve.

    Parameters
    ----------
    monitor : ActivationMonitor
        A monitor used in ``model.fit`` (or built with ``from_history``).
    step : int
        One of ``monitor.steps()``.

    Example
    -------
    >>> fig = activation_histograms(acts, step=acts.steps()[-1])  # doctest: +SKIP
    """
    _steps(monitor, "hist")
    record = monitor.snapshot(step)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    left_out = False
    for (layer, stats), colour in zip(record.items(), _depth_colours(len(record))):
        counts, edges = (np.asarray(a, dtype=float) for a in stats["hist"])
        total = max(counts.sum(), 1)
        zeros = round(stats["zero"] * total)
        if zeros and edges[0] <= 0 <= edges[-1]:
            counts[min(np.searchsorted(edges, 0.0, side="right") - 1, len(counts) - 1)] -= zeros
            left_out = True
        centres = (edges[:-1] + edges[1:]) / 2 if counts.any() else []
        shares = counts / total if counts.any() else []
        ax.plot(centres, shares, color=colour, label=_layer_label(layer, stats))
    ax.set_xlabel("activation value (layer output)")
    ax.set_ylabel(f"fraction of outputs per bin ({len(counts)} bins)")
    ax.set_title(title or f"Activation distribution per layer at training step {step}")
    ax.grid(True, alpha=0.3)
    note = "\n(exact zeros are not in the curves)" if left_out else ""
    ax.legend(
        title=f"layer (input → output){note}",
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    return fig


def activation_heatmap(monitor: ProbeMonitor, layer: str, title: str | None = None) -> Figure:
    """One layer's output histogram at every record, side by side: fastai's "colorful dimension".

    Each column is one record (its training step below it), each row a range of output values,
    the colour how many probe outputs fell there (log scale; empty bins are white). A healthy
    layer shows a steady, smooth band; collapse toward 0, a growing spike at 0 (dying ReLUs) or
    mass moving to the ends of a sigmoid/tanh range (saturation) show up as the band changing.

    Example
    -------
    >>> fig = activation_heatmap(acts, "hidden_1")  # doctest: +SKIP
    """
    from matplotlib.colors import LogNorm

    steps = _steps(monitor, "hist")
    hists = [monitor.snapshot(step, "hist")[layer] for step in steps]
    means = [monitor.snapshot(step, "mean")[layer] for step in steps]
    peak = max(float(np.max(counts)) for counts, _ in hists)
    norm = LogNorm(vmin=1, vmax=max(peak, 2))
    fig = Figure(figsize=(max(6, 0.3 * len(steps) + 3), 4), layout="constrained")
    ax = fig.add_subplot()
    for column, (counts, edges) in enumerate(hists):
        counts = np.ma.masked_equal(np.asarray(counts, dtype=float), 0)
        image = ax.pcolormesh(
            [column - 0.5, column + 0.5], edges, counts[:, None], cmap="viridis", norm=norm
        )
    ax.plot(range(len(steps)), means, color="tab:red", marker=".", linewidth=1, label="mean")
    ax.legend(loc="best", fontsize="small")
    shown = max(1, len(steps) // 16)
    ax.set_xticks(range(0, len(steps), shown), [str(s) for s in steps[::shown]], rotation=90)
    ax.set_xlim(-0.5, len(steps) - 0.5)
    every = getattr(monitor, "every", None)
    later = f"every {every} steps" if every else "at every epoch end"
    ax.set_xlabel(
        f"training step of each record\n(one column per record: 0, 1, 2, 4, 8, …, then {later})"
    )
    ax.set_ylabel(f"{layer} output value")
    ax.set_title(title or f"{layer}: histogram of its outputs over training")
    fig.colorbar(image, ax=ax, label="probe outputs per bin (log scale)")
    return fig


__all__ += ["activation_heatmap", "activation_histograms"]
