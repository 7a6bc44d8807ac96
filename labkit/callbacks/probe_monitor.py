"""The recording schedule and bookkeeping shared by labkit's monitors."""

from __future__ import annotations

import math

import keras
import numpy as np

from labkit.diagnose import Finding


class ProbeMonitor(keras.callbacks.Callback):
    """Base class: records a measurement on a schedule and collects findings.

    Records are taken at the start of training (step 0), at log-spaced early steps
    (1, 2, 4, 8, ...) and then every ``every`` steps, or at every epoch end when ``every`` is
    ``None``. Subclasses implement :meth:`measure` (a ``{layer: value}`` dict) and
    :meth:`findings_for`, and may add entries to a record in :meth:`annotate` and prepare for
    a record in :meth:`before_recorded_step`; ``key`` names the dict in each record and
    ``log_prefix`` the entries added to ``logs`` at epoch end.
    """

    key = "values"
    log_prefix = "value"

    def __init__(self, every: int | None = None, verbose: int = 1):
        super().__init__()
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"every must be a positive number of steps or None, got {every!r}")
        self.every = every
        self.verbose = verbose
        self.history: list[dict] = []
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self._step = 0
        self._epoch = 0
        self._epoch_start = 0
        self._next_due = 0
        self._disabled = False

    # --- what subclasses provide -------------------------------------------------------------
    def measure(self) -> dict[str, float]:
        raise NotImplementedError

    def findings_for(self, record: dict) -> list[Finding]:
        raise NotImplementedError

    def annotate(self, record: dict) -> dict:
        """Extra entries for a new record (default: none)."""
        return {}

    def before_recorded_step(self, step: int, last_of_epoch: bool) -> None:
        """Called just before the training step whose end will be recorded (default: nothing)."""

    def check_model(self) -> None:
        """Validate the probe against ``self.model``; raise ``ValueError`` saying what to pass."""

    # --- Keras hooks ---------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.check_model()
        if self._disabled:
            return
        if not self.history or self.history[-1]["step"] != self._step:
            self.record()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = self._step

    def on_train_batch_begin(self, batch, logs=None):
        if self._disabled:
            return
        upcoming = self._epoch_start + batch + 1
        last_of_epoch = self.every is None and batch + 1 == (self.params or {}).get("steps")
        if upcoming >= self._next_due or last_of_epoch:
            self.before_recorded_step(upcoming, last_of_epoch)

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch_start + batch + 1
        if not self._disabled and self._step >= self._next_due:
            self.record()

    def on_epoch_end(self, epoch, logs=None):
        if self._disabled:
            return
        if self.every is None and self.history[-1]["step"] != self._step:
            self.record()
        if logs is not None and self.history:
            for key, prefix in self.logged.items():
                for layer, value in self.history[-1].get(key, {}).items():
                    logs[f"{prefix}/{layer}"] = value

    @property
    def logged(self) -> dict[str, str]:
        """Record entries copied into ``logs`` at epoch end, with their name prefix."""
        return {self.key: self.log_prefix}

    # --- recording -----------------------------------------------------------------------------
    def record(self) -> dict:
        """Take one measurement now, append it to ``history`` and check it for findings."""
        entry = {"step": self._step, "epoch": self._epoch, self.key: self.measure()}
        entry.update(self.annotate(entry))
        self.history.append(entry)
        self._next_due = self._next_scheduled(self._step)
        for finding in self.findings_for(entry):
            self._report(finding)
        return entry

    def _next_scheduled(self, step: int) -> float:
        """The first step after ``step`` that is due: log-spaced early, then every ``every``."""
        limit = self.every or (self.params or {}).get("steps") or math.inf
        power = 1 if step < 1 else 2 ** (int(math.log2(step)) + 1)
        candidates = [power] if power < limit else []
        if self.every:
            candidates.append((step // self.every + 1) * self.every)
        return min(candidates, default=math.inf)

    def _report(self, finding: Finding) -> None:
        marker = (finding.kind, finding.layer)
        if marker in self._seen:
            return
        self._seen.add(marker)
        self.findings.append(finding)
        if self.verbose:
            print(f"{type(self).__name__}: {finding}")

    def steps(self) -> list[int]:
        """The training steps at which records were taken."""
        return [r["step"] for r in self.history]

    def values(self, layer: str) -> np.ndarray:
        """One layer's value at every record, as an array aligned with :meth:`steps`."""
        return np.array([r[self.key].get(layer, np.nan) for r in self.history], dtype=float)

    def layers(self) -> list[str]:
        """The layers measured, in layer order."""
        return list(self.history[0][self.key]) if self.history else []


def validate_probe_x(x, name: str = "probe") -> np.ndarray:
    """A numeric, non-empty float32 batch, or a ``ValueError`` that says what to pass."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} inputs could not be turned into an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} inputs must be numeric, got an array of dtype {arr.dtype}; pass a slice of "
            "your training inputs, e.g. x_train[:256]"
        )
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(
            f"{name} inputs are empty; pass a few hundred examples, e.g. x_train[:256]"
        )
    return arr.astype("float32") if arr.dtype.kind != "f" else arr.astype("float32", copy=False)


def check_feature_shape(arr: np.ndarray, model: keras.Model, name: str = "probe") -> None:
    """Raise a ``ValueError`` when the probe's per-example shape does not fit the model's input."""
    try:
        expected = model.input_shape
    except (AttributeError, ValueError):  # subclassed / unbuilt model: nothing to compare
        return
    if isinstance(expected, list) or expected is None:
        return
    expected = tuple(expected[1:])
    got = tuple(arr.shape[1:])
    fits = len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected, got))
    if not fits:
        raise ValueError(
            f"{name} examples have shape {got} but model {model.name!r} expects {expected}; "
            "pass inputs shaped like your training data, e.g. x_train[:256]"
        )
