"""The playground's panels as one matplotlib ``Figure`` (live frames and the static summary)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from labkit.diagnose import (
    DEFAULT_UPDATE_RATIO_RANGE,
    DEFAULT_VANISHING_RATIO,
    HEALTHY_UPDATE_RATIO,
)

if TYPE_CHECKING:
    from labkit.playground._core import Playground

__all__ = ["draw", "figure", "png", "table"]

CLASS_COLOURS = ("#e8710a", "#1967d2")  # class 0 orange, class 1 blue (as in TF Playground)
BOUNDARY_CMAP = LinearSegmentedColormap.from_list("playground", ["#f6b26b", "#ffffff", "#6fa8dc"])
FLOOR = 1e-12  # where a zero gradient norm is drawn on a log axis
BASELINE_LOSS = math.log(2)  # cross-entropy of predicting 50/50


def figure() -> Figure:
    """An empty figure with the six panels' axes, to :func:`draw` into (again and again)."""
    fig = Figure(figsize=(13, 7.2), dpi=80)
    fig.subplots(2, 3)
    fig.subplots_adjust(left=0.05, right=0.93, bottom=0.08, top=0.9, wspace=0.42, hspace=0.38)
    return fig


def draw(fig: Figure, pg: Playground) -> Figure:
    """Draw ``pg``'s current state into ``fig`` (from :func:`figure`). Returns the figure.

    Example
    -------
    >>> fig = draw(figure(), Playground())  # doctest: +SKIP
    """
    (boundary, losses, history), (profile, dead, ratios) = fig.axes[:3], fig.axes[3:6]
    for ax in fig.axes:
        ax.clear()
    _boundary(boundary, pg)
    _losses(losses, pg)
    _norm_history(history, pg)
    _profile(profile, pg)
    _dead(dead, pg)
    _ratios(ratios, pg)
    c = pg.controls
    fig.suptitle(
        f"step {pg.step} · {c['dataset']} · {c['depth']}×{c['width']} {c['activation']}, "
        f"{c['initializer']} ×{c['init_scale']:g}, {c['optimizer']} lr {c['learning_rate']:g}"
        + (" · batch norm" if c["batch_norm"] else "")
        + (f" · dropout {c['dropout']:g}" if c["dropout"] else "")
        + (f" · L2 {c['l2']:g}" if c["l2"] else ""),
        fontsize=12,
    )
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _boundary(ax, pg: Playground) -> None:
    xs, ys, p = pg.predict_grid()
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    ax.imshow(p, origin="lower", extent=extent, cmap=BOUNDARY_CMAP, vmin=0, vmax=1, aspect="auto")
    if np.all(np.isfinite(p)) and p.min() < 0.5 < p.max():
        ax.contour(xs, ys, p, levels=[0.5], colors="#444444", linewidths=1)
    for label, colour in enumerate(CLASS_COLOURS):
        train = pg.y_train == label
        test = pg.y_test == label
        ax.scatter(
            *pg.x_train[train].T,
            s=16,
            color=colour,
            edgecolor="white",
            linewidth=0.5,
            label=f"class {label}, train",
        )
        ax.scatter(
            *pg.x_test[test].T,
            s=18,
            facecolor="none",
            edgecolor=colour,
            linewidth=1.2,
            label=f"class {label}, test",
        )
    if not np.any(np.isfinite(p)):
        ax.text(
            0.5,
            0.55,
            "the network outputs NaN",
            transform=ax.transAxes,
            ha="center",
            color="#d93025",
            fontsize=11,
            bbox={"facecolor": "white", "edgecolor": "#d93025"},
        )
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title("Decision boundary (background: P(class 1))")
    ax.legend(
        fontsize="xx-small",
        loc="lower center",
        ncol=4,
        framealpha=0.8,
        handletextpad=0.1,
        columnspacing=0.6,
    )


