"""labkit.instrument under the set-ups practitioners train with, against hand-written gradients.

The same model (NumPy-drawn weights) and batches run plain, in mixed precision, with
``steps_per_execution=4``, with gradient accumulation and with each kind of clipping; every
record is compared with the gradient a hand-written ``tf.GradientTape`` / ``jax.grad`` /
``torch.autograd`` computes on the same weights and batch, in float32 (relative tolerance 1e-4;
5e-2 where the run computes in float16/bfloat16). Data-parallel runs need two devices configured
before the backend starts, so they run in a fresh process per backend: this file is also the
script they run (``python tests/test_instrumentation_setups.py tf-mirrored``), which prints the
largest relative error against one device as JSON.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import labkit
from labkit.activations import activation_stats
from labkit.backend import backend_name
from labkit.callbacks import GradientMonitor
from labkit.gradients import layer_of_variables
from labkit.instrumentation import LOG_KEY
from labkit.models import build_mlp, reinitialize

pytestmark = pytest.mark.backends

FEATURES, BATCH, STEPS = 8, 32, 8
LEARNING_RATE = 0.05
F32, F16 = 1e-4, 5e-2


def _data(steps: int = STEPS, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.5, size=(steps * BATCH, FEATURES)).astype("float32")
    y = (0.5 * x[:, :1] - 0.25 * x[:, 1:2]).astype("float32")  # small: no float16 overflow
    return x, y


def _model(optimizer=None, steps_per_execution: int = 1) -> keras.Model:
    model = reinitialize(build_mlp(FEATURES, depth=3, width=16), seed=0)
    model.compile(
        optimizer=optimizer or keras.optimizers.SGD(LEARNING_RATE),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    return model


@contextlib.contextmanager
def _policy(name: str):
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


class _Weights(keras.callbacks.Callback):
    """The weights before every step, by hand."""

    def __init__(self):
        super().__init__()
        self.before = []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append(self.model.get_weights())


def _train(model, x, y, epochs: int = 1, activations: bool = False, **monitor):
    """Instrument, fit with every=1, return the monitor, the weights before each step, History."""
    labkit.instrument(model, activations=activations)
    gradients = GradientMonitor(every=1, verbose=0, **monitor)
    weights = _Weights()
    callbacks = [gradients] + ([weights] if model.steps_per_execution == 1 else [])
    history = model.fit(
        x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks
    )
    return gradients, weights.before, history


def _reference(weights: list[np.ndarray], x, y, policy: str = "float32") -> list[np.ndarray]:
    """d mean((f(x) - y)^2) / d weights, by hand, unscaled, on a separate copy of the model."""
    return [
        keras.ops.convert_to_numpy(g).astype("float64") for g in _gradient(policy)(weights, x, y)
    ]


@functools.cache
def _gradient(policy: str):
    """``(weights, x, y) -> grads`` with the backend's own autodiff, built once per policy."""
    with _policy(policy):
        ref = build_mlp(FEATURES, depth=3, width=16)
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        def grads(weights, x, y):
            ref.set_weights(weights)
            with tf.GradientTape() as tape:
                pred = tf.cast(ref(x, training=True), "float32")
                loss = tf.reduce_mean(tf.square(pred - y))
            return tape.gradient(loss, ref.trainable_variables)

        return grads
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def loss(trainable, x, y):
            pred, _ = ref.stateless_call(trainable, [], x, training=True)
            return jnp.mean(jnp.square(pred.astype("float32") - y))

        return jax.jit(jax.grad(loss))
    import torch

    def grads(weights, x, y):
        ref.set_weights(weights)
        pred = ref(torch.from_numpy(x), training=True).float()
        loss = torch.mean(torch.square(pred - torch.from_numpy(y)))
        return torch.autograd.grad(loss, [v.value for v in ref.trainable_variables])

    return grads


def _norms(model, grads) -> dict[str, float]:
    return {
        name: math.sqrt(sum(float(np.sum(grads[i] ** 2)) for i in idx))
        for name, idx in layer_of_variables(model).items()
    }


