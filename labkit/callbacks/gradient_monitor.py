"""``GradientMonitor``: per-layer gradient norms while training, vanishing/exploding alerts."""

from __future__ import annotations

import collections
import math
import threading

import numpy as np

from labkit.activations import DEFAULT_BINS, dead_unit_counts, finite_histogram, relu_taps
from labkit.backend import loss_and_gradients, probe_pass, variable_values
from labkit.callbacks.dead_relu_monitor import offer_dead_fractions, same_probe, wanted_probe
from labkit.callbacks.probe_monitor import (
    DEFAULT_MAX_RECORDS,
    ProbeMonitor,
    check_feature_shape,
    is_log_spaced,
    validate_probe_x,
)
from labkit.diagnose import (
    DEFAULT_EXPLODING_NORM,
    DEFAULT_UPDATE_RATIO_RANGE,
    DEFAULT_VANISHING_RATIO,
    Finding,
    clipping_finding,
    exploding_finding,
    update_ratio_findings,
    vanishing_finding,
)
from labkit.gradients import layer_of_variables, norms_from_gradients
from labkit.instrumentation import (
    LOG_KEY,
    decode,
    is_instrumented,
    setup,
    steps_recorded,
    tapped_layers,
)

ON_EXPLODE = ("warn", "stop", "raise")
# An instrumented monitor files each step's row as it arrives and turns rows into records this
# many steps at a time (and at every epoch end), between steps.
BLOCK = 64


class ExplodingGradientError(RuntimeError):
    """Raised by ``GradientMonitor(on_explode="raise")``; the message is the finding's."""


