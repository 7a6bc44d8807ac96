"""How much memory do labkit's monitors hold on a long run, with and without ``max_records``?

Part 1, a real 100,000-step run: an instrumented (``labkit.instrument``) 8-layer ReLU MLP
(width 64) fits 16,000 x 32 random regression data at batch 16 for 100 epochs, with two
``GradientMonitor(every=1)`` side by side in the same ``fit``: one at the default bound
(``max_records=2000``) and one unbounded (``max_records=None``), which keeps a record of every
step. Prints the records each keeps, its ``stride`` and ``records_dropped``, and the bytes its
``history`` holds (the deep size of the records: dicts, floats, strings, lists, each object
counted once), at the end and, for the bounded one, the largest it reached (sampled at every
epoch end).

Part 2, the records with histograms: probe monitors (``GradientMonitor(probe=...)`` with its
gradient histograms, ``ActivationMonitor``, ``DeadReLUMonitor``) on the same network record
every 10th step of a 1,000-step fit; prints the bytes per record and what ``max_records``
records of that size come to.

Takes about 2-4 minutes on 2 CPU cores (TensorFlow; part 1 is almost all of it).

Usage::

    python benchmarks/monitor_memory.py
    python benchmarks/monitor_memory.py --epochs 10        # a 10,000-step run, for a quick look
    KERAS_BACKEND=jax python benchmarks/monitor_memory.py
"""

from __future__ import annotations

import argparse
import sys
import time

import keras
import numpy as np

import labkit
from labkit.backend import backend_name
from labkit.callbacks import ActivationMonitor, DeadReLUMonitor, GradientMonitor
from labkit.callbacks.probe_monitor import DEFAULT_MAX_RECORDS
from labkit.models import build_mlp

N, FEATURES, DEPTH, WIDTH, BATCH, PROBE = 16_000, 32, 8, 64, 16, 256
STEPS_PER_EPOCH = N // BATCH


def deep_size(obj, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj`` and everything it contains (each object counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        size += sum(deep_size(item, seen) for item in obj)
    return size


class LargestHistory(keras.callbacks.Callback):
    """The largest ``monitor.history`` seen at an epoch end: (bytes, records)."""

    def __init__(self, monitor):
        super().__init__()
        self.monitor = monitor
        self.largest = (0, 0)

    def on_epoch_end(self, epoch, logs=None):
        now = (deep_size(self.monitor.history), len(self.monitor.history))
        self.largest = max(self.largest, now)


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and a fixed random nonlinear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    w = rng.normal(size=(FEATURES, 1)).astype("float32") / np.sqrt(FEATURES)
    return x, (np.tanh(x @ w) + 0.1 * rng.normal(size=(N, 1))).astype("float32")


def new_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=DEPTH, width=WIDTH)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    return model


def megabytes(size: float) -> str:
    return f"{size / 1e6:.2f} MB"


def long_run(x, y, epochs: int) -> None:
    model = labkit.instrument(new_model())
    bounded = GradientMonitor(every=1, verbose=0)
    unbounded = GradientMonitor(every=1, max_records=None, verbose=0)
    largest = LargestHistory(bounded)
    start = time.perf_counter()
    model.fit(
        x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[bounded, unbounded, largest]
    )
    seconds = time.perf_counter() - start
    steps = epochs * STEPS_PER_EPOCH
    print(
        f"{steps:,} instrumented steps on {backend_name()}: {DEPTH}-layer ReLU MLP (width "
        f"{WIDTH}), batch {BATCH}, {epochs} epochs, two GradientMonitor(every=1) in one fit "
        f"({seconds:.0f} s)"
    )
    header = (
        f"{'GradientMonitor':<30} {'records':>8} {'stride':>7} {'dropped':>8} {'history':>10} "
        f"{'per record':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, monitor in [
        (f"max_records={DEFAULT_MAX_RECORDS} (default)", bounded),
        ("max_records=None", unbounded),
    ]:
        size, kept = deep_size(monitor.history), len(monitor.history)
        print(
            f"{name:<30} {kept:>8,} {monitor.stride:>7} {monitor.records_dropped:>8,} "
            f"{megabytes(size):>10} {size / kept:>9.0f} B"
        )
    size, kept = largest.largest
    print(
        f"largest bounded history at an epoch end: {megabytes(size)} ({kept:,} records); "
        f"first and last kept steps {bounded.steps()[0]} and {bounded.steps()[-1]:,}"
    )


def histogram_records(x, y) -> None:
    model = new_model()
    probe = (x[:PROBE], y[:PROBE])
    monitors = [
        GradientMonitor(probe=probe, every=10, verbose=0),
        ActivationMonitor(probe=probe[0], every=10, verbose=0),
        DeadReLUMonitor(probe=probe[0], every=10, verbose=0),
    ]
    model.fit(x[: 1000 * BATCH], y[: 1000 * BATCH], batch_size=BATCH, verbose=0, callbacks=monitors)
    print(f"\nprobe monitors, a record every 10th step of 1,000 ({DEPTH + 1} layers)")
    header = f"{'monitor':<28} {'records':>8} {'per record':>11} {'at the default bound':>21}"
    print(header)
    print("-" * len(header))
    for monitor in monitors:
        per_record = deep_size(monitor.history) / len(monitor.history)
        name = type(monitor).__name__ + (" (probe)" if isinstance(monitor, GradientMonitor) else "")
        print(
            f"{name:<28} {len(monitor.history):>8} {per_record:>9.0f} B "
            f"{megabytes(per_record * DEFAULT_MAX_RECORDS):>21}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs", type=int, default=100, help=f"epochs of {STEPS_PER_EPOCH:,} steps (default 100)"
    )
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    x, y = make_data()
    long_run(x, y, args.epochs)
    histogram_records(x, y)


if __name__ == "__main__":
    main()
