"""The playground's panels as one matplotlib ``Figure``: the static summary and live frames.

:func:`draw` and :func:`png` render a whole figure (the static summary). :class:`Frames` renders
the live app's frames: it builds the axes, labels, legends and artists once, renders the static
parts once and per frame only updates the data and blits it onto that background. It renders
the whole figure again only when the layout changes (another network, an axis's limits outgrown).
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib
from typing import TYPE_CHECKING

import numpy as np
from contourpy import contour_generator
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.spines import Spine
from matplotlib.text import Text
from matplotlib.ticker import LogLocator, NullLocator

from labkit.diagnose import (
    DEFAULT_UPDATE_RATIO_RANGE,
    DEFAULT_VANISHING_RATIO,
    HEALTHY_UPDATE_RATIO,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.artist import Artist

    from labkit.playground._core import Playground

    Update = Callable[[Playground], list[Artist]]

__all__ = ["Frames", "draw", "figure", "png", "table"]

CLASS_COLOURS = ("#e8710a", "#1967d2")  # class 0 orange, class 1 blue (as in TF Playground)
BOUNDARY_CMAP = LinearSegmentedColormap.from_list("playground", ["#f6b26b", "#ffffff", "#6fa8dc"])
FLOOR = 1e-12  # where a zero gradient norm is drawn on a log axis
BASELINE_LOSS = math.log(2)  # cross-entropy of predicting 50/50
RED = "#d93025"


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
    >>> png(draw(figure(), Playground()))  # doctest: +SKIP
    """
    for update in _build(fig, pg, _layout(pg, None, live=False)):
        update(pg)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class Frames:
    """The live app's frames of one playground as PNG bytes, cheap to render again and again.

    A full render draws the static parts (axes, ticks, labels, titles) into a background. A
    frame restores it and draws the data; what sits over the data but changes rarely (legends,
    spines, the data points, the changing titles: text is what costs) is drawn once alone and
    composited in its place in the drawing order. A full render happens when the layout changes
    (another network, an axis's limits outgrown: :func:`_layout`).

    Example
    -------
    >>> frames = Frames()
    >>> first = frames.png(pg)  # doctest: +SKIP
    >>> pg.run(steps=10); second = frames.png(pg)  # a blit  # doctest: +SKIP
    """

    def __init__(self):
        self.fig = figure()
        self.canvas = FigureCanvasAgg(self.fig)
        self.layout = None
        self._updates: list[Update] = []
        self._background = None
        self._scratch = RendererAgg(*self.canvas.get_width_height(), self.fig.dpi)
        self._overlays: dict[Artist, tuple] = {}  # artist: (what it shows, its overlay or None)

    def png(self, pg: Playground, full: bool = False) -> bytes:
        """``pg``'s current state as a PNG: a blit; the panels whose layout changed are drawn
        again first (the whole figure on the first frame, or with ``full``)."""
        layout = _layout(pg, self.layout, live=True)
        whole = full or self.layout is None
        changed = [] if whole else [i for i, part in enumerate(layout) if part != self.layout[i]]
        if whole:
            self._updates = _build(self.fig, pg, layout)
        else:
            for i in changed:  # the other panels keep their artists and background pixels
                self.fig.axes[i].clear()
                self._updates[i] = PANELS[i](self.fig.axes[i], pg, *layout[i])
        self.layout = layout
        dynamic = self._dynamic(pg)
        if whole or changed:
            for artist in dynamic:
                artist.set_animated(True)
            if whole:
                self.canvas.draw()  # everything but the animated (dynamic) artists
            else:
                self._redraw(changed)
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._overlays = {}
        self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        pixels = np.asarray(self.canvas.buffer_rgba())
        for artist in sorted(dynamic, key=lambda a: a.get_zorder()):  # as a full render does
            overlay = None
            if isinstance(artist, (Legend, Spine, PathCollection, Text)):
                text = isinstance(artist, Text)
                key = (artist.get_text(), artist.get_visible()) if text else ()
                shown, overlay = self._overlays.get(artist, (None, None))
                if shown != key:  # a text that changed is drawn; overlaid once it stays
                    shown, overlay = key, None if text else self._overlay(artist)
                elif overlay is None:
                    overlay = self._overlay(artist)
                self._overlays[artist] = (shown, overlay)
            if overlay is None:
                artist.draw(renderer)
            else:
                ys, xs, added, kept = overlay
                pixels[ys, xs, :3] = (added + pixels[ys, xs, :3] * kept) // 255
        return _png(pixels[..., :3])

    def _redraw(self, panels: list[int]) -> None:
        """Draw the static parts of ``panels`` again over the background: each panel's area
        (ticks, labels, title and legend included) is blanked, then the panel is drawn into it,
        about 0.04 s a panel against 0.2 s or more for the whole figure."""
        self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        pixels = np.asarray(self.canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        for i in panels:
            ax = self.fig.axes[i]
            box = ax.get_tightbbox(renderer)
            x0, x1 = max(int(box.x0) - 2, 0), min(int(math.ceil(box.x1)) + 2, width)
            y0 = max(height - int(math.ceil(box.y1)) - 2, 0)
            y1 = min(height - int(box.y0) + 2, height)
            pixels[y0:y1, x0:x1] = 255  # the figure's white face
            ax.draw(renderer)

    def _dynamic(self, pg: Playground) -> list[Artist]:
        """Update the data; the artists that change, with each axes' spines (drawn over them)."""
        artists = [a for update in self._updates for a in update(pg)]
        return artists + [s for ax in self.fig.axes[:6] for s in ax.spines.values()]

    def _overlay(self, artist: Artist) -> tuple:
        """``artist`` drawn alone: its pixels' rows and columns, what they add (colour × alpha)
        and what they keep of what is under them (255 − alpha)."""
        self._scratch.clear()  # transparent
        artist.draw(self._scratch)
        rgba = np.asarray(self._scratch.buffer_rgba())
        ys, xs = np.nonzero(rgba[..., 3])
        alpha = rgba[ys, xs, 3:].astype(np.uint16)
        return ys, xs, rgba[ys, xs, :3] * alpha, 255 - alpha


def _png(rgb: np.ndarray) -> bytes:
    """``rgb`` (height × width × 3 bytes) as a PNG: unfiltered, fast zlib (about 10 ms a frame;
    PIL's filtered encoding takes over twice as long for the same size)."""
    height, width, _ = rgb.shape
    rows = np.zeros((height, width * 3 + 1), np.uint8)  # each row: filter type 0, then pixels
    row_pixels = rows[:, 1:]
    row_pixels.shape = (height, width, 3)  # a view (never a copy) to write into
    row_pixels[:] = rgb

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 3))
        + chunk(b"IEND", b"")
    )