def _batch(x, y, step: int):
    """The batch of 1-based training step ``step`` (no shuffling)."""
    i = (step - 1) % (len(x) // BATCH) * BATCH
    return x[i : i + BATCH], y[i : i + BATCH]


def _assert_close(got: dict, want: dict, rel: float, where: str) -> float:
    """Every layer within ``rel``; returns the largest relative error."""
    errors = {k: abs(got[k] - want[k]) / abs(want[k]) for k in want}
    assert list(got) == list(want) and max(errors.values()) <= rel, (where, got, want)
    return max(errors.values())


def test_plain_records_equal_hand_written_gradients():
    x, y = _data()
    model = _model()
    monitor, before, history = _train(model, x, y)
    assert monitor.steps() == list(range(1, STEPS + 1))
    for record in monitor.history:
        want = _norms(model, _reference(before[record["step"] - 1], *_batch(x, y, record["step"])))
        _assert_close(record["norms"], want, F32, record["step"])
        assert not {"applied_norms", "clipped", "skipped", "loss_scale"} & set(record)
    assert history.history["grad_norm/hidden_1"] == [monitor.history[-1]["norms"]["hidden_1"]]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_records_unscaled_gradients(policy):
    x, y = _data()
    with _policy(policy):
        model = _model()
        monitor, before, _ = _train(model, x, y)
    scaled = policy == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    for record in monitor.history:
        weights, batch = before[record["step"] - 1], _batch(x, y, record["step"])
        same_precision = _norms(model, _reference(weights, *batch, policy))
        _assert_close(record["norms"], same_precision, F16, record["step"])
        if scaled:  # bfloat16's 8-bit mantissa puts its gradients ~10% from float32's
            _assert_close(record["norms"], _norms(model, _reference(weights, *batch)), F16, "f32")
        assert "skipped" not in record
        assert record.get("loss_scale") == (2.0**15 if scaled else None)
    assert not monitor.findings


def test_loss_scale_overflow_is_a_skipped_step_not_an_explosion():
    x, y = _data()
    with _policy("mixed_float16"):
        optimizer = keras.optimizers.LossScaleOptimizer(
            keras.optimizers.SGD(0.05), initial_scale=2.0**20
        )
        model = _model(optimizer)
        monitor, before, history = _train(model, x, y, epochs=2)
    skipped = [r for r in monitor.history if r.get("skipped")]
    assert skipped and all(r["overflow"] for r in skipped)
    assert all(not all(map(math.isfinite, r["norms"].values())) for r in skipped)
    for record, after in zip(monitor.history, monitor.history[1:]):  # each overflow halves it
        assert after["loss_scale"] == record["loss_scale"] / (2 if "skipped" in record else 1)
    for record in [r for r in skipped if r["step"] < len(before)]:  # and leave the weights alone
        step = record["step"]
        for a, b in zip(before[step - 1], before[step]):
            np.testing.assert_array_equal(a, b)
    applied = [r for r in monitor.history if not r.get("skipped")]
    assert applied, "the loss scale never came down far enough: lower initial_scale"
    for record in applied:
        weights, batch = before[record["step"] - 1], _batch(x, y, record["step"])
        want = _norms(model, _reference(weights, *batch, "mixed_float16"))
        _assert_close(record["norms"], want, F16, record["step"])
    assert not [f for f in monitor.findings if f.kind == "exploding"]


def test_overflow_without_loss_scaling_to_blame_is_an_explosion():
    x, y = _data()
    with _policy("mixed_float16"):  # inputs beyond float16's range overflow at any loss scale
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.05), 1.0)
        monitor, _, _ = _train(_model(optimizer), x * 1e5, y)
    assert all(r["skipped"] and not r["overflow"] for r in monitor.history)
    assert [f.kind for f in monitor.findings] == ["exploding"]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_dead_and_saturated_fractions_work_with_half_precision_activations(policy):
    x, _ = _data()
    relu = {"bias_initializer": keras.initializers.Constant(-0.3)}
    sigmoid = {"activation": "sigmoid", "kernel_initializer": keras.initializers.RandomNormal(0, 4)}
    measured = {}
    for name in ("float32", policy):
        with _policy(name):
            dead = reinitialize(build_mlp(FEATURES, depth=3, width=16, **relu), seed=0)
            saturated = reinitialize(build_mlp(FEATURES, depth=3, width=16, **sigmoid), seed=0)
            measured[name] = (
                {k: v["dead_fraction"] for k, v in activation_stats(dead, x[:64]).items()},
                {
                    k: v["saturated_fraction"]
                    for k, v in activation_stats(saturated, x[:64]).items()
                },
            )
    (dead32, sat32), (dead16, sat16) = measured["float32"], measured[policy]
    assert dead16 == dead32 and any(dead32.values())
    assert sat16 == pytest.approx(sat32, abs=0.02) and min(sat32.values()) > 0.3


