"""``GradientMonitor``: per-layer gradient norms while training, vanishing/exploding alerts."""

from __future__ import annotations

import numpy as np

from labkit.callbacks.probe_monitor import ProbeMonitor, check_feature_shape, validate_probe_x
from labkit.diagnose import (
    DEFAULT_EXPLODING_NORM,
    DEFAULT_VANISHING_RATIO,
    Finding,
    exploding_finding,
    vanishing_finding,
)
from labkit.gradients import layer_gradient_norms

ON_EXPLODE = ("warn", "stop", "raise")


class ExplodingGradientError(RuntimeError):
    """Raised by ``GradientMonitor(on_explode="raise")``; the message is the finding's."""


class GradientMonitor(ProbeMonitor):
    """Record the L2 norm of every layer's gradient on a fixed probe batch while ``fit`` runs.

    Keras callbacks never see the optimizer's gradients, so the monitor recomputes them on the
    probe batch, statelessly (training is unaffected), on a schedule: step 0, log-spaced early
    steps (1, 2, 4, 8, ...), then every ``every`` steps or, by default, every epoch end. Each
    record lands in ``history``; at each epoch end the latest norms go into ``logs`` as
    ``grad_norm/<layer>``, so ``History``, ``CSVLogger`` and ``TensorBoard`` pick them up (list
    the monitor before those callbacks).

    Args:
        probe: ``(x, y)``, a batch of training inputs and targets (a few hundred examples).
        every: record every this many steps after the early log-spaced records; ``None``
            records at every epoch end.
        vanishing_ratio: a vanishing finding when the lowest layer's norm falls below this
            fraction of the largest layer's.
        exploding_norm: an exploding finding when any layer's norm is non-finite or above this.
        on_explode: ``"warn"`` (record the finding), ``"stop"`` (also set
            ``model.stop_training``) or ``"raise"`` (raise :class:`ExplodingGradientError`).
        verbose: print each finding once, when it is first seen.

    Example:
        >>> monitor = GradientMonitor(probe=(x_train[:256], y_train[:256]))  # doctest: +SKIP
        >>> model.fit(x_train, y_train, epochs=5, callbacks=[monitor])  # doctest: +SKIP
        >>> monitor.history[-1]["norms"]  # doctest: +SKIP
        {'hidden_1': 0.0021, 'hidden_2': 0.013, 'output': 0.094}
        >>> monitor.plot()  # doctest: +SKIP
    """

    key = "norms"
    log_prefix = "grad_norm"

    def __init__(
        self,
        probe,
        every: int | None = None,
        vanishing_ratio: float = DEFAULT_VANISHING_RATIO,
        exploding_norm: float = DEFAULT_EXPLODING_NORM,
        on_explode: str = "warn",
        verbose: int = 1,
    ):
        super().__init__(every=every, verbose=verbose)
        if on_explode not in ON_EXPLODE:
            raise ValueError(f"on_explode must be one of {ON_EXPLODE}, got {on_explode!r}")
        if not isinstance(probe, (tuple, list)) or len(probe) != 2:
            raise ValueError(
                "probe must be a pair (x, y) of inputs and targets, e.g. "
                "probe=(x_train[:256], y_train[:256])"
            )
        x = validate_probe_x(probe[0])
        y = np.asarray(probe[1])
        if y.dtype.kind not in "biuf":
            raise ValueError(f"probe targets must be numeric, got an array of dtype {y.dtype}")
        if len(y) != len(x):
            raise ValueError(
                f"probe x has {len(x)} examples but y has {len(y)}; slice both the same way, "
                "e.g. probe=(x_train[:256], y_train[:256])"
            )
        self.x, self.y = x, y
        self.vanishing_ratio = vanishing_ratio
        self.exploding_norm = exploding_norm
        self.on_explode = on_explode

    def check_model(self) -> None:
        check_feature_shape(self.x, self.model)

    def measure(self) -> dict[str, float]:
        return layer_gradient_norms(self.model, self.x, self.y)

    def findings_for(self, values: dict[str, float], step: int) -> list[Finding]:
        found = []
        exploding = exploding_finding(values, self.exploding_norm, step)
        if exploding is not None:
            found.append(exploding)
            if self.on_explode == "stop":
                self.model.stop_training = True
            elif self.on_explode == "raise":
                raise ExplodingGradientError(str(exploding))
        vanishing = vanishing_finding(values, self.vanishing_ratio, step)
        if vanishing is not None:
            found.append(vanishing)
        return found

    def plot(self):
        """Gradient norm per layer over training: :func:`labkit.plots.gradient_norms`."""
        from labkit import plots

        return plots.gradient_norms(self)