def _layout(pg: Playground, old: tuple | None, live: bool) -> tuple:
    """What the panels' static parts depend on; a live frame holds limits it has not outgrown."""
    old = old or (None,) * 6
    records = [r for r in pg.history if r["grad_norms"]]
    norms, ratios = pg.latest("grad_norms"), pg.latest("update_ratio")
    xlim = (0, _nice_step(pg.step) if live else max(pg.step, 1))
    losses = np.array([r[k] for r in pg.history for k in ("train_loss", "test_loss")], float)
    finite = losses[np.isfinite(losses) & (losses > 0)]
    log = bool(finite.size and finite.max() > 100 * max(finite.min(), 1e-3))
    ylim = None
    if live:
        values = np.append(finite, BASELINE_LOSS)
        held = old[1][-1] if old[1] and old[1][0] == log else None  # same kind of axis only
        if log:
            ylim = _hold(held, _decades(values.min(), values.max()), log=True)
        else:
            ylim = (0, _nice_top(values.max() * 1.05))
    history = _log_values([v for r in records for v in r["grad_norms"].values()])
    history = history[np.isfinite(history)]
    hlim = None if history.size else (1.0, 10.0)  # no finite norm: any decade
    if live and history.size:
        hlim = _hold(old[2] and old[2][-1], _decades(history.min(), history.max()), log=True)
    profile = _log_values(list(norms.values()))
    profile = profile[np.isfinite(profile)]
    plim = (1.0, 10.0)
    if profile.size:
        top = profile.max()
        plim = (min(profile.min(), top * DEFAULT_VANISHING_RATIO) / 3, top * 30)
        plim = _hold(old[3] and old[3][-1], plim, log=True) if live else plim
    values, shown = _update_ratios(pg)
    shown = shown[np.isfinite(shown)]
    rlim = (min(-6.0, *(shown - 0.5)), max(0.0, *(shown + 0.5))) if shown.size else (-6.0, 0.0)
    rlim = _hold(old[5] and old[5][-1], rlim, log=False) if live else rlim
    return (
        (),
        (log, xlim, ylim),
        (tuple(pg.layers) if records else (), len(records) == 1, xlim, hlim),
        (tuple(norms), bool(profile.size), plim),
        (tuple(pg.history[-1]["dead"]), pg.controls["activation"]),
        (tuple(ratios), bool(np.isneginf(values).any()), rlim),
    )