def _losses(ax, pg: Playground) -> None:
    steps = [r["step"] for r in pg.history]
    values = {
        k: np.array([r[k] for r in pg.history], dtype=float) for k in ("train_loss", "test_loss")
    }
    for key, style, colour in (("train_loss", "-", "black"), ("test_loss", "--", "#d93025")):
        ax.plot(steps, values[key], style, color=colour, label=key.replace("_", " "))
    ax.axhline(BASELINE_LOSS, color="grey", linestyle=":", label="predict 50/50 (ln 2)")
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values.values()])
    if finite.size and finite.max() > 100 * max(finite.min(), 1e-3):
        ax.set_yscale("log")  # a diverging loss spans many decades
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.set_ylim(bottom=0)
    _mark_divergence(ax, steps, values["train_loss"])
    last = pg.history[-1]
    ax.set_xlim(0, max(pg.step, 1))
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(
        f"Loss (accuracy: train {last['train_accuracy']:.0%}, test {last['test_accuracy']:.0%})"
    )
    ax.legend(fontsize="small", loc="best")
    ax.grid(True, alpha=0.3)


def _mark_divergence(ax, steps, values) -> None:
    """A red line at the first record whose value is NaN or infinite."""
    bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float)))
    if bad.size:
        step = steps[bad[0]]
        ax.axvline(step, color="#d93025", linewidth=1)
        ax.text(
            step,
            0.5,
            f" NaN/inf from step {step}",
            transform=ax.get_xaxis_transform(),
            color="#d93025",
            fontsize=9,
        )


def _colours(n: int) -> list:
    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def _log_values(values) -> np.ndarray:
    values = np.array(values, dtype=float)
    values[np.isfinite(values) & (values <= 0)] = FLOOR
    values[~np.isfinite(values)] = np.nan
    return values


def _norm_history(ax, pg: Playground) -> None:
    records = [r for r in pg.history if r["grad_norms"]]
    ax.set_title("Gradient norm per layer over training")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient L2 norm (log)")
    if not records:
        ax.text(0.5, 0.5, "no steps yet: press Step or Play", transform=ax.transAxes, ha="center")
        return
    steps = [r["step"] for r in records]
    for layer, colour in zip(pg.layers, _colours(len(pg.layers))):
        ax.plot(
            steps, _log_values([r["grad_norms"][layer] for r in records]), color=colour, label=layer
        )
    _log_axis(ax)
    ax.set_xlim(0, max(pg.step, 1))
    _mark_divergence(ax, steps, [sum(r["grad_norms"].values()) for r in records])
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        fontsize="x-small",
        title="input → output",
        title_fontsize="x-small",
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
    )


def _short(layer: str) -> str:
    """``hidden_3`` → ``h3``, ``act_3`` → ``a3``, ``output`` → ``out``: labels that fit."""
    return layer.replace("hidden_", "h").replace("act_", "a").replace("output", "out")


