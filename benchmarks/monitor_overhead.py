"""How much do labkit's monitors slow down ``model.fit``?

Fits an 8-layer ReLU MLP (width 64) on 20,000 x 32 random regression data for 3 epochs (batch
32) under each condition, alternating conditions run by run in one process so that machine load
drifts evenly; the first round is a discarded warm-up. Prints the median wall time per condition,
its ratio to the unmonitored baseline and how many records each monitor took.

Conditions: no monitoring; both probe monitors at their default schedule; both probe monitors
recording every step; an instrumented model (``labkit.instrument``) whose ``GradientMonitor``
records the real batch's gradient norms every step; and the naive callback people write by hand
(an eager, uncompiled gradient computation on the probe after every batch).

Add a condition by adding an entry to ``CONDITIONS``: a name mapped to a function that takes the
probe ``(x, y)`` and returns the list of callbacks for one run (and whether to instrument).

Usage::

    python benchmarks/monitor_overhead.py              # 5 timed rounds
    python benchmarks/monitor_overhead.py --repeats 9
    KERAS_BACKEND=jax python benchmarks/monitor_overhead.py
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

N, FEATURES, DEPTH, WIDTH, EPOCHS, BATCH, PROBE = 20_000, 32, 8, 64, 3, 32, 256
MIN_RECORDS = 8

Probe = tuple[np.ndarray, np.ndarray]
Setup = tuple[list[keras.callbacks.Callback], bool]  # callbacks, instrument the model?


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


CONDITIONS: dict[str, Callable[[Probe], Setup]] = {
    "no monitoring": lambda probe: ([], False),
    "both monitors (default schedule)": _both_monitors,
    "both monitors, every step": lambda probe: _both_monitors(probe, every=1),
    "instrumented, every step": lambda probe: ([GradientMonitor(every=1, verbose=0)], True),
    "naive eager callback, every step": lambda probe: ([NaiveGradientCallback(probe)], False),
}
BASELINE = "no monitoring"
TARGETS = {"both monitors (default schedule)": 1.05, "instrumented, every step": 1.10}


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and a fixed random nonlinear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    w = rng.normal(size=(FEATURES, 1)).astype("float32") / np.sqrt(FEATURES)
    return x, (np.tanh(x @ w) + 0.1 * rng.normal(size=(N, 1))).astype("float32")


def run_once(x, y, callbacks: list[keras.callbacks.Callback], instrument: bool) -> float:
    """Wall time of one ``fit`` of a freshly built, compiled model."""
    keras.utils.set_random_seed(0)
    model = build_mlp(FEATURES, depth=DEPTH, width=WIDTH)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    if instrument:
        labkit.instrument(model)
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
            callbacks, instrument = factory(probe)
            elapsed = run_once(x, y, callbacks, instrument)
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
        f"fit on {backend_name()}: {DEPTH}-layer ReLU MLP (width {WIDTH}), {N:,} x {FEATURES}, "
        f"{EPOCHS} epochs, batch {BATCH}, probe {PROBE}; median of {args.repeats} alternating "
        "runs"
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
    for name, target in TARGETS.items():
        verdict = "meets" if ratios[name] <= target else "MISSES"
        print(f"{name}: {ratios[name]:.3f}x the unmonitored time ({verdict} the {target} target)")
    return ratios


if __name__ == "__main__":
    main()