def _nice_step(step: int) -> int:
    """The x axis's end for ``step`` in a live frame: 200, 1000, 5000, 25000... (five times longer
    each time: a longer axis costs a full redraw, so it changes rarely).

    Example
    -------
    >>> [_nice_step(s) for s in (1, 200, 201, 4999, 5001)]
    [200, 200, 1000, 5000, 25000]
    """
    end = 200
    while end < step:
        end *= 5
    return end


def _nice_top(value: float) -> float:
    """A round number at least ``value`` (> 0): 0.8 for 0.74, 1.5 for 1.3."""
    scale = 10.0 ** math.floor(math.log10(value))
    return next(
        round(m * scale, 12) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * scale >= value
    )


def _decades(low: float, high: float) -> tuple[float, float]:
    """Whole decades around ``[low, high]`` (> 0), for a log axis's limits."""
    return 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))


def _hold(old: tuple | None, wanted: tuple, log: bool) -> tuple:
    """Limits for ``wanted`` that a live frame keeps while they hold it: the ``old`` ones if they
    do with at most 4 decades (2 units) to spare, else ``wanted`` rounded outwards to whole units
    (and a decade more each side on a log axis, as a latest-values panel moves up and down)."""
    f, inv, pad, spare = (math.log10, lambda v: 10.0**v, 1, 4) if log else (float, float, 0, 2)
    lo, hi = f(wanted[0]), f(wanted[1])
    if old is not None:
        old_lo, old_hi = f(old[0]), f(old[1])
        if old_lo <= lo and hi <= old_hi and (old_hi - old_lo) - (hi - lo) <= spare:
            return old
    return inv(math.floor(lo) - pad), inv(math.ceil(hi) + pad)


def _build(fig: Figure, pg: Playground, layout: tuple) -> list[Update]:
    """Clear ``fig`` and draw the static parts of ``layout``; returns the panels' updates."""
    for ax in fig.axes:
        ax.clear()
    updates = [panel(ax, pg, *part) for panel, ax, part in zip(PANELS, fig.axes, layout)]
    title = fig.suptitle("", fontsize=12)

    def update(pg: Playground) -> list[Artist]:
        c = pg.controls
        title.set_text(
            f"step {pg.step} · {c['dataset']} · {c['depth']}×{c['width']} {c['activation']}, "
            f"{c['initializer']} ×{c['init_scale']:g}, {c['optimizer']} lr {c['learning_rate']:g}"
            + (" · batch norm" if c["batch_norm"] else "")
            + (f" · dropout {c['dropout']:g}" if c["dropout"] else "")
            + (f" · L2 {c['l2']:g}" if c["l2"] else "")
        )
        return [title]

    return [*updates, update]


def _boundary(ax, pg: Playground) -> Update:
    xs, ys, p = pg.predict_grid()
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    image = ax.imshow(
        p, origin="lower", extent=extent, cmap=BOUNDARY_CMAP, vmin=0, vmax=1, aspect="auto"
    )
    points = []
    for label, colour in enumerate(CLASS_COLOURS):
        train = pg.y_train == label
        test = pg.y_test == label
        points.append(
            ax.scatter(
                *pg.x_train[train].T,
                s=16,
                color=colour,
                edgecolor="white",
                linewidth=0.5,
                label=f"class {label}, train",
            )
        )
        points.append(
            ax.scatter(
                *pg.x_test[test].T,
                s=18,
                facecolor="none",
                edgecolor=colour,
                linewidth=1.2,
                label=f"class {label}, test",
            )
        )
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title("Decision boundary (background: P(class 1))")
    legend = ax.legend(
        fontsize="xx-small",
        loc="lower center",
        ncol=4,
        framealpha=0.8,
        handletextpad=0.1,
        columnspacing=0.6,
    )
    nan = ax.text(
        0.5,
        0.55,
        "the network outputs NaN",
        transform=ax.transAxes,
        ha="center",
        color=RED,
        fontsize=11,
        bbox={"facecolor": "white", "edgecolor": RED},
    )
    boundary = ax.add_collection(LineCollection([], colors="#444444", linewidths=1, zorder=2))

    def update(pg: Playground) -> list[Artist]:
        xs, ys, p = pg.predict_grid()
        image.set_data(p)
        lines = []  # the 0.5 contour, as ax.contour draws it (contourpy, mpl2014)
        if np.all(np.isfinite(p)) and p.min() < 0.5 < p.max():
            lines = contour_generator(
                xs, ys, p, name="mpl2014", corner_mask=True, line_type="SeparateCode"
            ).lines(0.5)[0]
        boundary.set_segments(lines)
        nan.set_visible(not np.any(np.isfinite(p)))
        return [image, *points, boundary, nan, legend]

    return update