class GradientMonitor(ProbeMonitor):
    """Record the L2 norm of every layer's gradient while ``fit`` runs, and each update's size.

    Keras callbacks never see the optimizer's gradients, so by default the monitor recomputes
    them on a fixed probe batch, statelessly (training is unaffected), on a schedule: step 0,
    log-spaced early steps (1, 2, 4, 8, ...), then every ``every`` steps or, by default, every
    epoch end. On a model passed through :func:`labkit.instrument` no probe is needed: the
    monitor reads the norms of the real training batch that the train step already computed
    (``every=1`` then records every step at almost no cost: the step's row is filed as it
    ends, on Keras's worker threads where the backend allows, so ``fit`` never waits for a
    step, and rows become records 64 steps at a time and at every epoch end).

    Each record in ``history`` holds ``norms`` and, at log-spaced steps and epoch ends after the
    first update, ``update_ratio``: per layer, ``log10(std(Δw) / std(w))`` of the optimizer
    update just before the record (weight snapshots cost a copy of the weights, so they are not
    taken every step) — a healthy learning rate gives about −3; far above means the learning
    rate is likely too high, far below means it is too low or the layer's gradient vanished.
    At each epoch end the latest values go into ``logs`` as ``grad_norm/<layer>`` and
    ``update_ratio/<layer>``, so ``History``, ``CSVLogger`` and ``TensorBoard`` pick them up
    (list the monitor before them). Read the records with the accessors of
    :class:`~labkit.callbacks.probe_monitor.ProbeMonitor`: ``steps()``, ``layers()``,
    ``values(layer)``, ``at(index)``, ``snapshot(step)``, each with ``key="update_ratio"`` for
    the update ratios. With a probe, each record also holds ``grad_hist``, per layer the
    histogram ``(counts, edges)`` of its gradient entries (``at(-1, key="grad_hist")``), which
    :class:`~labkit.callbacks.TensorBoardHistograms` writes for TensorBoard.

    What an instrumented record means under each training set-up (a probe record is always the
    float32-loss gradient of the probe batch at the current weights, on one device):

    ===========================  ==========================================================
    set-up                       instrumented record
    ===========================  ==========================================================
    plain ``fit``                ``norms``: the step's batch gradient
    ``MirroredStrategy``, JAX    ``norms``: the all-reduced gradient of the global batch,
    ``DataParallel``             as one device computes it
    mixed precision              ``norms``: the *unscaled* gradient; ``loss_scale``; on an
    (``mixed_float16``)          overflow ``skipped`` and ``overflow`` (no exploding finding:
                                 the loss scale halves and training goes on; at a loss scale
                                 <= 1 it is a real explosion)
    ``steps_per_execution > 1``  every step, as with 1 (no ``update_ratio``: the weights
                                 between steps are never seen)
    gradient accumulation        ``norms``: the micro-batch's; ``applied_norms``: the mean
                                 gradient applied, on update steps only
    clipping                     ``norms``: before clipping; ``applied_norms``: after;
                                 ``clipped``: whether it bit; a ``clipping`` finding at the
                                 end of ``fit`` says how often
    ===========================  ==========================================================

    ``applied_norms`` also go into the epoch's ``logs`` as ``applied_grad_norm/<layer>``. On a
    model instrumented with ``labkit.instrument(model, activations=True)``, each record also
    holds the real batch's ``dead_fraction`` (ReLU layers) and ``saturated_fraction`` (sigmoid
    and tanh layers), logged as ``batch_dead_relu/<layer>`` and ``batch_saturated/<layer>``.

    Args:
        probe: ``(x, y)``, a batch of training inputs and targets (a few hundred examples);
            ``None`` on an instrumented model.
        every: record every this many steps after the early log-spaced records; ``None``
            records at every epoch end.
        vanishing_ratio: a vanishing finding when the lowest layer's norm falls below this
            fraction of the largest layer's.
        exploding_norm: an exploding finding when any layer's norm is non-finite or above this.
        on_explode: ``"warn"`` (record the finding), ``"stop"`` (also set
            ``model.stop_training``; the record after step n is taken as step n + 1 begins,
            so ``fit`` stops after step n + 1) or ``"raise"`` (raise
            :class:`ExplodingGradientError` before another step runs). On an instrumented
            model, ``"stop"`` and ``"raise"`` make ``fit`` wait for each step's row.
        update_ratio_range: ``(low, high)`` bounds on the log10 update ratio outside which a
            ``learning_rate`` finding is made.
        verbose: print each finding once, when it is first seen.
        max_records: the most records ``history`` holds (default 2,000: at most 1.4 MB for a
            9-layer model instrumented, 36 MB with a probe's histograms); past it, the
            records are thinned evenly and taken half as often (``stride``,
            ``records_dropped``; see :class:`~labkit.callbacks.probe_monitor.ProbeMonitor`).
            ``None`` keeps every record. Findings, the epoch ``logs`` and the ``clipping``
            count see every record taken, thinned or not.

    Example:
        >>> monitor = GradientMonitor(probe=(x_train[:256], y_train[:256]))  # doctest: +SKIP
        >>> model.fit(x_train, y_train, epochs=5, callbacks=[monitor])  # doctest: +SKIP
        >>> monitor.at(-1)  # the last record's norms  # doctest: +SKIP
        {'hidden_1': 0.0021, 'hidden_2': 0.013, 'output': 0.094}
        >>> monitor.values("hidden_1", key="update_ratio")  # doctest: +SKIP
        array([-2.1, -2.4, -2.6, -2.9, -3.1, -3.2, -3.3])
        >>> monitor.plot()  # doctest: +SKIP
        >>> every_step = GradientMonitor(every=1)  # on labkit.instrument(model)  # doctest: +SKIP
        >>> model.fit(x_train, y_train, epochs=100, callbacks=[every_step])  # doctest: +SKIP
        >>> len(every_step.history), every_step.stride  # 100,000 steps  # doctest: +SKIP
        (1568, 64)
    """

    key = "norms"
    log_prefix = "grad_norm"

    def __init__(
        self,
        probe=None,
        every: int | None = None,
        vanishing_ratio: float = DEFAULT_VANISHING_RATIO,
        exploding_norm: float = DEFAULT_EXPLODING_NORM,
        on_explode: str = "warn",
        update_ratio_range: tuple[float, float] = DEFAULT_UPDATE_RATIO_RANGE,
        verbose: int = 1,
        max_records: int | None = DEFAULT_MAX_RECORDS,
    ):
        super().__init__(every=every, verbose=verbose, max_records=max_records)
        if on_explode not in ON_EXPLODE:
            raise ValueError(f"on_explode must be one of {ON_EXPLODE}, got {on_explode!r}")
        self.x = self.y = None
        if probe is not None:
            self.x, self.y = _validate_probe(probe)
        else:
            self.on_train_batch_end = self._file_row
            # Keras then dispatches batch ends on worker threads and never waits for a step
            # (where its backend allows); "stop" and "raise" want each step's row at once.
            self.async_safe = on_explode == "warn"
        self.vanishing_ratio = vanishing_ratio
        self.exploding_norm = exploding_norm
        self.on_explode = on_explode
        self.update_ratio_range = update_ratio_range
        self._row: dict | None = None
        self._setup: dict = {}
        self._seen_steps = 0
        self._layers: list[str] = []
        self._tapped: dict[str, str] = {}
        self._weights_before: tuple[int, dict[str, np.ndarray]] | None = None
        # Instrumented: rows filed by batch-end hooks, maybe out of order (step, row);
        # the first steps of the calls not yet turned into records; update ratios by step.
        self._lock = threading.Lock()
        self._filed: list[tuple[int, object]] = []
        self._begins: collections.deque[int] = collections.deque()
        self._ratios: dict[int, dict[str, float]] = {}
        # Kept apart from ``history``, which thinning shortens: the latest applied norms and,
        # over every record taken, how many said whether clipping bit and how many said it did.
        self._last_applied: dict[str, float] | None = None
        self._clip_records = self._clipped = 0

    @property
    def uses_probe(self) -> bool:
        """Whether norms come from the probe batch (else from an instrumented train step)."""
        return self.x is not None

    @property
    def logged(self) -> dict[str, str]:
        return {
            "norms": "grad_norm",
            "update_ratio": "update_ratio",
            "dead_fraction": "batch_dead_relu",
            "saturated_fraction": "batch_saturated",
        }

    # --- hooks -------------------------------------------------------------------------------
    def check_model(self) -> None:
        if self.uses_probe:
            check_feature_shape(self.x, self.model)
        elif not is_instrumented(self.model):
            raise ValueError(
                "GradientMonitor() without a probe reads the gradients the training step already "
                "computes: call labkit.instrument(model) before fit, or pass a probe batch, "
                "e.g. GradientMonitor(probe=(x_train[:256], y_train[:256]))"
            )

    def on_train_begin(self, logs=None):
        self._ratios = {}
        if self.uses_probe:
            super().on_train_begin(logs)
        else:  # no gradient exists before the first step: the first record comes at step 1
            self.check_model()
            self._layers = list(layer_of_variables(self.model))
            self._tapped = tapped_layers(self.model)
            self._setup = setup(self.model)
            self._seen_steps = steps_recorded(self.model)
            self._next_due = max(self._next_due, self._step + 1)
            self._filed = []
            self._begins.clear()

    def on_train_batch_begin(self, batch, logs=None):
        super().on_train_batch_begin(batch, logs)
        if not self.uses_probe:
            self._begins.append(self._epoch_start + batch)

    def _file_row(self, batch, logs=None):
        """``on_train_batch_end`` of an instrumented model's monitor: keep the step's row.

        Set on the instance only then (with a probe the hook stays Keras's own). It may run on
        a worker thread, after later steps began; :meth:`_take_filed` puts the rows in order.
        """
        with self._lock:
            self._filed.append((self._epoch_start + batch, (logs or {}).get(LOG_KEY)))

    def _catch_up(self, done: int) -> None:
        self._snapshot_after(done)
        if self.uses_probe:
            super()._catch_up(done)
        elif len(self._filed) >= BLOCK or self.on_explode != "warn":
            self._take_filed()  # instrumented: steps are counted as their rows are taken

    def _take_filed(self) -> None:
        """Turn the filed rows into records, oldest first, up to the first call whose row is
        still on its way (Keras files a call's row under its first or its last step)."""
        with self._lock:
            self._filed.sort(key=lambda filed: filed[0])
            taken = 0
            for step, raw in self._filed:
                if len(self._begins) > 1 and step >= self._begins[1]:
                    break  # an earlier call's row has not arrived
                if self._begins:
                    self._begins.popleft()
                taken += 1
                self._take_rows(raw)
            del self._filed[:taken]

    def _take_rows(self, raw) -> None:
        """Count the steps of one call's row(s) and record the due ones."""
        if self._disabled:
            return
        rows = [None] if raw is None else decode(self._layers, {LOG_KEY: raw}, self._tapped)
        if len(rows) > 1 or (rows[0] is not None and rows[0]["step"] > 0):
            # steps_per_execution > 1: the logs hold the last steps, numbered; take the new ones
            rows = [r for r in rows if r["step"] > self._seen_steps]
            self._seen_steps = max([self._seen_steps] + [int(r["step"]) for r in rows])
        for row in rows:
            self._step += 1
            self._row = row
            if self._step >= self._next_due:
                self.record()

    def _snapshot_after(self, done: int) -> None:
        """The update ratios of a step whose weights were copied before it ran, now that it has
        run; its record takes them (instrumented: maybe later, from a block of rows)."""
        if self._weights_before is not None and self._weights_before[0] <= done:
            step, before = self._weights_before
            self._weights_before = None
            self._ratios[step] = update_to_weight_ratios(before, self._layer_weights())

    def on_epoch_end(self, epoch, logs=None):
        if not self.uses_probe:
            self._snapshot_after(self._epoch_start + self._begun)
            self._take_filed()
        super().on_epoch_end(epoch, logs)
        applied = self._last_applied  # the last update's, also when the epoch ends mid-way
        if logs is not None and applied is not None:
            for layer, value in applied.items():
                logs[f"applied_grad_norm/{layer}"] = value

    def on_train_end(self, logs=None):
        if not self.uses_probe:
            self._take_filed()
        clip = None if self.uses_probe else self._setup["clipping"]
        if clip is not None and self._clipped:
            self._report(clipping_finding(self._clipped, self._clip_records, *clip))

    def record(self) -> dict:
        entry = super().record()
        if "applied_norms" in entry:
            self._last_applied = entry["applied_norms"]
        if "clipped" in entry:
            self._clip_records += 1
            self._clipped += bool(entry["clipped"])
        return entry

    def before_recorded_step(self, step: int, last_of_epoch: bool) -> None:
        # the weights between steps are never seen. (self._per_call, not self.model: on JAX,
        # Keras's Callback.model copies the whole training state back into the model first)
        if self._per_call > 1:
            return
        if is_log_spaced(step) or last_of_epoch:
            self._weights_before = (step, self._layer_weights())

    # --- measuring ----------------------------------------------------------------------------
    def measure(self) -> dict[str, float]:
        if self.uses_probe:
            return self._probe_norms()
        if self._row is None:
            return dict.fromkeys(self._layers, math.nan)
        norms = dict(self._row["norms"])
        if self._row["nonfinite"] and all(math.isfinite(v) for v in norms.values()):
            norms[next(iter(norms))] = math.inf  # a NaN entry can hide in a finite-looking norm
        return norms

    def _probe_norms(self) -> dict[str, float]:
        """The probe's norms (and histograms) from one compiled pass, which also counts the dead
        units of a :class:`DeadReLUMonitor` on the same model and probe inputs."""
        model = self.model
        wanted = wanted_probe(model)
        taps = None
        if wanted is not None and same_probe(wanted, self.x):
            try:
                taps = relu_taps(model, self.x)
            except ValueError:  # subclassed: the DeadReLUMonitor is off
                taps = None
        if taps is None:
            _, grads = loss_and_gradients(model, self.x, self.y)
        else:
            _, grads, counts, finite = probe_pass(
                model, self.x, self.y, taps.model, dead_unit_counts
            )
            if finite:  # else the DeadReLUMonitor measures the NaN outputs itself, eagerly
                offer_dead_fractions(model, self.params, self._step, self.x, taps.fractions(counts))
        self._grad_hist = gradient_histograms(model, grads)
        return norms_from_gradients(model, grads)

    def annotate(self, record: dict) -> dict:
        extra = {"grad_hist": self._grad_hist} if self.uses_probe else self._step_entries()
        ratios = self._ratios.pop(record["step"], None)
        for step in [s for s in self._ratios if s < record["step"]]:  # steps thinning skipped
            del self._ratios[step]
        if ratios is None or not self._updated(extra):
            return extra
        return {**extra, "update_ratio": ratios}

    def _updated(self, entries: dict) -> bool:
        """Whether the optimizer changed the weights at this step (not skipped, not mid-way)."""
        if entries.get("skipped"):
            return False
        return not self._setup.get("accumulation") or "applied_norms" in entries

    def _step_entries(self) -> dict:
        """What an instrumented record says beyond ``norms``, for the optimizer's set-up."""
        row, entries = self._row, {}
        if row is None:
            return entries
        for key in ("dead_fraction", "saturated_fraction"):
            if row.get(key):
                entries[key] = dict(row[key])
        applied = row["applied_norms"]
        changes = self._setup["clipping"] or self._setup["accumulation"]
        if changes and not all(math.isnan(v) for v in applied.values()):
            entries["applied_norms"] = dict(applied)
        if self._setup["clipping"] and not row["skipped"]:
            entries["clipped"] = row["clipped"]
        if self._setup["loss_scaled"]:
            entries["loss_scale"] = row["loss_scale"]
            if row["skipped"]:
                entries["skipped"] = True
                # the scaled gradient overflowed: the loss scale halves, the next step goes on
                entries["overflow"] = row["loss_scale"] > 1
        return entries

    def _layer_weights(self) -> dict[str, np.ndarray]:
        model = self.model  # on JAX, this brings the training state back into the variables
        values = variable_values(model.trainable_variables)
        return {
            layer: np.concatenate([values[i].ravel() for i in idx])
            for layer, idx in layer_of_variables(model).items()
        }

    def findings_for(self, record: dict) -> list[Finding]:
        values, step = record["norms"], record["step"]
        found = []
        if record.get("overflow"):  # mixed precision recovers by itself: not an explosion
            return found
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
        if "update_ratio" in record:
            found.extend(
                update_ratio_findings(record["update_ratio"], self.update_ratio_range, step)
            )
        return found

    def plot(self):
        """Gradient norm per layer over training: :func:`labkit.plots.gradient_norms`."""
        from labkit import plots

        return plots.gradient_norms(self)