# Models whose batches see dead ReLU units and saturated sigmoids from the first step
ACTIVITY = {
    "dead_fraction": {"bias_initializer": keras.initializers.Constant(-0.3)},
    "saturated_fraction": {
        "activation": "sigmoid",
        "kernel_initializer": keras.initializers.RandomNormal(0, 4),
    },
}


def _activity_model(key: str, steps_per_execution: int = 1) -> keras.Model:
    model = reinitialize(build_mlp(FEATURES, depth=3, width=16, **ACTIVITY[key]), seed=0)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    return model


@pytest.mark.parametrize("key", sorted(ACTIVITY))
def test_batch_dead_and_saturated_fractions_are_each_steps_own_batch(key):
    x, y = _data()
    model = _activity_model(key)
    monitor, before, history = _train(model, x, y, activations=True)
    reference = build_mlp(FEATURES, depth=3, width=16, **ACTIVITY[key])
    seen = []
    for record in monitor.history:
        reference.set_weights(before[record["step"] - 1])
        stats = activation_stats(reference, _batch(x, y, record["step"])[0])
        want = {k: v[key] for k, v in stats.items()}
        assert record[key] == want, record["step"]
        seen.append(tuple(want.values()))
    assert len(set(seen)) > 1 and max(map(max, seen)) > 0  # batches differ: not a constant
    other = "saturated_fraction" if key == "dead_fraction" else "dead_fraction"
    assert other not in monitor.history[-1]
    prefix = "batch_dead_relu" if key == "dead_fraction" else "batch_saturated"
    assert history.history[f"{prefix}/hidden_3"] == [monitor.history[-1][key]["hidden_3"]]
    layers = [layer for layer in model.layers if "call" in vars(layer)]
    assert [layer.name for layer in layers] == ["hidden_1", "hidden_2", "hidden_3"]
    predicted = model.predict(x, verbose=0)  # not a train step: nothing summarized
    labkit.uninstrument(model)
    assert not [layer for layer in model.layers if "call" in vars(layer)]
    np.testing.assert_array_equal(model.predict(x, verbose=0), predicted)


def test_mixed_activations_keep_layer_order_and_a_layer_left_out_reads_nan():
    x, y = _data()
    layers = [
        keras.layers.Dense(16, activation="tanh", name="squash", kernel_initializer="ones"),
        keras.layers.Dense(16, activation="relu", name="gate", bias_initializer="ones"),
        keras.layers.Activation("sigmoid", name="sig"),
        keras.layers.Dense(1, name="output"),
    ]
    model = keras.Sequential([keras.Input((FEATURES,)), *layers])
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    monitor, before, _ = _train(model, x, y, activations=True)
    assert labkit.instrumentation.tapped_layers(model) == {
        "squash": "tanh",
        "gate": "relu",
        "sig": "sigmoid",
    }
    reference = keras.models.clone_model(model)
    for record in monitor.history:
        reference.set_weights(before[record["step"] - 1])
        stats = activation_stats(reference, _batch(x, y, record["step"])[0])
        assert record["dead_fraction"] == {"gate": stats["gate"]["dead_fraction"]}
        want = {k: stats[k]["saturated_fraction"] for k in ("squash", "sig")}
        assert record["saturated_fraction"] == pytest.approx(want, abs=1e-7)
    assert monitor.history[0]["saturated_fraction"]["squash"] > 0.1
    stash = labkit.instrumentation._stash(model)  # a step that never calls "gate"
    stash.before()
    for name, out in [("squash", np.full((4, 16), 0.99)), ("sig", np.full((4, 16), 0.5))]:
        stash.summarize(name, stash.tapped[name], keras.ops.convert_to_tensor(out, "float32"))
    got = keras.ops.convert_to_numpy(stash._fractions()).tolist()
    assert got[0] == 1.0 and math.isnan(got[1]) and got[2] == 0.0


