"""Plain-language findings, each naming the remedy the course teaches.

>>> from labkit.diagnose import diagnose
>>> diagnose(model, x_train[:256], y_train[:256])  # doctest: +SKIP
Healthy: no vanishing or exploding gradients, no dead ReLU layers, no saturated units.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from labkit.activations import activation_stats
from labkit.gradients import exploding_layers, layer_gradient_norms, vanishing_ratio

__all__ = [
    "Finding",
    "Report",
    "clipping_finding",
    "dead_relu_findings",
    "diagnose",
    "exploding_finding",
    "overfitting_finding",
    "saturation_findings",
    "update_ratio_findings",
    "vanishing_finding",
]

KINDS = (
    "vanishing",
    "exploding",
    "dead_relu",
    "saturation",
    "learning_rate",
    "clipping",
    "overfitting",
)

REMEDIES = {
    "vanishing": "use ReLU activations with He initialization (keras.initializers.HeNormal)",
    "exploding": (
        "add batch normalization, lower the learning rate, or clip gradients "
        "(e.g. optimizer=keras.optimizers.Adam(clipnorm=1.0))"
    ),
    "dead_relu": "lower the learning rate, or use LeakyReLU so dead units still pass a gradient",
    "saturation": (
        "use ReLU instead of sigmoid/tanh in hidden layers, or smaller initial weights "
        "(Glorot/He initialization) and batch normalization"
    ),
    "overfitting": (
        "add dropout or L2 regularization, train on more data, or stop earlier (keep the "
        "weights of the lowest validation loss: keras.callbacks.EarlyStopping("
        "restore_best_weights=True))"
    ),
}

DEFAULT_VANISHING_RATIO = 1e-3
DEFAULT_EXPLODING_NORM = 1e3
DEFAULT_DEAD_THRESHOLD = 0.5
DEFAULT_SATURATION_THRESHOLD = 0.5
DEFAULT_UPDATE_RATIO_RANGE = (-5.0, -1.0)
HEALTHY_UPDATE_RATIO = -3.0
DEFAULT_OVERFITTING_RISE = 1.5
DEFAULT_OVERFITTING_GAP = 0.1


@dataclass(frozen=True)
class Finding:
    """One problem found in a model, with the remedy in its message.

    Attributes
    ----------
    kind : str
        ``"vanishing"``, ``"exploding"``, ``"dead_relu"``, ``"saturation"``,
        ``"learning_rate"`` (an update-to-weight ratio far from the healthy 1e-3) or
        ``"clipping"`` (how often gradient clipping changed the gradient).
    layer : str
        The layer it was found in (the first offending one, input side first).
    step : int or None
        The training step of the record that showed it (``None`` for a one-shot check).
    message : str
        What was measured and what to do about it.

    Example
    -------
    >>> f = Finding("dead_relu", "hidden_2", 40, "62% of hidden_2's ReLU units are dead ...")
    >>> f.kind
    'dead_relu'
    """

    kind: str
    layer: str
    step: int | None
    message: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def __str__(self) -> str:
        where = "" if self.step is None else f" (step {self.step})"
        return f"[{self.kind}] {self.layer}{where}: {self.message}"


class Report(list):
    """A list of :class:`Finding` that reads well printed or displayed in a notebook."""

    def __str__(self) -> str:
        if not self:
            return (
                "Healthy: no vanishing or exploding gradients, no dead ReLU layers, "
                "no saturated units."
            )
        return "\n".join(str(f) for f in self)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        if not self:
            return f"<p style='color:#1a7f37'>&#10004; {html.escape(str(self))}</p>"
        rows = "".join(
            f"<li><b>{html.escape(f.kind)}</b> in <code>{html.escape(f.layer)}</code>"
            f"{'' if f.step is None else f' (step {f.step})'}: {html.escape(f.message)}</li>"
            for f in self
        )
        return f"<ul style='color:#b35900'>{rows}</ul>"


def vanishing_finding(
    norms: dict[str, float], ratio: float = DEFAULT_VANISHING_RATIO, step: int | None = None
) -> Finding | None:
    """A vanishing finding when the lowest layer's norm is below ``ratio`` × the largest norm.

    Also reports the backend pitfall where *every* gradient is exactly zero.

    Example
    -------
    >>> print(vanishing_finding({"hidden_1": 1e-7, "output": 0.5}))  # doctest: +ELLIPSIS
    [vanishing] hidden_1: gradient norm 1e-07 is 2e-07 of the largest layer's (0.5), ...
    """
    if not norms:
        return None
    values = list(norms.values())
    if all(v == 0 for v in values):
        first = next(iter(norms))
        return Finding(
            "vanishing",
            first,
            step,
            "every gradient is exactly zero, so nothing can learn. A common cause is a "
            "saturated sigmoid/softmax output with a probability-space loss (on JAX and PyTorch "
            "the loss is computed from clipped probabilities): use a linear output layer with "
            "from_logits=True in the loss. Otherwise " + REMEDIES["vanishing"] + ".",
        )
    r = vanishing_ratio(norms)
    if not math.isfinite(r) or r >= ratio:
        return None
    lowest = next(iter(norms))
    largest = max(values)
    return Finding(
        "vanishing",
        lowest,
        step,
        f"gradient norm {values[0]:.3g} is {r:.1g} of the largest layer's ({largest:.3g}), "
        f"below the {ratio:g} threshold: this layer barely learns. "
        f"Remedy: {REMEDIES['vanishing']}.",
    )


def exploding_finding(
    norms: dict[str, float], threshold: float = DEFAULT_EXPLODING_NORM, step: int | None = None
) -> Finding | None:
    """An exploding finding naming the first layer whose norm is non-finite or above ``threshold``.

    Example
    -------
    >>> exploding_finding({"hidden_1": float("nan"), "output": 1.0}).layer
    'hidden_1'
    """
    bad = exploding_layers(norms, threshold)
    if not bad:
        return None
    first = bad[0]
    value = norms[first]
    what = "is not finite" if not math.isfinite(value) else f"{value:.3g} exceeds {threshold:g}"
    others = f" ({len(bad) - 1} more layer(s) too)" if len(bad) > 1 else ""
    return Finding(
        "exploding",
        first,
        step,
        f"gradient norm {what}{others}: updates this large overshoot and the loss diverges. "
        f"Remedy: {REMEDIES['exploding']}.",
    )


def overfitting_finding(
    train_losses: Sequence[float],
    val_losses: Sequence[float],
    step: int | None = None,
    rise: float = DEFAULT_OVERFITTING_RISE,
    gap: float = DEFAULT_OVERFITTING_GAP,
) -> Finding | None:
    """An overfitting finding when the held-out loss has climbed from its lowest value (to over
    ``rise`` × it, and by more than ``gap``) while the training loss kept falling.

    The two loss curves are recorded at the same moments, e.g. a Keras ``History``'s
    ``history["loss"]`` and ``history["val_loss"]``. A gap between the curves alone is no sign:
    with few or noisy points the held-out loss stays above the training loss even at its best.

    Example
    -------
    >>> overfitting_finding([0.7, 0.3, 0.01], [0.7, 0.5, 1.4]).kind
    'overfitting'
    >>> overfitting_finding([0.7, 0.3, 0.2], [0.7, 0.5, 0.55]) is None
    True
    """
    train, val = np.asarray(train_losses, dtype=float), np.asarray(val_losses, dtype=float)
    if len(train) != len(val):
        raise ValueError(f"{len(train)} training losses but {len(val)} held-out losses")
    if not len(val) or not (np.all(np.isfinite(train)) and np.all(np.isfinite(val))):
        return None
    best = int(np.argmin(val))
    lowest, now = val[best], val[-1]
    if now <= rise * lowest or now - lowest <= gap or train[-1] >= train[best]:
        return None
    return Finding(
        "overfitting",
        "model",
        step,
        f"the held-out loss rose from its lowest, {lowest:.3g}, to {now:.3g} "
        f"({now / lowest:.3g}×) while the training loss fell from {train[best]:.3g} to "
        f"{train[-1]:.3g}: the network memorizes its training points instead of learning the "
        f"pattern. Remedy: {REMEDIES['overfitting']}.",
    )


def clipping_finding(bit: int, steps: int, kind: str, threshold: float) -> Finding:
    """How often clipping changed the gradient: in ``bit`` of ``steps`` recorded steps.

    Example
    -------
    >>> print(clipping_finding(3, 4, "global_clipnorm", 1.0))  # doctest: +ELLIPSIS
    [clipping] all layers: global_clipnorm=1 clipped the gradient at 3 of 4 recorded steps (75%)...
    """
    share = bit / steps
    if share > 0.5:
        advice = (
            "clipping does most of the work: the raw gradients are large, so look for the cause "
            "(learning rate, initialization, missing normalization) or raise the threshold"
        )
    else:
        advice = "it only tames occasional spikes, which is what clipping is for"
    return Finding(
        "clipping",
        "all layers",
        None,
        f"{kind}={threshold:g} clipped the gradient at {bit} of {steps} recorded steps "
        f"({share:.0%}); {advice}.",
    )


def dead_relu_findings(
    fractions: dict[str, float], threshold: float = DEFAULT_DEAD_THRESHOLD, step: int | None = None
) -> list[Finding]:
    """One finding per ReLU layer whose dead fraction reaches ``threshold``.

    Example
    -------
    >>> [f.layer for f in dead_relu_findings({"hidden_1": 0.1, "hidden_2": 0.8})]
    ['hidden_2']
    """
    return [
        Finding(
            "dead_relu",
            name,
            step,
            f"{fraction:.0%} of its ReLU units output 0 for every probe example, so no gradient "
            f"flows through them and they cannot recover. Remedy: {REMEDIES['dead_relu']}.",
        )
        for name, fraction in fractions.items()
        if fraction >= threshold
    ]


def saturation_findings(
    stats: dict[str, dict], threshold: float = DEFAULT_SATURATION_THRESHOLD, step=None
) -> list[Finding]:
    """One finding per sigmoid/tanh layer whose saturated fraction reaches ``threshold``."""
    return [
        Finding(
            "saturation",
            name,
            step,
            f"{s['saturated_fraction']:.0%} of its {s['activation']} outputs are saturated, where "
            f"the derivative is nearly 0. Remedy: {REMEDIES['saturation']}.",
        )
        for name, s in stats.items()
        if s["saturated_fraction"] >= threshold
    ]


def update_ratio_findings(
    ratios: dict[str, float],
    bounds: tuple[float, float] = DEFAULT_UPDATE_RATIO_RANGE,
    step: int | None = None,
) -> list[Finding]:
    """``learning_rate`` findings for layers whose log10 update-to-weight ratio leaves ``bounds``.

    A healthy step changes a layer's weights by about a thousandth of their spread (ratio
    about −3). Far above: the learning rate is likely too high (the road to exploding gradients
    and dead ReLUs). Far below: it is too low, or the layer's gradient has vanished.

    Example
    -------
    >>> [f.message[:32] for f in update_ratio_findings({"hidden_1": -0.5, "output": -3.1})]
    ['each update changes the weights ']
    """
    low, high = bounds
    found = []
    for name, ratio in ratios.items():
        if math.isnan(ratio) or low <= ratio <= high:
            continue
        if ratio == -math.inf:  # the step is 0, or below float32's resolution at these weights
            change = "an update leaves the weights exactly as they were"
        else:
            change = f"each update changes the weights by 10^{ratio:.1f} of their spread"
        if ratio > high:
            advice = (
                "the learning rate is likely too high (the road to exploding gradients and dead "
                "ReLUs): lower it"
            )
        else:
            advice = (
                "the learning rate is too low or this layer's gradient vanished: raise the "
                f"learning rate, or {REMEDIES['vanishing']}"
            )
        found.append(
            Finding(
                "learning_rate",
                name,
                step,
                f"{change} (healthy: about 10^{HEALTHY_UPDATE_RATIO:.0f}); {advice}.",
            )
        )
    return found


def diagnose(
    model: keras.Model,
    x,
    y,
    *,
    vanishing_ratio: float = DEFAULT_VANISHING_RATIO,
    exploding_norm: float = DEFAULT_EXPLODING_NORM,
    dead_threshold: float = DEFAULT_DEAD_THRESHOLD,
    saturation_threshold: float = DEFAULT_SATURATION_THRESHOLD,
) -> Report:
    """One-shot health check of a compiled model on a probe batch.

    Measures gradient norms per layer, dead ReLU fractions and sigmoid/tanh saturation, and
    returns every problem as a :class:`Finding` with its remedy. Nothing about the model changes.

    Example
    -------
    >>> report = diagnose(model, x_train[:256], y_train[:256])  # doctest: +SKIP
    >>> [f.kind for f in report]  # doctest: +SKIP
    ['vanishing']
    """
    norms = layer_gradient_norms(model, x, y)
    report = Report()
    for finding in (
        exploding_finding(norms, exploding_norm),
        vanishing_finding(norms, vanishing_ratio),
    ):
        if finding is not None:
            report.append(finding)
    try:
        stats = activation_stats(model, x)
    except ValueError:  # subclassed model: its activations are hidden, gradients still checked
        stats = {}
    dead = {n: s["dead_fraction"] for n, s in stats.items() if s["activation"] == "relu"}
    report.extend(dead_relu_findings(dead, dead_threshold))
    report.extend(saturation_findings(stats, saturation_threshold))
    return report
