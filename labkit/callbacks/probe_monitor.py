"""The recording schedule and bookkeeping shared by labkit's monitors."""

from __future__ import annotations

import math

import keras
import numpy as np

from labkit.diagnose import Finding

DEFAULT_MAX_RECORDS = 2000
# Room for the records thinning never drops: step 0, the power-of-two steps and the latest.
MIN_MAX_RECORDS = 64


class ProbeMonitor(keras.callbacks.Callback):
    """Base class: records a measurement on a schedule and collects findings.

    Records are taken at the start of training (step 0), at log-spaced early steps
    (1, 2, 4, 8, ...) and then every ``every`` steps, or at every epoch end when ``every`` is
    ``None``. Subclasses implement :meth:`measure` (a ``{layer: value}`` dict) and
    :meth:`findings_for`, and may add entries to a record in :meth:`annotate` and prepare for
    a record in :meth:`before_recorded_step`; ``key`` names the dict in each record and
    ``log_prefix`` the entries added to ``logs`` at epoch end.

    Reading the records: ``history`` is the list of raw records, each
    ``{"step": 4, "epoch": 0, key: {layer: value}}`` plus the entries :meth:`annotate` added
    (``GradientMonitor``'s ``"update_ratio"``). Read them through these accessors, which
    :mod:`labkit.plots` uses too:

    - :meth:`steps`: the training steps at which records were taken;
    - :meth:`layers`: the layers measured, input side first;
    - :meth:`values`: one layer's value at every record, aligned with :meth:`steps`;
    - :meth:`at`: ``{layer: value}`` of one record by position (``at(0)`` first, ``at(-1)`` last);
    - :meth:`snapshot`: ``{layer: value}`` of the record taken at a given training step.

    Each takes ``key``, the record entry to read: by default the monitor's own quantity
    (``"norms"``, ``"dead_fraction"``); another entry, such as ``"update_ratio"``, reads only
    the records that hold it.

    Bounded memory: ``history`` never holds more than ``max_records`` records (default
    2,000; ``None`` keeps every record). When a new record would exceed it, the monitor
    thins ``history`` deterministically: it keeps step 0, the records at power-of-two steps
    (the log-spaced early part) and the latest, keeps every other one of the rest (those on a
    grid twice as wide) and from then on records half as often. The whole run stays evenly
    covered by about ``max_records / 2`` to ``max_records`` records, at any length. Each
    record is checked for findings as it is taken, before any thinning, and the epoch's
    ``logs`` always get the latest record. Two attributes say what happened: ``stride``, how
    many times sparser than ``every`` (or than every epoch, with ``every=None``) records are
    now taken (1 until ``history`` first fills), and ``records_dropped``, how many records
    thinning removed.

    Example:
        >>> monitor.steps()  # doctest: +SKIP
        [0, 1, 2, 4, 8, 16, 32, 48]
        >>> monitor.at(-1)  # doctest: +SKIP
        {'hidden_1': 0.0021, 'hidden_2': 0.013, 'output': 0.094}
        >>> monitor.snapshot(16)["output"]  # doctest: +SKIP
        0.11
        >>> monitor.values("hidden_1", key="update_ratio")  # doctest: +SKIP
        array([-2.1, -2.4, -2.6, -2.9, -3.1, -3.2, -3.3])
    """

    key = "values"
    log_prefix = "value"

    def __init__(
        self,
        every: int | None = None,
        verbose: int = 1,
        max_records: int | None = DEFAULT_MAX_RECORDS,
    ):
        super().__init__()
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"every must be a positive number of steps or None, got {every!r}")
        self.every = every
        self.verbose = verbose
        self.max_records = validate_max_records(max_records)
        self.stride = 1
        self.records_dropped = 0
        self.history: list[dict] = []
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str]] = set()
        self._step = 0
        self._epoch = 0
        self._epoch_start = 0
        self._begun = 0
        self._per_call = 1
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
    # A record of the weights after step n is taken when step n + 1 begins (or the epoch ends):
    # the same weights, read synchronously between steps, while ``on_train_batch_end`` stays
    # Keras's own, so that ``fit`` keeps dispatching the batch-end hooks asynchronously (it
    # waits for every step's logs once any callback overrides that hook).
    def on_train_begin(self, logs=None):
        self.check_model()
        self._per_call = max(1, int(getattr(self.model, "steps_per_execution", 1) or 1))
        if self._disabled:
            return
        if not self.history or self.history[-1]["step"] != self._step:
            self.record()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = self._step
        self._begun = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._catch_up(self._epoch_start + batch)
        # the steps this call runs: steps_per_execution of them, fewer at the epoch's end
        self._begun = min(batch + self._per_call, (self.params or {}).get("steps") or math.inf)
        if self._disabled:
            return
        upcoming = self._epoch_start + batch + 1
        last_of_epoch = (
            self.every is None
            and batch + 1 == (self.params or {}).get("steps")
            and self._epoch_due(self._epoch)
        )
        if upcoming >= self._next_due or last_of_epoch:
            self.before_recorded_step(upcoming, last_of_epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._catch_up(self._epoch_start + self._begun)
        if self._disabled:
            return
        due = self.every is None and self._epoch_due(epoch)
        if due and self.history[-1]["step"] != self._step:
            self.record()
        if logs is not None and self.history:
            for key, prefix in self.logged.items():
                for layer, value in self.history[-1].get(key, {}).items():
                    logs[f"{prefix}/{layer}"] = value

    def _catch_up(self, done: int) -> None:
        """Count the steps finished so far (``done``) and record when one is due."""
        if done <= self._step:
            return
        self._step = done
        if not self._disabled and self._step >= self._next_due:
            self.record()

    @property
    def logged(self) -> dict[str, str]:
        """Record entries copied into ``logs`` at epoch end, with their name prefix."""
        return {self.key: self.log_prefix}

    # --- recording -----------------------------------------------------------------------------
    def record(self) -> dict:
        """Take one measurement now, append it to ``history`` and check it for findings.

        When ``history`` then holds more than ``max_records`` records it is thinned (see the
        class docstring); the new record is always kept and always checked.
        """
        entry = {"step": self._step, "epoch": self._epoch, self.key: self.measure()}
        entry.update(self.annotate(entry))
        if self.stride > 1 and self.history and not self._kept(self.history[-1]):
            # the previous record, off the grid, was kept only while it was the latest
            self.history.pop()
            self.records_dropped += 1
        self.history.append(entry)
        while self.max_records is not None and len(self.history) > self.max_records:
            self._thin()
        self._next_due = self._next_scheduled(self._step)
        for finding in self.findings_for(entry):
            self._report(finding)
        return entry

    def _thin(self) -> None:
        """Double ``stride`` and drop the records off its grid (never the protected ones).

        Kept: step 0 and the power-of-two steps (fewer than 64 below 2**62, so the loop in
        :meth:`record` ends for any ``max_records >= 64``), the latest record and the records
        on the new grid: steps that are multiples of ``every * stride`` or, with
        ``every=None``, epochs whose number (counted from 1) is a multiple of ``stride``.
        """
        self.stride *= 2
        *older, latest = self.history
        kept = [r for r in older if self._kept(r)]
        self.records_dropped += len(older) - len(kept)
        self.history = [*kept, latest]

    def _kept(self, record: dict) -> bool:
        """Whether thinning at the current ``stride`` keeps ``record`` (the latest aside)."""
        step = record["step"]
        if is_log_spaced(step):
            return True
        if self.every is None:
            return self._epoch_due(record["epoch"])
        return step % (self.every * self.stride) == 0

    def _epoch_due(self, epoch: int) -> bool:
        """With ``every=None``: whether the end of ``epoch`` (0-based) is recorded."""
        return (epoch + 1) % self.stride == 0

    def _next_scheduled(self, step: int) -> float:
        """The first step after ``step`` that is due: log-spaced early, then every
        ``every * stride``."""
        limit = self.every or (self.params or {}).get("steps") or math.inf
        power = 1 if step < 1 else 2 ** (int(math.log2(step)) + 1)
        candidates = [power] if power < limit else []
        if self.every:
            spacing = self.every * self.stride
            candidates.append((step // spacing + 1) * spacing)
        return min(candidates, default=math.inf)

    def _report(self, finding: Finding) -> None:
        marker = (finding.kind, finding.layer)
        if marker in self._seen:
            return
        self._seen.add(marker)
        self.findings.append(finding)
        if self.verbose:
            print(f"{type(self).__name__}: {finding}")

    # --- reading the records -----------------------------------------------------------------
    def _holding(self, key: str | None) -> tuple[str, list[dict]]:
        """The entry name to read (``key`` or the monitor's own) and the records that hold it."""
        key = key or self.key
        return key, [r for r in self.history if key in r]

    @classmethod
    def from_history(cls, history: list[dict]):
        """A monitor holding recorded ``history`` (e.g. read back from JSON), for reading only.

        The accessors and :mod:`labkit.plots` work on it as on a monitor used in ``fit``; it
        has no probe, so it cannot record.

        Example
        -------
        >>> from labkit.callbacks import GradientMonitor
        >>> m = GradientMonitor.from_history([{"step": 0, "epoch": 0, "norms": {"out": 0.5}}])
        >>> m.at(0)
        {'out': 0.5}
        """
        monitor = cls.__new__(cls)
        ProbeMonitor.__init__(monitor, verbose=0)
        monitor.history = [dict(record) for record in history]
        return monitor

    def steps(self, key: str | None = None) -> list[int]:
        """The training steps at which records were taken, in order.

        Parameters
        ----------
        key : str, optional
            Only the records that hold this entry (e.g. ``"update_ratio"``); default: the
            monitor's own quantity, which every record holds.

        Example
        -------
        >>> monitor.steps()  # doctest: +SKIP
        [0, 1, 2, 4, 8, 16, 32, 48]
        """
        return [r["step"] for r in self._holding(key)[1]]

    def layers(self, key: str | None = None) -> list[str]:
        """The layers measured, in layer order (input side first); ``[]`` before any record.

        ``key`` as in :meth:`steps`.

        Example
        -------
        >>> monitor.layers()  # doctest: +SKIP
        ['hidden_1', 'hidden_2', 'output']
        """
        key, records = self._holding(key)
        return list(records[0][key]) if records else []

    def values(self, layer: str, key: str | None = None) -> np.ndarray:
        """One layer's value at every record, as a float array aligned with ``steps(key)``.

        Parameters
        ----------
        layer : str
            A layer name from :meth:`layers`.
        key : str, optional
            The record entry to read, e.g. ``"update_ratio"``; default: the monitor's own.

        Example
        -------
        >>> monitor.values("hidden_1")  # doctest: +SKIP
        array([1.4e-07, 1.3e-07, 1.3e-07, 1.2e-07])
        """
        key, records = self._holding(key)
        measured = self.layers(key)
        if layer not in measured:
            raise ValueError(f"no layer {layer!r} in the {key!r} records; measured: {measured}")
        return np.array([r[key].get(layer, np.nan) for r in records], dtype=float)

    def at(self, index: int, key: str | None = None) -> dict[str, float]:
        """``{layer: value}`` of one record by position: ``at(0)`` the first, ``at(-1)`` the last.

        ``key`` as in :meth:`steps`; positions count only the records that hold it. The dict is
        a copy: changing it leaves ``history`` alone.

        Example
        -------
        >>> monitor.at(0)  # doctest: +SKIP
        {'hidden_1': 1.4e-07, 'hidden_2': 1.2e-06, 'output': 0.43}
        """
        key, records = self._holding(key)
        if not -len(records) <= index < len(records):
            raise IndexError(f"no record {index}: {self._describe(key, records)}")
        return dict(records[index][key])

    def snapshot(self, step: int, key: str | None = None) -> dict[str, float]:
        """``{layer: value}`` of the record taken at training step ``step`` (one of :meth:`steps`).

        ``key`` as in :meth:`steps`. Raises ``ValueError`` when no record was taken at ``step``.

        Example
        -------
        >>> monitor.snapshot(16)  # doctest: +SKIP
        {'hidden_1': 2.1e-07, 'hidden_2': 1.9e-06, 'output': 0.41}
        """
        key, records = self._holding(key)
        for record in reversed(records):
            if record["step"] == step:
                return dict(record[key])
        raise ValueError(f"no record at step {step}: {self._describe(key, records)}")

    def _describe(self, key: str, records: list[dict]) -> str:
        if not records:
            return f"the monitor holds no {key!r} records yet; pass it to model.fit(...) first"
        thinned = (
            f"; {self.records_dropped} more were dropped to keep at most max_records="
            f"{self.max_records}"
            if self.records_dropped
            else ""
        )
        return (
            f"the {len(records)} {key!r} records run from step {records[0]['step']} to "
            f"{records[-1]['step']} (see .steps()){thinned}"
        )


def is_log_spaced(step: int) -> bool:
    """Whether ``step`` is 0 or a power of two: the early steps every monitor records and
    thinning always keeps.

    Example
    -------
    >>> [s for s in range(10) if is_log_spaced(s)]
    [0, 1, 2, 4, 8]
    """
    return step & (step - 1) == 0


def validate_max_records(max_records) -> int | None:
    """``max_records`` itself when it is ``None`` or a whole number >= 64, else a ``ValueError``.

    Example
    -------
    >>> validate_max_records(5000)
    5000
    >>> validate_max_records(10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: max_records must be a whole number of records, at least 64, or None ...
    """
    whole = isinstance(max_records, (int, np.integer)) and not isinstance(max_records, bool)
    if max_records is None or (whole and max_records >= MIN_MAX_RECORDS):
        return None if max_records is None else int(max_records)
    raise ValueError(
        f"max_records must be a whole number of records, at least {MIN_MAX_RECORDS}, or None to "
        f"keep every record, got {max_records!r}; e.g. GradientMonitor(every=1, max_records=5000)"
    )


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
