"""How much do labkit's monitors slow down ``model.fit``?

Fits an 8-layer ReLU MLP (width 64) on 20,000 x 32 random regression data for 3 epochs under
each condition, alternating conditions run by run in one process so that machine load drifts
evenly; the first round is a discarded warm-up. Prints the median wall time per condition, its
ratio to the unmonitored baseline, the ratio of the fastest runs (the least disturbed by other
load on the machine) and how many records each monitor took.

Two set-ups (``--setup``, both by default): ``batch32``, 1,875 steps of batch 32 (a 1.5-5 s fit,
the README's original table), and ``batch64``, 939 steps of batch 64: a short fit of about a
second, where the monitors' fixed costs (tracing the probe function, each record's host copy)
weigh most.

Conditions: no monitoring; both probe monitors at their default schedule; both probe monitors
recording every step; an instrumented model (``labkit.instrument``) whose ``GradientMonitor``
records the real batch's gradient norms every step, and the same with the batch's dead-unit
fractions (``instrument(model, activations=True)``); and the naive callback people write by hand
(an eager, uncompiled gradient computation on the probe after every batch).

Add a condition by adding an entry to ``CONDITIONS``: a short id mapped to its name and a
function that takes the probe ``(x, y)`` and returns the list of callbacks for one run (and
how to instrument: ``False``, ``True`` or ``"activations"``). ``--conditions`` picks some of
them (the baseline always runs).

Usage::

    python benchmarks/monitor_overhead.py              # both set-ups, 5 timed rounds
    python benchmarks/monitor_overhead.py --repeats 9 --setup batch64
    python benchmarks/monitor_overhead.py --conditions default,instrumented
    KERAS_BACKEND=jax python benchmarks/monitor_overhead.py
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/monitor_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import keras
import numpy as np

import labkit
from labkit.backend import backend_name
from labkit.callbacks import DeadReLUMonitor, GradientMonitor
from labkit.gradients import layer_of_variables
from labkit.models import build_mlp

N, FEATURES, DEPTH, WIDTH, EPOCHS, PROBE = 20_000, 32, 8, 64, 3, 256
SETUPS = {"batch32": 32, "batch64": 64}  # set-up -> batch size
MIN_RECORDS = 8

Probe = tuple[np.ndarray, np.ndarray]
Setup = tuple[list[keras.callbacks.Callback], bool | str]  # callbacks, instrument the model?


def _both_monitors(probe: Probe, every: int | None = None) -> Setup:
    x, y = probe
    monitors = [
        GradientMonitor(probe=(x, y), every=every, verbose=0),
        DeadReLUMonitor(probe=x, every=every, verbose=0),
    ]
    return monitors, False


class NaiveGradientCallback(keras.callbacks.Callback):
    """What people write by hand: eager (uncompiled) gradients on the probe after every batch."""

    def __init__(self, probe: Probe):
        super().__init__()
        self.x, self.y = probe
        self.history: list[dict] = []

    def on_train_batch_end(self, batch, logs=None):
        grads = _eager_gradients(self.model, self.x, self.y)
        squares = [float(np.sum(np.square(keras.ops.convert_to_numpy(g)))) for g in grads]
        self.history.append(
            {
                name: float(np.sqrt(sum(squares[i] for i in idx)))
                for name, idx in layer_of_variables(self.model).items()
            }
        )


def _eager_gradients(model, x, y) -> list:
    variables = model.trainable_variables
    if backend_name() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
        return tape.gradient(loss, variables)
    if backend_name() == "jax":
        import jax

        def loss_of(values):
            y_pred, _ = model.stateless_call(values, model.non_trainable_variables, x)
            return keras.ops.mean(keras.losses.mean_squared_error(y, y_pred))

        return jax.grad(loss_of)([v.value for v in variables])
    import torch

    model.zero_grad()
    loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    return torch.autograd.grad(loss, [v.value for v in variables])


CONDITIONS: dict[str, tuple[str, Callable[[Probe], Setup]]] = {
    "none": ("no monitoring", lambda probe: ([], False)),
    "default": ("both monitors (default schedule)", _both_monitors),
    "probe-every-step": (
        "both monitors, every step",
        lambda probe: _both_monitors(probe, every=1),
    ),
    "instrumented": (
        "instrumented, every step",
        lambda probe: ([GradientMonitor(every=1, verbose=0)], True),
    ),
    "instrumented-activations": (
        "instrumented, dead units, every step",
        lambda probe: ([GradientMonitor(every=1, verbose=0)], "activations"),
    ),
    "naive": (
        "naive eager callback, every step",
        lambda probe: ([NaiveGradientCallback(probe)], False),
    ),
}
BASELINE = "none"
TARGETS = {"default": 1.05, "instrumented": 1.05, "instrumented-activations": 1.05}


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and a fixed random nonlinear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    w = rng.normal(size=(FEATURES, 1)).astype("float32") / np.sqrt(FEATURES)
    return x, (np.tanh(x @ w) + 0.1 * rng.normal(size=(N, 1))).astype("float32")


def run_once(
    x, y, callbacks: list[keras.callbacks.Callback], instrument: bool | str, batch: int
) -> float:
    """Wall time of one ``fit`` of a freshly built, compiled model."""
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=DEPTH, width=WIDTH)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    if instrument:
        labkit.instrument(model, activations=instrument == "activations")
    start = time.perf_counter()
    model.fit(x, y, epochs=EPOCHS, batch_size=batch, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after a warm-up)")
    parser.add_argument(
        "--setup", choices=[*SETUPS, "both"], default="both", help="batch32, batch64 or both"
    )
    parser.add_argument(
        "--conditions",
        default=",".join(CONDITIONS),
        help=f"comma-separated ids among {', '.join(CONDITIONS)} (default: all)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    chosen = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(CONDITIONS))
    if unknown:
        parser.error(f"unknown conditions {unknown}; choose among {list(CONDITIONS)}")
    chosen = [c for c in CONDITIONS if c == BASELINE or c in chosen]
    setups = list(SETUPS) if args.setup == "both" else [args.setup]
    return {name: measure(SETUPS[name], chosen, args.repeats) for name in setups}


def measure(batch: int, chosen: list[str], repeats: int) -> dict[str, float]:
    """Time the ``chosen`` conditions at ``batch``, alternating; print and return the ratios."""
    x, y = make_data()
    probe = (x[:PROBE], y[:PROBE])
    times: dict[str, list[float]] = {cid: [] for cid in chosen}
    records: dict[str, dict[str, int]] = {}
    for round_ in range(repeats + 1):
        for cid in chosen:
            callbacks, instrument = CONDITIONS[cid][1](probe)
            elapsed = run_once(x, y, callbacks, instrument, batch)
            if round_ == 0:
                continue  # warm-up: tracing, caches, memory
            times[cid].append(elapsed)
            records[cid] = {
                type(c).__name__: len(c.history)
                for c in callbacks
                if isinstance(getattr(c, "history", None), list)
            }

    medians = {cid: statistics.median(t) for cid, t in times.items()}
    fastest = {cid: min(t) for cid, t in times.items()}
    base = medians[BASELINE]
    steps = EPOCHS * -(-N // batch)
    print(
        f"fit on {backend_name()}: {DEPTH}-layer ReLU MLP (width {WIDTH}), {N:,} x {FEATURES}, "
        f"{EPOCHS} epochs, batch {batch} ({steps:,} steps), probe {PROBE}; median of {repeats} "
        "alternating runs (and the ratio of the fastest runs, which a busy machine slows least)"
    )
    header = f"{'condition':<36} {'median s':>9} {'ratio':>7} {'fastest':>8}  records per monitor"
    print(header)
    print("-" * len(header))
    for cid, median in medians.items():
        counts = ", ".join(f"{k} {v}" for k, v in records[cid].items()) or "-"
        best = fastest[cid] / fastest[BASELINE]
        print(
            f"{CONDITIONS[cid][0]:<36} {median:>9.2f} {median / base:>7.3f} {best:>8.3f}  {counts}"
        )
    ratios = {cid: median / base for cid, median in medians.items()}
    few = {cid: c for cid, r in records.items() for c in r.values() if c < MIN_RECORDS}
    if few:
        print(f"WARNING: fewer than {MIN_RECORDS} records in {sorted(few)}")
    for cid, target in TARGETS.items():
        if cid in ratios:
            verdict = "meets" if ratios[cid] <= target else "MISSES"
            print(
                f"{CONDITIONS[cid][0]}: {ratios[cid]:.3f}x the unmonitored time ({verdict} the "
                f"{target} target)"
            )
    print()
    return ratios


if __name__ == "__main__":
    main()
