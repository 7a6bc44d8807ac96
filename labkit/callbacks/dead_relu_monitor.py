"""``DeadReLUMonitor``: the fraction of dead ReLU units per layer during training."""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from labkit.activations import dead_relu_fraction, relu_layers
from labkit.callbacks.probe_monitor import (
    DEFAULT_MAX_RECORDS,
    ProbeMonitor,
    check_feature_shape,
    validate_probe_x,
)
from labkit.diagnose import DEFAULT_DEAD_THRESHOLD, Finding, dead_relu_findings

# A GradientMonitor on the same model counts the dead units of a DeadReLUMonitor's probe in its
# own compiled pass (one call, one trace, one host copy for both): the probes wanted per model,
# and the fractions measured at a step of a fit, taken once by the DeadReLUMonitor.
_WANTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class DeadReLUMonitor(ProbeMonitor):
    """Record, per ReLU layer, the fraction of units that output 0 for every probe example.

    A dead unit passes no gradient, so once dead it rarely recovers. Records follow the same
    schedule as :class:`GradientMonitor` (step 0, log-spaced early steps, then every ``every``
    steps or every epoch end); each lands in ``history`` and, at epoch end, in ``logs`` as
    ``dead_relu/<layer>``. Read the records with the accessors of
    :class:`~labkit.callbacks.probe_monitor.ProbeMonitor`: ``steps()``, ``layers()``,
    ``values(layer)``, ``at(index)``, ``snapshot(step)``.
    A model without ReLU layers, or a subclassed model whose layer outputs are hidden, gets a
    warning that says so and is not monitored.

    Args:
        probe: ``x``, a batch of training inputs (a few hundred examples).
        every: record every this many steps after the early records; ``None``: every epoch end.
        dead_threshold: a ``dead_relu`` finding when a layer's dead fraction reaches this.
        verbose: print each finding once, when it is first seen.
        max_records: the most records ``history`` holds (default 2,000); past it, the
            records are thinned evenly and taken half as often (``stride``,
            ``records_dropped``; see :class:`~labkit.callbacks.probe_monitor.ProbeMonitor`).
            ``None`` keeps every record.

    Example:
        >>> monitor = DeadReLUMonitor(probe=x_train[:256])  # doctest: +SKIP
        >>> model.fit(x_train, y_train, epochs=5, callbacks=[monitor])  # doctest: +SKIP
        >>> monitor.at(-1)  # the last record's dead fractions  # doctest: +SKIP
        {'hidden_1': 0.0, 'hidden_2': 0.4375}
        >>> monitor.plot()  # doctest: +SKIP
    """

    key = "dead_fraction"
    log_prefix = "dead_relu"

    def __init__(
        self,
        probe,
        every: int | None = None,
        dead_threshold: float = DEFAULT_DEAD_THRESHOLD,
        verbose: int = 1,
        max_records: int | None = DEFAULT_MAX_RECORDS,
    ):
        super().__init__(every=every, verbose=verbose, max_records=max_records)
        if isinstance(probe, tuple) and len(probe) == 2:
            raise ValueError(
                "DeadReLUMonitor needs only inputs: pass probe=x_train[:256], not an (x, y) pair"
            )
        self.x = validate_probe_x(probe)
        if not 0 < dead_threshold <= 1:
            raise ValueError(f"dead_threshold must be in (0, 1], got {dead_threshold!r}")
        self.dead_threshold = dead_threshold

    def check_model(self) -> None:
        check_feature_shape(self.x, self.model)
        try:
            has_relu = bool(relu_layers(self.model))
        except ValueError as exc:  # subclassed model
            warnings.warn(f"DeadReLUMonitor is off: {exc}", stacklevel=2)
            self._disabled = True
            return
        if not has_relu:
            warnings.warn(
                f"DeadReLUMonitor is off: model {self.model.name!r} has no ReLU layer "
                "(Dense/Conv with activation='relu', ReLU or Activation('relu')).",
                stacklevel=2,
            )
            self._disabled = True

    def set_model(self, model):
        super().set_model(model)
        _WANTED[model] = self.x

    def measure(self) -> dict[str, float]:
        model = self.model
        shared = _MEASURED.pop(model, None)
        if shared is not None and shared[0] is self.params and shared[1] == self._step:
            if same_probe(shared[2], self.x):
                return dict(shared[3])
        return dead_relu_fraction(model, self.x, compiled=True)

    def findings_for(self, record: dict) -> list[Finding]:
        return dead_relu_findings(record[self.key], self.dead_threshold, record["step"])

    def plot(self):
        """Dead fraction per layer over training: :func:`labkit.plots.dead_relu_heatmap`."""
        from labkit import plots

        return plots.dead_relu_heatmap(self)


def wanted_probe(model):
    """The probe inputs of a :class:`DeadReLUMonitor` set on ``model`` (``None`` if none)."""
    return _WANTED.get(model)


def offer_dead_fractions(model, params, step: int, x, fractions: dict[str, float]) -> None:
    """Hand the dead fractions measured on probe ``x`` at ``step`` of the fit whose callback
    ``params`` these are to the model's :class:`DeadReLUMonitor`, which takes them once."""
    if params is not None:  # within a fit
        _MEASURED[model] = (params, step, x, fractions)


def same_probe(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two probe batches hold the same inputs."""
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b))