def gradient_histograms(
    model, grads: list[np.ndarray], bins: int = DEFAULT_BINS
) -> dict[str, tuple[list[int], list[float]]]:
    """Per layer ``(counts, edges)`` of every entry of its weights' gradients (finite ones), as
    lists so that records stay JSON-friendly.

    Example
    -------
    >>> counts, edges = gradient_histograms(model, grads)["hidden_1"]  # doctest: +SKIP
    """
    return {
        layer: tuple(
            part.tolist()
            for part in finite_histogram(np.concatenate([np.ravel(grads[i]) for i in idx]), bins)
        )
        for layer, idx in layer_of_variables(model).items()
    }


def update_to_weight_ratios(
    before: dict[str, np.ndarray], after: dict[str, np.ndarray]
) -> dict[str, float]:
    """Per layer ``log10(std(after - before) / std(after))`` (−inf when nothing moved).

    Example
    -------
    >>> w = np.array([1.0, -1.0, 1.0, -1.0])
    >>> update_to_weight_ratios({"l": w}, {"l": w * 1.001})["l"]  # doctest: +ELLIPSIS
    -3.0...
    """
    ratios = {}
    for layer, now in after.items():
        with np.errstate(all="ignore"):  # exploded weights: inf/NaN spreads are reported as NaN
            scale = float(np.std(now))
            change = float(np.std(now - before[layer]))
        if scale == 0 or not math.isfinite(scale) or not math.isfinite(change):
            ratios[layer] = math.nan
        elif change == 0:
            ratios[layer] = -math.inf
        else:
            ratios[layer] = math.log10(change / scale)
    return ratios


def _validate_probe(probe) -> tuple[np.ndarray, np.ndarray]:
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
    return x, y
