"""Matplotlib figures for the course. Each function returns a ``Figure`` (shown when it is the
last expression of a notebook cell; save it with ``fig.savefig("name.png")``).

Functions take a monitor (anything with ``.history`` records, see :mod:`labkit.callbacks`) or a
Keras ``History``; nothing here imports TensorFlow or changes global pyplot state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = [
    "confusion_matrix",
    "dead_relu_heatmap",
    "dropout_sweep",
    "gradient_norms",
    "gradient_profile",
    "training_curves",
    "update_ratios",
]


def _records(monitor, key: str) -> list[dict]:
    history = getattr(monitor, "history", monitor)
    records = [r for r in history if key in r]
    if not records:
        raise ValueError(
            f"no {key!r} records to plot: pass a monitor that was used in model.fit(...)"
        )
    return records


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
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("training step")


def gradient_norms(monitor, title: str | None = None) -> Figure:
    """Gradient norm of every layer over training steps, log scale, coloured input→output.

    Example
    -------
    >>> fig = gradient_norms(monitor)  # doctest: +SKIP
    """
    records = _records(monitor, "norms")
    layers = list(records[0]["norms"])
    steps = [r["step"] for r in records]
    grid = np.array([[r["norms"].get(layer, np.nan) for r in records] for layer in layers])
    bounds = _log_bounds(grid)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
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
    ax.set_title(title or "Gradient norm per layer during training")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        title="layer (input → output)", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    return fig


def gradient_profile(
    monitors, steps: Sequence[int] | None = None, title: str | None = None
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
        records = _records(monitor, "norms")
        available = [r["step"] for r in records]
        wanted = steps if steps is not None else sorted({available[0], available[-1]})
        picked = [min(records, key=lambda r, s=s: abs(r["step"] - s)) for s in wanted]
        chosen.append((label, picked))
    bounds = _log_bounds([v for _, picked in chosen for r in picked for v in r["norms"].values()])
    zero = bad = False
    for m_index, (label, picked) in enumerate(chosen):
        for s_index, record in enumerate(picked):
            layers = list(record["norms"])
            name = f"{label}, step {record['step']}" if label else f"step {record['step']}"
            z, b = _log_line(
                ax,
                range(1, len(layers) + 1),
                list(record["norms"].values()),
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


def dead_relu_heatmap(monitor, title: str | None = None) -> Figure:
    """Dead fraction of each ReLU layer (rows) at each record (columns), 0 = none dead.

    Example
    -------
    >>> fig = dead_relu_heatmap(dead_monitor)  # doctest: +SKIP
    """
    records = _records(monitor, "dead_fraction")
    layers = list(records[0]["dead_fraction"])
    grid = np.array([[r["dead_fraction"].get(layer, np.nan) for r in records] for layer in layers])
    fig = Figure(
        figsize=(max(5, 0.45 * len(records) + 2.5), 0.5 * len(layers) + 2), layout="constrained"
    )
    ax = fig.add_subplot()
    image = ax.imshow(grid, vmin=0, vmax=1, cmap="magma_r", aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(layers)), layers)
    ax.set_xticks(range(len(records)), [str(r["step"]) for r in records], rotation=90)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value) and len(records) <= 16:
            ax.text(
                j,
                i,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > 0.5 else "black",
            )
    ax.set_xlabel("training step")
    ax.set_ylabel("ReLU layer")
    ax.set_title(title or "Fraction of dead ReLU units")
    fig.colorbar(image, ax=ax, label="dead fraction")
    return fig


def training_curves(
    history, metrics: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Training and validation curves, one panel per metric (``loss`` first).

    Parameters
    ----------
    history : keras.callbacks.History or dict
        What ``model.fit`` returned, or its ``.history`` dict.
    metrics : list of str, optional
        Metrics to draw; default: ``loss`` and every other metric that has a ``val_`` twin.

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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def dropout_sweep(results: Sequence[Mapping], title: str | None = None) -> Figure:
    """Final train vs validation loss and accuracy per dropout rate.

    Parameters
    ----------
    results : list of dict
        One dict per rate with keys ``rate``, ``loss``, ``val_loss``, ``accuracy``,
        ``val_accuracy``.

    Example
    -------
    >>> fig = dropout_sweep([{"rate": 0.0, "loss": 0.01, "val_loss": 0.4, "accuracy": 1.0,
    ...                      "val_accuracy": 0.9}])
    """
    rates = [r["rate"] for r in results]
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        ax.plot(rates, [r[metric] for r in results], marker="o", label="train")
        ax.plot(rates, [r[f"val_{metric}"] for r in results], marker="s", label="validation")
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


def update_ratios(monitor, title: str | None = None, healthy: float = -3.0) -> Figure:
    """log10 update-to-weight ratio of every layer over training, with the healthy level marked.

    A well-tuned learning rate changes each layer's weights by about a thousandth of their
    spread per step (−3 on this scale); lines far above it mean the learning rate is too high,
    far below it too low (or a vanishing gradient).

    Example
    -------
    >>> fig = update_ratios(grad_monitor)  # doctest: +SKIP
    """
    records = _records(monitor, "update_ratio")
    layers = list(records[0]["update_ratio"])
    steps = [r["step"] for r in records]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for layer, colour in zip(layers, _depth_colours(len(layers))):
        values = np.array([r["update_ratio"].get(layer, np.nan) for r in records], dtype=float)
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
    ax.set_title(title or "Update-to-weight ratio per layer")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        title="layer (input → output)", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1)
    )
    return fig
