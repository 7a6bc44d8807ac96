"""``ActivationMonitor``: per-layer activation statistics and histograms during training."""

from __future__ import annotations

import warnings

from labkit.activations import DEFAULT_BINS, HISTOGRAM_RANGE, activated_layers, activation_stats
from labkit.callbacks.probe_monitor import (
    DEFAULT_MAX_RECORDS,
    ProbeMonitor,
    check_feature_shape,
    validate_probe_x,
)
from labkit.diagnose import DEFAULT_SATURATION_THRESHOLD, Finding, saturation_findings

STATS = ("activation", "mean", "std", "saturated", "zero", "hist")


class ActivationMonitor(ProbeMonitor):
    """Record what every activated layer outputs on a probe batch: its distribution over time.

    Per layer (every layer with a non-linear activation, input side first): the outputs' mean
    and std, the fraction ``saturated`` (sigmoid outputs below 0.02 or above 0.98, tanh
    ``|tanh| > 0.97``; 0 for other activations), the fraction exactly ``zero`` (the ReLU family's
    inactive outputs) and a histogram, on the schedule of the other monitors (step 0, log-spaced
    early steps, then every ``every`` steps or every epoch end). The forward pass is compiled
    once per model and each record copies the layer outputs to the host once; the model runs in
    inference mode and nothing about training changes.

    Each record in ``history`` is ``{"step", "epoch", "stats": {layer: {"activation", "mean",
    "std", "saturated", "zero", "hist"}}}`` with ``hist`` the pair of lists ``(counts, edges)``
    (so ``history`` can be saved as JSON and read back with ``from_history``). At epoch
    end ``logs`` get ``act_mean/<layer>``, ``act_std/<layer>`` and ``act_saturated/<layer>``
    (sigmoid/tanh layers) or ``act_zero/<layer>`` (the others). The accessors of
    :class:`~labkit.callbacks.probe_monitor.ProbeMonitor` read one statistic through ``key``:
    ``values(layer, key="saturated")``, ``at(-1, key="hist")``, ``snapshot(16, key="mean")``;
    ``values`` reads ``"mean"`` by default, ``at`` and ``snapshot`` every statistic.
    :class:`~labkit.callbacks.TensorBoardHistograms` writes the histograms for TensorBoard.

    Args:
        probe: ``x``, a batch of training inputs (a few hundred examples).
        every: record every this many steps after the early records; ``None``: every epoch end.
        bins: histogram bins per layer and record (default 40).
        saturation_threshold: a ``saturation`` finding when a sigmoid/tanh layer's saturated
            fraction reaches this (default 0.5).
        verbose: print each finding once, when it is first seen.
        max_records: the most records ``history`` holds (default 2,000); past it, the
            records are thinned evenly and taken half as often (``stride``,
            ``records_dropped``; see :class:`~labkit.callbacks.probe_monitor.ProbeMonitor`).
            ``None`` keeps every record.

    Example:
        >>> acts = ActivationMonitor(probe=x_train[:256])  # doctest: +SKIP
        >>> model.fit(x_train, y_train, epochs=5, callbacks=[acts])  # doctest: +SKIP
        >>> acts.values("hidden_1", key="saturated")  # doctest: +SKIP
        array([0.03, 0.05, 0.11, 0.42, 0.61, 0.66])
        >>> acts.plot(step=acts.steps()[-1])  # doctest: +SKIP
    """

    key = "stats"

    def __init__(
        self,
        probe,
        every: int | None = None,
        bins: int = DEFAULT_BINS,
        saturation_threshold: float = DEFAULT_SATURATION_THRESHOLD,
        verbose: int = 1,
        max_records: int | None = DEFAULT_MAX_RECORDS,
    ):
        super().__init__(every=every, verbose=verbose, max_records=max_records)
        if isinstance(probe, tuple) and len(probe) == 2:
            raise ValueError(
                "ActivationMonitor needs only inputs: pass probe=x_train[:256], not an (x, y) pair"
            )
        self.x = validate_probe_x(probe)
        if not isinstance(bins, int) or bins < 1:
            raise ValueError(f"bins must be a positive number of histogram bins, got {bins!r}")
        if not 0 < saturation_threshold <= 1:
            raise ValueError(
                f"saturation_threshold must be in (0, 1], got {saturation_threshold!r}"
            )
        self.bins = bins
        self.saturation_threshold = saturation_threshold

    @property
    def logged(self) -> dict[str, str]:
        return {}  # nested statistics: on_epoch_end writes them

    def check_model(self) -> None:
        check_feature_shape(self.x, self.model)
        try:
            layers = activated_layers(self.model, self.x[:1])
        except ValueError as exc:  # subclassed model
            warnings.warn(f"ActivationMonitor is off: {exc}", stacklevel=2)
            self._disabled = True
            return
        if not layers:
            warnings.warn(
                f"ActivationMonitor is off: model {self.model.name!r} has no layer with a "
                "non-linear activation (e.g. Dense(..., activation='relu') or Activation('tanh')).",
                stacklevel=2,
            )
            self._disabled = True

    def measure(self) -> dict[str, dict]:
        stats = activation_stats(self.model, self.x, self.bins, compiled=True)
        return {
            layer: {
                "activation": s["activation"],
                "mean": s["mean"],
                "std": s["std"],
                "saturated": s["saturated_fraction"],
                "zero": s["zero_fraction"],
                "hist": tuple(part.tolist() for part in s["hist"]),  # JSON-friendly
            }
            for layer, s in stats.items()
        }

    def findings_for(self, record: dict) -> list[Finding]:
        stats = {
            layer: {"activation": s["activation"], "saturated_fraction": s["saturated"]}
            for layer, s in record[self.key].items()
        }
        return saturation_findings(stats, self.saturation_threshold, record["step"])

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self._disabled or logs is None or not self.history:
            return
        for layer, s in self.history[-1][self.key].items():
            logs[f"act_mean/{layer}"] = s["mean"]
            logs[f"act_std/{layer}"] = s["std"]
            if s["activation"] in HISTOGRAM_RANGE:  # sigmoid, tanh: the saturating ones
                logs[f"act_saturated/{layer}"] = s["saturated"]
            else:
                logs[f"act_zero/{layer}"] = s["zero"]

    # --- reading one statistic through the ProbeMonitor accessors ------------------------------
    def _holding(self, key: str | None) -> tuple[str, list[dict]]:
        if key not in STATS:
            return super()._holding(key)
        return key, [
            {**r, key: {layer: s[key] for layer, s in r[self.key].items()}}
            for r in self.history
            if self.key in r
        ]

    def values(self, layer: str, key: str = "mean"):
        """One layer's ``key`` statistic (default ``"mean"``) at every record.

        Example
        -------
        >>> acts.values("hidden_1", key="zero")  # doctest: +SKIP
        array([0.49, 0.51, 0.55, 0.62])
        """
        return super().values(layer, key)

    def plot(self, step: int | None = None):
        """:func:`labkit.plots.activation_histograms` at ``step`` (default: the last record)."""
        from labkit import plots

        return plots.activation_histograms(self, self.steps()[-1] if step is None else step)