@pytest.mark.skipif(
    backend_name() == "torch", reason="Keras's PyTorch trainer needs steps_per_execution=1"
)
def test_steps_per_execution_records_every_step_as_one_step_per_execution_does():
    x, y = _data(steps=10)  # 4 + 4 + 2 steps per epoch: the last execution is short
    one, before, h_one = _train(_model(), x, y, epochs=2)
    four, _, h_four = _train(_model(steps_per_execution=4), x, y, epochs=2)
    assert four.steps() == one.steps() == list(range(1, 21))
    for a, b in zip(one.history, four.history):
        assert b["norms"] == pytest.approx(a["norms"], rel=1e-6, abs=0)
        want = _norms(four.model, _reference(before[b["step"] - 1], *_batch(x, y, b["step"])))
        _assert_close(b["norms"], want, F32, b["step"])
    for key in h_one.history:
        if key.startswith("grad_norm/"):
            assert h_four.history[key] == pytest.approx(h_one.history[key], rel=1e-6)
    assert np.asarray(h_four.history[LOG_KEY][-1]).shape[0] == 4  # one row per step
    labkit.uninstrument(four.model)
    assert len(four.model.optimizer.variables) == len(one.model.optimizer.variables)
    dead = {}  # the real batch's dead units: the rows carry them too
    for spe in (1, 4):
        model = _activity_model("dead_fraction", steps_per_execution=spe)
        monitor, _, _ = _train(model, x, y, epochs=2, activations=True)
        dead[spe] = [r["dead_fraction"] for r in monitor.history]
    assert len(dead[4]) == 20 and dead[4] == dead[1]


def test_gradient_accumulation_records_micro_batches_and_the_applied_mean():
    x, y = _data()
    model = _model(keras.optimizers.SGD(0.05, gradient_accumulation_steps=4))
    monitor, before, history = _train(model, x, y)
    grads = {}
    for record in monitor.history:
        step = record["step"]
        grads[step] = _reference(before[step - 1], *_batch(x, y, step))
        _assert_close(record["norms"], _norms(model, grads[step]), F32, step)
        assert ("applied_norms" in record) == (step % 4 == 0)
        if step % 4 == 0:
            mean = [sum(g) / 4 for g in zip(*(grads[s] for s in range(step - 3, step + 1)))]
            _assert_close(record["applied_norms"], _norms(model, mean), F32, step)
            assert "update_ratio" not in record or math.isfinite(record["update_ratio"]["output"])
    np.testing.assert_array_equal(before[0][0], before[3][0])  # no update mid-way
    last = monitor.history[-1]["applied_norms"]
    assert history.history["applied_grad_norm/output"] == [last["output"]]


def _clipped(kind: str, threshold: float, grads: list[np.ndarray]) -> tuple[list, bool]:
    """What Keras's clipping makes of ``grads``, by hand, and whether it changed them."""
    if kind == "clipvalue":
        return [np.clip(g, -threshold, threshold) for g in grads], any(
            np.abs(g).max() > threshold for g in grads
        )
    if kind == "clipnorm":
        norms = [np.sqrt(np.sum(g**2)) for g in grads]
        return [g * min(1.0, threshold / n) for g, n in zip(grads, norms)], max(norms) > threshold
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, threshold / total) for g in grads], total > threshold