def _log_axis(ax) -> None:
    """A log y axis with at most a few labelled decades and no minor ticks (fast to redraw)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=5))
    ax.yaxis.set_minor_locator(NullLocator())


def _layer_axis(ax, layers) -> None:
    ax.set_xticks(range(len(layers)), [_short(n) for n in layers])
    ax.set_xlabel("layer (input side → output side)")


def _profile(ax, pg: Playground) -> None:
    norms = pg.latest("grad_norms")
    ax.set_title("Gradient-norm profile (last 10 records)")
    ax.set_ylabel("gradient L2 norm (log)")
    if not norms:
        ax.text(0.5, 0.5, "no steps yet", transform=ax.transAxes, ha="center")
        return
    layers = list(norms)
    values = _log_values(list(norms.values()))
    ax.bar(range(len(layers)), np.nan_to_num(values, nan=0.0), color=_colours(len(layers)))
    _log_axis(ax)
    finite = values[np.isfinite(values)]
    if finite.size:
        top = finite.max()
        ax.axhline(
            top * DEFAULT_VANISHING_RATIO,
            color="#d93025",
            linestyle=":",
            label=f"vanishing: < {DEFAULT_VANISHING_RATIO:g} × largest",
        )
        ax.set_ylim(min(finite.min(), top * DEFAULT_VANISHING_RATIO) / 3, top * 30)
        ax.legend(fontsize="x-small", loc="upper left")
    for i, v in enumerate(values):
        if not np.isfinite(v):
            ax.text(
                i,
                0.5,
                "NaN",
                transform=ax.get_xaxis_transform(),
                ha="center",
                color="#d93025",
                fontsize=9,
                rotation=90,
            )
    _layer_axis(ax, layers)
    ax.grid(True, axis="y", which="major", alpha=0.3)


def _dead(ax, pg: Playground) -> None:
    dead = pg.history[-1]["dead"]
    ax.set_title("Dead ReLU units per layer (now)")
    ax.set_ylabel("fraction dead (0 on every training point)")
    ax.set_ylim(0, 1.05)
    if not dead:
        ax.text(
            0.5,
            0.5,
            f"no ReLU layers ({pg.controls['activation']})",
            transform=ax.transAxes,
            ha="center",
        )
        ax.set_xticks([])
        return
    layers = list(dead)
    values = list(dead.values())
    colours = ["#d93025" if v >= 0.5 else "#5f6368" for v in values]
    ax.bar(range(len(layers)), values, color=colours)
    ax.axhline(0.5, color="#d93025", linestyle=":", label="finding at 50%")
    ax.legend(fontsize="x-small", loc="upper left")
    _layer_axis(ax, layers)


def _ratios(ax, pg: Playground) -> None:
    ratios = pg.latest("update_ratio")
    low, high = DEFAULT_UPDATE_RATIO_RANGE
    ax.set_title("Update-to-weight ratio per layer")
    ax.set_ylabel("log10(std(Δw) / std(w))")
    ax.axhspan(low, high, color="#e6f4ea", label=f"no finding [{low:g}, {high:g}]")
    ax.axhline(HEALTHY_UPDATE_RATIO, color="#1a7f37", linestyle="--", label="healthy ≈ −3")
    if ratios:
        layers = list(ratios)
        values = np.array(list(ratios.values()), dtype=float)
        shown = np.where(np.isneginf(values), -10.0, values)
        ax.plot(range(len(layers)), shown, "o-", color="black", label="mean of last 10 records")
        none = np.flatnonzero(np.isneginf(values))
        if none.size:
            ax.plot(
                none,
                shown[none],
                "v",
                color="#d93025",
                markersize=9,
                label="no change at all (drawn at −10)",
            )
        _layer_axis(ax, layers)
        finite = shown[np.isfinite(shown)]
        ax.set_ylim(
            min(-6.0, *(finite - 0.5)) if finite.size else -6.0,
            max(0.0, *(finite + 0.5)) if finite.size else 0.0,
        )
    else:
        ax.text(0.5, 0.5, "no steps yet", transform=ax.transAxes, ha="center")
        ax.set_ylim(-6, 0)
    ax.legend(fontsize="x-small", loc="best")
    ax.grid(True, axis="y", alpha=0.3)


def table(pg: Playground) -> str:
    """The playground's state as a plain-text table: losses, per-layer statistics, findings.

    Numbers are rounded, so the text is the same on every run of the same state.

    Example
    -------
    >>> print(table(Playground()))  # doctest: +SKIP
    """
    s = pg.summary()
    lines = [
        f"Playground ({pg.preset}) after {s['step']} steps: "
        f"train loss {s['train_loss']:.3f}, test loss {s['test_loss']:.3f}, "
        f"train accuracy {s['train_accuracy']:.0%}, test accuracy {s['test_accuracy']:.0%} "
        f"(majority class {s['baseline_accuracy']:.0%})",
    ]
    changed = pg.changed()
    if changed:
        lines.append(
            "changed from the preset: " + ", ".join(f"{k}={v!r}" for k, v in changed.items())
        )
    norms, ratios, dead = pg.latest("grad_norms"), pg.latest("update_ratio"), pg.history[-1]["dead"]
    lines.append(f"  {'layer':<10} {'grad norm':>10} {'update ratio':>13} {'dead':>6}")
    for layer in pg.layers:
        dead_name = layer if layer in dead else layer.replace("hidden_", "act_")
        lines.append(
            f"  {layer:<10} {_num(norms.get(layer)):>10} {_ratio(ratios.get(layer)):>13} "
            f"{_pct(dead.get(dead_name)):>6}"
        )
    findings = pg.findings
    lines.append("findings:" if findings else "findings: none — healthy")
    lines += [f"  - {f}" for f in findings]
    return "\n".join(lines)


def _num(v) -> str:
    return "—" if v is None else f"{v:.1e}"


def _ratio(v) -> str:
    if v is None:
        return "—"
    return "no change" if v == -math.inf else f"{v:.1f}"


def _pct(v) -> str:
    return "—" if v is None else f"{v:.0%}"
