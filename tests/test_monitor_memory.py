"""Bounded memory: monitors keep at most ``max_records`` records on long runs, evenly spread,
and lose no finding, log value or clipping count to the thinning."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import labkit
from labkit.callbacks import (
    ActivationMonitor,
    DeadReLUMonitor,
    GradientMonitor,
    TensorBoardHistograms,
)
from labkit.models import build_mlp, reinitialize

pytestmark = pytest.mark.backends

N, FEATURES, BATCH, EPOCHS = 512, 10, 32, 64
STEPS = N // BATCH * EPOCHS  # 1,024 real training steps
BOUND = 64
# The run below (SGD at 0.1) has one gradient spike, at step 6 (20.0 on every backend);
# every other step stays below 11.3.
SPIKE_STEP, EXPLODING_NORM = 6, 15.0


def _regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    return x, x.sum(axis=1, keepdims=True).astype("float32")


def _model(optimizer) -> keras.Model:
    model = build_mlp(FEATURES, depth=2, width=16)
    reinitialize(model, seed=0)  # the same weights on every backend
    model.compile(optimizer=optimizer, loss="mse")
    return labkit.instrument(model)


def _fit(model, callbacks, epochs=EPOCHS, batch_size=BATCH):
    x, y = _regression()
    return model.fit(
        x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, callbacks=callbacks
    )


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """1,024 instrumented steps, every monitor recording every step: bounded and unbounded."""
    x, _ = _regression()
    bounded = GradientMonitor(every=1, max_records=BOUND, exploding_norm=EXPLODING_NORM, verbose=0)
    unbounded = GradientMonitor(every=1, max_records=None, exploding_norm=EXPLODING_NORM, verbose=0)
    dead = DeadReLUMonitor(probe=x[:128], every=1, max_records=BOUND, verbose=0)
    acts = ActivationMonitor(probe=x[:128], every=1, max_records=BOUND, verbose=0)
    log_dir = tmp_path_factory.mktemp("tb")
    hists = TensorBoardHistograms([acts], log_dir=str(log_dir))
    history = _fit(_model(keras.optimizers.SGD(0.1)), [bounded, unbounded, dead, acts, hists])
    return bounded, unbounded, dead, acts, history, log_dir


def _assert_evenly_thinned(monitor, first: int, every: int = 1) -> None:
    """At most BOUND records from ``first`` to the end: the power-of-two steps, then a grid."""
    steps = monitor.steps()
    spacing = every * monitor.stride
    assert BOUND // 2 < len(steps) <= BOUND
    assert monitor.stride > 1 and monitor.records_dropped > 0
    assert steps[0] == first
    assert STEPS - spacing < steps[-1] <= STEPS  # the whole run, up to its last stride
    assert all(b > a for a, b in zip(steps, steps[1:]))
    powers = [s for s in steps if s & (s - 1) == 0]
    assert powers == [s for s in [0, *(2**k for k in range(11))] if first <= s <= STEPS]
    grid = [s for s in steps if s >= spacing]
    assert all(s % spacing == 0 for s in grid[:-1])
    assert set(np.diff(grid[:-1])) == {spacing}  # even coverage, no hole
    assert max(np.diff(steps)) <= spacing


def test_instrumented_every_step_is_thinned_to_the_bound(long_run):
    bounded, unbounded, *_ = long_run
    assert unbounded.steps() == list(range(1, STEPS + 1))  # max_records=None keeps every step
    assert unbounded.stride == 1 and unbounded.records_dropped == 0
    _assert_evenly_thinned(bounded, first=1)
    assert bounded.layers() == unbounded.layers()
    for step in bounded.steps():  # a kept record is the step's record, untouched
        assert bounded.snapshot(step) == unbounded.snapshot(step)


def test_probe_monitors_are_thinned_the_same_way(long_run):
    _, _, dead, acts, _, _ = long_run
    _assert_evenly_thinned(dead, first=0)
    _assert_evenly_thinned(acts, first=0)
    assert acts.at(-1, key="hist")  # records keep their histograms


def test_a_finding_survives_its_record_being_thinned(long_run):
    bounded, unbounded, *_ = long_run
    (spike,) = [f for f in unbounded.findings if f.kind == "exploding"]
    assert spike.step == SPIKE_STEP
    assert [f for f in bounded.findings if f.kind == "exploding"] == [spike]
    assert SPIKE_STEP not in bounded.steps()
    assert max(max(r["norms"].values()) for r in bounded.history) < EXPLODING_NORM
    with pytest.raises(ValueError, match=r"no record at step 6: .* dropped .*max_records=64"):
        bounded.snapshot(SPIKE_STEP)


def test_epoch_logs_get_the_latest_record(long_run):
    bounded, _, dead, _, history, _ = long_run
    for layer in bounded.layers():
        logged = history.history[f"grad_norm/{layer}"]
        assert len(logged) == EPOCHS
        assert logged[-1] == bounded.at(-1)[layer]
    assert history.history["dead_relu/hidden_1"][-1] == dead.at(-1)["hidden_1"]


def test_tensorboard_gets_every_kept_record_once(long_run):
    from tensorboard.backend.event_processing import event_accumulator

    _, _, _, acts, _, log_dir = long_run
    reader = event_accumulator.EventAccumulator(
        str(log_dir / "train"), size_guidance={"tensors": 0}
    )
    reader.Reload()
    written = [e.step for e in reader.Tensors("activations/hidden_1")]
    assert all(b > a for a, b in zip(written, written[1:]))  # none written twice
    assert set(acts.steps()) <= set(written)


def test_clipping_counts_every_record_taken():
    """Clipping bites at every step: the finding counts all records, not just the kept ones."""
    optimizer = keras.optimizers.SGD(0.01, global_clipnorm=1e-3)
    grads = GradientMonitor(every=1, max_records=BOUND, verbose=0)
    history = _fit(_model(optimizer), [grads], epochs=16, batch_size=8)  # 1,024 steps
    taken = len(grads.history) + grads.records_dropped
    assert len(grads.history) <= BOUND < taken
    (clipping,) = [f for f in grads.findings if f.kind == "clipping"]
    assert f"at {taken} of {taken} recorded steps" in clipping.message
    for layer, value in grads.at(-1, key="applied_norms").items():
        assert history.history[f"applied_grad_norm/{layer}"][-1] == value


def test_every_epoch_schedule_is_thinned_by_epoch():
    x, _ = _regression()
    dead = DeadReLUMonitor(probe=x[:128], max_records=BOUND, verbose=0)  # every=None
    model = build_mlp(FEATURES, depth=2, width=16)
    reinitialize(model, seed=0)
    model.compile(optimizer="sgd", loss="mse")
    epochs = 100  # 2 steps each: records at step 0, 1 and 100 epoch ends
    _fit(model, [dead], epochs=epochs, batch_size=N // 2)
    steps = dead.steps()
    assert len(steps) <= BOUND < epochs + 2
    assert steps[:3] == [0, 1, 2] and dead.stride > 1
    ends = [r["epoch"] + 1 for r in dead.history if r["step"] > 2]
    assert all(e % dead.stride == 0 for e in ends if e & (e - 1))
    assert epochs - dead.stride < ends[-1] <= epochs
    assert set(np.diff([e for e in ends if e >= dead.stride])) == {dead.stride}


@pytest.mark.parametrize("bad", [0, 10, 63, 2.5, True, "5000"])
@pytest.mark.parametrize(
    "make",
    [
        lambda m: GradientMonitor(every=1, max_records=m),
        lambda m: DeadReLUMonitor(probe=np.ones((4, FEATURES)), max_records=m),
        lambda m: ActivationMonitor(probe=np.ones((4, FEATURES)), max_records=m),
    ],
    ids=["GradientMonitor", "DeadReLUMonitor", "ActivationMonitor"],
)
def test_bad_max_records_says_what_to_pass(make, bad):
    with pytest.raises(ValueError, match=r"max_records must be .* at least 64, or None .*e\.g\."):
        make(bad)
    assert make(64).max_records == 64 and make(None).max_records is None