def _losses(ax, pg: Playground, log: bool, xlim: tuple, ylim: tuple | None) -> Update:
    lines = {
        key: ax.plot([], [], style, color=colour, label=key.replace("_", " "))[0]
        for key, style, colour in (("train_loss", "-", "black"), ("test_loss", "--", RED))
    }
    baseline = ax.axhline(BASELINE_LOSS, color="grey", linestyle=":", label="predict 50/50 (ln 2)")
    if log:
        ax.set_yscale("log")  # a diverging loss spans many decades
        ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.grid(True, alpha=0.3)
    legend = ax.legend(fontsize="small", loc="best")
    divergence = _Divergence(ax)

    def update(pg: Playground) -> list[Artist]:
        steps = [r["step"] for r in pg.history]
        for key, line in lines.items():
            line.set_data(steps, [r[key] for r in pg.history])
        if ylim is None:  # the static summary: limits from the data, as matplotlib picks them
            ax.relim()
            ax.autoscale_view(scalex=False)
            if not log:
                ax.set_ylim(bottom=0)
        last = pg.history[-1]
        ax.set_title(
            f"Loss (accuracy: train {last['train_accuracy']:.0%}, test {last['test_accuracy']:.0%})"
        )
        marks = divergence.update(steps, lines["train_loss"].get_ydata())
        return [*lines.values(), baseline, *marks, ax.title, legend]

    return update


class _Divergence:
    """A red line and a note at the first record whose value is NaN or infinite."""

    def __init__(self, ax):
        self.ax, self.artists = ax, []

    def update(self, steps, values) -> list[Artist]:
        bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float)))
        if bad.size and not self.artists:  # made once: "best" legends avoid even hidden lines
            step = steps[bad[0]]
            self.artists = [
                self.ax.axvline(step, color=RED, linewidth=1),
                self.ax.text(
                    step,
                    0.5,
                    f" NaN/inf from step {step}",
                    transform=self.ax.get_xaxis_transform(),
                    color=RED,
                    fontsize=9,
                ),
            ]
        return self.artists


def _colours(n: int) -> list:
    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def _log_values(values) -> np.ndarray:
    values = np.array(values, dtype=float)
    values[np.isfinite(values) & (values <= 0)] = FLOOR
    values[~np.isfinite(values)] = np.nan
    return values


def _norm_history(ax, pg: Playground, layers: tuple, single: bool, xlim, ylim) -> Update:
    ax.set_title("Gradient norm per layer over training")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient L2 norm (log)")
    if not layers:
        ax.text(0.5, 0.5, "no steps yet: press Step or Play", transform=ax.transAxes, ha="center")
        return lambda pg: []
    marker = "o" if single else None  # one record is a point, not yet a line
    lines = {
        layer: ax.plot([], [], color=colour, marker=marker, label=layer)[0]
        for layer, colour in zip(layers, _colours(len(layers)))
    }
    _log_axis(ax)
    ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        fontsize="x-small",
        title="input → output",
        title_fontsize="x-small",
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
    )  # beside the axes, never over the lines: drawn once
    divergence = _Divergence(ax)

    def update(pg: Playground) -> list[Artist]:
        records = [r for r in pg.history if r["grad_norms"]]
        steps = [r["step"] for r in records]
        for layer, line in lines.items():
            line.set_data(steps, _log_values([r["grad_norms"][layer] for r in records]))
        if ylim is None:
            ax.relim()
            ax.autoscale_view(scalex=False)
        marks = divergence.update(steps, [sum(r["grad_norms"].values()) for r in records])
        return [*lines.values(), *marks]

    return update


def _short(layer: str) -> str:
    """``hidden_3`` → ``h3``, ``act_3`` → ``a3``, ``output`` → ``out``: labels that fit."""
    return layer.replace("hidden_", "h").replace("act_", "a").replace("output", "out")


def _log_axis(ax) -> None:
    """A log y axis with at most a few labelled decades and no minor ticks (fast to redraw)."""
    with warnings.catch_warnings():  # before the data: the limits are set or autoscaled later
        warnings.filterwarnings("ignore", "Data has no positive values")
        ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=5))
    ax.yaxis.set_minor_locator(NullLocator())


def _layer_axis(ax, layers) -> None:
    ax.set_xticks(range(len(layers)), [_short(n) for n in layers])
    ax.set_xlabel("layer (input side → output side)")