@pytest.mark.parametrize(
    ("kind", "threshold"), [("global_clipnorm", 0.5), ("clipnorm", 0.2), ("clipvalue", 0.05)]
)
def test_clipping_records_before_and_after_and_how_often_it_bit(kind, threshold):
    x, y = _data()
    model = _model(keras.optimizers.SGD(0.05, **{kind: threshold}))
    monitor, before, _ = _train(model, x, y)
    bit = 0
    for record in monitor.history:
        step = record["step"]
        grads = _reference(before[step - 1], *_batch(x, y, step))
        _assert_close(record["norms"], _norms(model, grads), F32, step)
        applied, clipped = _clipped(kind, threshold, grads)
        _assert_close(record["applied_norms"], _norms(model, applied), F32, step)
        assert record["clipped"] == clipped
        bit += clipped
    assert 0 < bit, "clipping never bit: lower the threshold"
    (finding,) = [f for f in monitor.findings if f.kind == "clipping"]
    assert f"{kind}={threshold:g}" in finding.message and f"{bit} of {STEPS}" in finding.message


class CustomStep(keras.Sequential):
    """A model whose own train_step hands the gradients to ``self.optimizer`` (or does not)."""

    use_optimizer = True

    def train_step(self, *args):
        if backend_name() == "jax":
            return self._jax_step(*args)
        x, y = args[0]
        if backend_name() == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
        else:
            self.zero_grad()
            loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            loss.backward()
            grads = [v.value.grad for v in self.trainable_variables]
        if self.use_optimizer:
            self.optimizer.apply(grads, self.trainable_variables)
        else:
            for v, g in zip(self.trainable_variables, grads):
                v.assign(v - 0.1 * g)
        return {"loss": loss}

    def _jax_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data

        def loss_fn(trainable):
            y_pred, _ = self.stateless_call(trainable, non_trainable, x, training=True)
            return keras.ops.mean(keras.ops.square(y_pred - y))

        loss, grads = jax.value_and_grad(loss_fn)(trainable)
        if self.use_optimizer:
            trainable, optimizer_vars = self.optimizer.stateless_apply(
                optimizer_vars, grads, trainable
            )
        else:
            trainable = [v - 0.1 * g for v, g in zip(trainable, grads)]
        return {"loss": loss}, (trainable, non_trainable, optimizer_vars, metrics_vars)


def _custom_model(use_optimizer: bool) -> keras.Model:
    plain = build_mlp(FEATURES, depth=3, width=16)
    model = CustomStep([keras.Input((FEATURES,)), *plain.layers])
    model.use_optimizer = use_optimizer
    model.set_weights(reinitialize(plain, seed=0).get_weights())
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def test_a_custom_train_step_that_calls_the_optimizer_is_monitored():
    x, y = _data()
    model = _custom_model(use_optimizer=True)
    monitor, before, _ = _train(model, x, y)
    assert monitor.steps() == list(range(1, STEPS + 1))
    for record in monitor.history:
        want = _norms(model, _reference(before[record["step"] - 1], *_batch(x, y, record["step"])))
        _assert_close(record["norms"], want, F32, record["step"])


def test_a_train_step_labkit_cannot_see_into_says_what_to_do():
    x, y = _data()
    model = labkit.instrument(_custom_model(use_optimizer=False))
    with pytest.raises(RuntimeError, match=r"never handed gradients.*GradientMonitor\(probe="):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


# --- data parallel: one fresh process per backend configuration ---------------------------------

WORKERS = {
    "tf-mirrored": {"KERAS_BACKEND": "tensorflow"},
    "jax-dataparallel": {
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
    },
}


