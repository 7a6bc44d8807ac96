"""How much do labkit's monitors slow down ``model.fit``?

Fits an 8-layer ReLU MLP (width 64) on 20,000 x 32 random regression data for 3 epochs (batch
32) under each condition, alternating conditions run by run in one process so that machine load
drifts evenly; the first round is a discarded warm-up. Prints the median wall time per condition,
its ratio to the unmonitored baseline and how many records each monitor took.

Add a condition by adding an entry to ``CONDITIONS``: a name mapped to a function that takes the
probe ``(x, y)`` and returns the list of callbacks for one run.

Usage::

    python benchmarks/monitor_overhead.py              # 5 timed rounds
    python benchmarks/monitor_overhead.py --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

# isort: off
import labkit  # noqa: F401  (first: sets TensorFlow's environment before Keras loads it)

# isort: on
import keras
import numpy as np

from labkit.callbacks import DeadReLUMonitor, GradientMonitor
from labkit.models import build_mlp

N, FEATURES, DEPTH, WIDTH, EPOCHS, BATCH, PROBE = 20_000, 32, 8, 64, 3, 32, 256
TARGET_RATIO = 1.05
MIN_RECORDS = 8

Probe = tuple[np.ndarray, np.ndarray]


def _both_monitors(probe: Probe) -> list[keras.callbacks.Callback]:
    x, y = probe
    return [GradientMonitor(probe=(x, y), verbose=0), DeadReLUMonitor(probe=x, verbose=0)]


CONDITIONS: dict[str, Callable[[Probe], list[keras.callbacks.Callback]]] = {
    "no monitoring": lambda probe: [],
    "both monitors (default schedule)": _both_monitors,
}
BASELINE = "no monitoring"


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and a fixed random nonlinear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    w = rng.normal(size=(FEATURES, 1)).astype("float32") / np.sqrt(FEATURES)
    return x, (np.tanh(x @ w) + 0.1 * rng.normal(size=(N, 1))).astype("float32")


def run_once(x, y, callbacks: list[keras.callbacks.Callback]) -> float:
    """Wall time of one ``fit`` of a freshly built, compiled model."""
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=DEPTH, width=WIDTH)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    start = time.perf_counter()
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0, callbacks=callbacks)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after a warm-up)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    x, y = make_data()
    probe = (x[:PROBE], y[:PROBE])
    times: dict[str, list[float]] = {name: [] for name in CONDITIONS}
    records: dict[str, dict[str, int]] = {}
    for round_ in range(args.repeats + 1):
        for name, factory in CONDITIONS.items():
            callbacks = factory(probe)
            elapsed = run_once(x, y, callbacks)
            if round_ == 0:
                continue  # warm-up: tracing, caches, memory
            times[name].append(elapsed)
            records[name] = {
                type(c).__name__: len(c.history)
                for c in callbacks
                if isinstance(getattr(c, "history", None), list)
            }

    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians[BASELINE]
    print(
        f"fit: {DEPTH}-layer ReLU MLP (width {WIDTH}), {N:,} x {FEATURES}, {EPOCHS} epochs, "
        f"batch {BATCH}, probe {PROBE}; median of {args.repeats} alternating runs"
    )
    header = f"{'condition':<36} {'median s':>9} {'ratio':>7}  records per monitor"
    print(header)
    print("-" * len(header))
    for name, median in medians.items():
        counts = ", ".join(f"{k} {v}" for k, v in records[name].items()) or "-"
        print(f"{name:<36} {median:>9.2f} {median / base:>7.3f}  {counts}")
    ratios = {name: median / base for name, median in medians.items()}
    few = {n: c for n, r in records.items() for c in r.values() if c < MIN_RECORDS}
    if few:
        print(f"WARNING: fewer than {MIN_RECORDS} records in {sorted(few)}")
    worst = ratios["both monitors (default schedule)"]
    verdict = "meets" if worst <= TARGET_RATIO else "MISSES"
    print(f"both monitors: {worst:.3f}x the unmonitored time ({verdict} the {TARGET_RATIO} target)")
    return ratios


if __name__ == "__main__":
    main()