def _profile(ax, pg: Playground, layers: tuple, finite: bool, ylim) -> Update:
    ax.set_title("Gradient-norm profile (last 10 records)")
    ax.set_ylabel("gradient L2 norm (log)")
    if not layers:
        ax.text(0.5, 0.5, "no steps yet", transform=ax.transAxes, ha="center")
        return lambda pg: []
    bars = ax.bar(range(len(layers)), np.zeros(len(layers)), color=_colours(len(layers)))
    _log_axis(ax)
    ax.set_ylim(ylim)
    artists = list(bars)
    if finite:
        threshold = ax.axhline(
            1.0,
            color=RED,
            linestyle=":",
            label=f"vanishing: < {DEFAULT_VANISHING_RATIO:g} × largest",
        )
        artists += [threshold, ax.legend(fontsize="x-small", loc="upper left")]
    nans = [
        ax.text(
            i,
            0.5,
            "NaN",
            transform=ax.get_xaxis_transform(),
            ha="center",
            color=RED,
            fontsize=9,
            rotation=90,
        )
        for i in range(len(layers))
    ]
    _layer_axis(ax, layers)
    ax.grid(True, axis="y", which="major", alpha=0.3)

    def update(pg: Playground) -> list[Artist]:
        values = _log_values(list(pg.latest("grad_norms").values()))
        for bar, nan, value in zip(bars, nans, values):
            bar.set_height(0.0 if np.isnan(value) else value)
            nan.set_visible(np.isnan(value))
        if finite:
            threshold.set_ydata([np.nanmax(values) * DEFAULT_VANISHING_RATIO] * 2)
        return artists + nans

    return update


def _dead(ax, pg: Playground, layers: tuple, activation: str) -> Update:
    ax.set_title("Dead ReLU units per layer (now)")
    ax.set_ylabel("fraction dead (0 on every training point)")
    ax.set_ylim(0, 1.05)
    if not layers:
        ax.text(0.5, 0.5, f"no ReLU layers ({activation})", transform=ax.transAxes, ha="center")
        ax.set_xticks([])
        return lambda pg: []
    bars = ax.bar(range(len(layers)), np.zeros(len(layers)))
    line = ax.axhline(0.5, color=RED, linestyle=":", label="finding at 50%")
    legend = ax.legend(fontsize="x-small", loc="upper left")
    _layer_axis(ax, layers)

    def update(pg: Playground) -> list[Artist]:
        for bar, value in zip(bars, pg.history[-1]["dead"].values()):
            bar.set_height(value)
            bar.set_facecolor(RED if value >= 0.5 else "#5f6368")
        return [*bars, line, legend]

    return update


def _ratios(ax, pg: Playground, layers: tuple, none: bool, ylim: tuple) -> Update:
    low, high = DEFAULT_UPDATE_RATIO_RANGE
    ax.set_title("Update-to-weight ratio per layer")
    ax.set_ylabel("log10(std(Δw) / std(w))")
    ax.axhspan(low, high, color="#e6f4ea", label=f"no finding [{low:g}, {high:g}]")
    ax.axhline(HEALTHY_UPDATE_RATIO, color="#1a7f37", linestyle="--", label="healthy ≈ −3")
    lines = []
    if layers:
        _, shown = _update_ratios(pg)  # the first data, so that the x axis autoscales to it
        lines.append(
            ax.plot(range(len(shown)), shown, "o-", color="black", label="mean of last 10 records")[
                0
            ]
        )
        if none:
            lines.append(
                ax.plot(
                    [], [], "v", color=RED, markersize=9, label="no change at all (drawn at −10)"
                )[0]
            )
        _layer_axis(ax, layers)
    else:
        ax.text(0.5, 0.5, "no steps yet", transform=ax.transAxes, ha="center")
    ax.set_ylim(ylim)
    legend = ax.legend(fontsize="x-small", loc="best")
    ax.grid(True, axis="y", alpha=0.3)

    def update(pg: Playground) -> list[Artist]:
        values, shown = _update_ratios(pg)
        if lines:
            lines[0].set_data(range(len(shown)), shown)
        if none:
            index = np.flatnonzero(np.isneginf(values))
            lines[1].set_data(index, shown[index])
        return [*lines, legend]

    return update


def _update_ratios(pg: Playground) -> tuple[np.ndarray, np.ndarray]:
    """The update ratios, and as drawn: no change at all (−inf) at −10."""
    values = np.array(list(pg.latest("update_ratio").values()), dtype=float)
    return values, np.where(np.isneginf(values), -10.0, values)


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


# The six panels in the figure's order; each draws its static parts and returns its update.
PANELS = (_boundary, _losses, _norm_history, _profile, _dead, _ratios)