def _run_worker(mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **WORKERS[mode], "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    return subprocess.run(
        [sys.executable, str(Path(__file__)), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )


@pytest.mark.skipif(
    backend_name() != "tensorflow", reason="starts its own processes: once, in the TensorFlow runs"
)
@pytest.mark.parametrize("mode", sorted(WORKERS))
def test_data_parallel_records_match_one_device(mode):
    if mode.startswith("jax") and tuple(map(int, keras.version().split(".")[:2])) <= (3, 8):
        pytest.skip("Keras 3.8's JAX trainer calls jax.spmd_mode, which this JAX no longer has")
    done = _run_worker(mode)
    assert done.returncode == 0, done.stderr[-3000:]
    errors = json.loads(done.stdout.strip().splitlines()[-1])
    assert errors.pop("devices") == 2 and errors.pop("steps") == STEPS
    assert errors.pop("clipped steps") > 0
    assert min(errors.pop(f"half batch {key}") for key in ACTIVITY) > 0.05
    assert max(errors.values()) <= F32, errors


def _data_parallel(mode: str) -> dict:
    """Largest relative error of two-replica runs against one device, on the same batches."""
    if mode == "tf-mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        strategy = tf.distribute.MirroredStrategy(
            [d.name for d in tf.config.list_logical_devices("CPU")]
        )
        devices, scope = strategy.num_replicas_in_sync, strategy.scope
    else:
        import jax

        devices = len(jax.devices())
        distribution = keras.distribution.DataParallel(devices=jax.devices())

        @contextlib.contextmanager
        def scope():
            keras.distribution.set_distribution(distribution)
            try:
                yield
            finally:
                keras.distribution.set_distribution(None)

    x, y = _data()
    probe = (x[:64], y[:64])

    def run(spe: int, distributed: bool):
        with scope() if distributed else contextlib.nullcontext():
            model = _model(steps_per_execution=spe)
            labkit.instrument(model)
            exact = GradientMonitor(every=1, verbose=0)
            probed = GradientMonitor(probe=probe, verbose=0)  # steps 0, 1, 2, 4, 8
            model.fit(x, y, batch_size=BATCH, shuffle=False, verbose=0, callbacks=[exact, probed])
        return exact.history, probed.history

    def error(a: list[dict], b: list[dict]) -> float:
        assert [r["step"] for r in a] == [r["step"] for r in b]
        return max(
            abs(r["norms"][k] - s["norms"][k]) / abs(s["norms"][k])
            for r, s in zip(a, b)
            for k in s["norms"]
        )

    one_exact, one_probe = run(1, distributed=False)
    two_exact, two_probe = run(1, distributed=True)
    errors = {
        "devices": devices,
        "steps": len(two_exact),
        "instrumented": error(two_exact, one_exact),
        "probe": error(two_probe, one_probe),
    }
    if mode != "tf-mirrored":  # Keras 3.8.0-3.15.1 cannot run MirroredStrategy with it
        errors["instrumented, steps_per_execution=4"] = error(run(4, True)[0], one_exact)
    with scope():  # what clipping applied, against the weights' own change (plain SGD)
        model = _model(keras.optimizers.SGD(LEARNING_RATE, global_clipnorm=0.3))
        monitor, before, _ = _train(model, x, y)
    after = [*before[1:], model.get_weights()]
    errors["applied, global_clipnorm"] = max(
        abs(r["applied_norms"][k] - moved[k]) / moved[k]
        for r, b, a in zip(monitor.history, before, after)
        for moved in [_norms(model, [(u - v) / LEARNING_RATE for u, v in zip(b, a)])]
        for k in moved
    )
    errors["clipped steps"] = sum(r["clipped"] for r in monitor.history)
    for key in sorted(ACTIVITY):  # the real batch's dead / saturated fractions: global batch
        runs = {}
        for distributed in (False, True):
            with scope() if distributed else contextlib.nullcontext():
                monitor, before, _ = _train(_activity_model(key), x, y, activations=True)
            runs[distributed] = [r[key] for r in monitor.history]
        errors[f"batch {key}"] = max(
            abs(a[k] - b[k]) for a, b in zip(runs[False], runs[True]) for k in a
        )
        # what one replica's half of each batch reads: the test can tell the two apart
        reference = build_mlp(FEATURES, depth=3, width=16, **ACTIVITY[key])
        halves = []
        for step, whole in enumerate(runs[False], start=1):
            reference.set_weights(before[step - 1])
            half = _batch(x, y, step)[0][: BATCH // 2]
            halves += [abs(v[key] - whole[k]) for k, v in activation_stats(reference, half).items()]
        errors[f"half batch {key}"] = max(halves)
    return errors


if __name__ == "__main__":
    print(json.dumps(_data_parallel(sys.argv[1])))
