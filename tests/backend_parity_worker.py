"""Measure labkit's diagnostics on one Keras backend and write them as JSON.

``tests/test_backends.py`` runs this script once per backend (``KERAS_BACKEND`` is fixed per
process) and compares the three outputs. Every model gets the same weights on every backend: they
are drawn with NumPy from a fixed seed and loaded with ``set_weights``, and the batches are NumPy
too, so any difference in the results comes from the backend.

Usage
-----
    KERAS_BACKEND=jax python tests/backend_parity_worker.py OUT.json
"""

from __future__ import annotations

import json
import os
import sys

# TensorFlow reads these once, when it is imported: quiet logs, no oneDNN (CPU-dependent rounding).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from labkit.backend import backend_name, loss_and_gradients  # noqa: E402
from labkit.callbacks import DeadReLUMonitor, GradientMonitor  # noqa: E402
from labkit.diagnose import diagnose  # noqa: E402
from labkit.gradients import layer_gradient_norms, norms_from_gradients  # noqa: E402
from labkit.models import build_cnn, build_mlp  # noqa: E402

BATCH = 64


def numpy_weights(
    model: keras.Model,
    seed: int,
    kernel_scale: float = 1.0,
    bias: float | None = None,
    output_bias: float | None = None,
) -> None:
    """Load reproducible NumPy weights into ``model`` (independent of the backend's RNG).

    Kernels are normal with std ``kernel_scale / sqrt(fan_in)``; biases are small normals, or the
    constant ``bias`` (hidden layers) / ``output_bias`` (the layer named ``output``); batch-norm
    parameters and statistics are near their defaults (moving variances positive).
    """
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        layer, name = w.path.split("/")[-2:]
        if name == "kernel":
            fan_in = int(np.prod(shape[:-1]))
            value = rng.normal(size=shape) * kernel_scale / np.sqrt(fan_in)
        elif name == "bias":
            constant = output_bias if layer == "output" else bias
            value = rng.normal(size=shape) * 0.1 if constant is None else np.full(shape, constant)
        elif name == "gamma":
            value = 1.0 + 0.1 * rng.normal(size=shape)
        elif name in ("beta", "moving_mean"):
            value = 0.1 * rng.normal(size=shape)
        elif name == "moving_variance":
            value = rng.uniform(0.5, 1.5, size=shape)
        else:
            raise ValueError(f"no NumPy initializer for weight {w.path!r}")
        values.append(value.astype("float32"))
    model.set_weights(values)


def residual_bn_model() -> keras.Model:
    """Functional: Dense → BN → ReLU → Dense (L2) → BN, added to the first block, ReLU, Dense."""
    inputs = keras.Input((8,), name="x")
    h = keras.layers.Dense(16, name="dense_1")(inputs)
    h = keras.layers.BatchNormalization(name="bn_1")(h)
    h = keras.layers.Activation("relu", name="act_1")(h)
    r = keras.layers.Dense(16, kernel_regularizer=keras.regularizers.L2(1e-2), name="dense_2")(h)
    r = keras.layers.BatchNormalization(name="bn_2")(r)
    h = keras.layers.Add(name="residual")([h, r])
    h = keras.layers.Activation("relu", name="act_2")(h)
    outputs = keras.layers.Dense(1, name="output")(h)
    return keras.Model(inputs, outputs, name="residual_bn")


def parity_cases() -> dict[str, tuple[keras.Model, np.ndarray, np.ndarray]]:
    """The three parity models, compiled, with NumPy weights and a batch each."""
    rng = np.random.default_rng(0)
    x_flat = rng.normal(size=(BATCH, 8)).astype("float32")
    y_binary = (x_flat[:, :1] + x_flat[:, 1:2] > 0).astype("float32")
    y_regression = (x_flat @ rng.normal(size=(8, 1))).astype("float32")
    x_image = rng.normal(size=(BATCH, 8, 8, 1)).astype("float32")
    y_class = rng.integers(0, 3, size=BATCH).astype("int32")

    mlp = build_mlp(8, depth=3, width=16, activation="tanh")
    mlp.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    cnn = build_cnn((8, 8, 1), filters=(4, 8), dense_units=16, output_units=3)
    cnn.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    residual = residual_bn_model()
    residual.compile(optimizer="adam", loss="mse")
    cases = {
        "mlp": (mlp, x_flat, y_binary),
        "cnn": (cnn, x_image, y_class),
        "residual_bn": (residual, x_flat, y_regression),
    }
    for seed, (model, _, _) in enumerate(cases.values()):
        numpy_weights(model, seed)
    return cases


def scenario_cases() -> dict[str, tuple[keras.Model, np.ndarray, np.ndarray]]:
    """Vanishing, exploding and dead-ReLU networks (and the saturated-sigmoid pitfall)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, 8)).astype("float32")
    y_binary = (x[:, :1] > 0).astype("float32")
    y_regression = (x @ rng.normal(size=(8, 1))).astype("float32")
    bce_logits = keras.losses.BinaryCrossentropy(from_logits=True)

    vanishing = build_mlp(8, depth=10, width=16, activation="sigmoid")
    vanishing.compile(optimizer="sgd", loss=bce_logits)
    numpy_weights(vanishing, 10)
    exploding = build_mlp(8, depth=4, width=32, activation="relu")
    exploding.compile(optimizer="sgd", loss="mse")
    numpy_weights(exploding, 11, kernel_scale=8.0)
    dead = build_mlp(8, depth=3, width=16, activation="relu")
    dead.compile(optimizer="sgd", loss=bce_logits)
    numpy_weights(dead, 12, bias=-3.0)
    saturated = build_mlp(8, depth=2, width=16, activation="relu", output_activation="sigmoid")
    saturated.compile(optimizer="sgd", loss=keras.losses.BinaryCrossentropy())
    numpy_weights(saturated, 13, output_bias=30.0)
    return {
        "vanishing": (vanishing, x, y_binary),
        "exploding": (exploding, x, y_regression),
        "dead_relu": (dead, x, y_binary),
        "saturated_sigmoid": (saturated, x, y_binary),
    }


def monitor_findings(model: keras.Model, x, y) -> list[list[str]]:
    """``(kind, layer)`` of what GradientMonitor and DeadReLUMonitor report on one record."""
    found = []
    for monitor in (GradientMonitor(probe=(x, y), verbose=0), DeadReLUMonitor(probe=x, verbose=0)):
        monitor.set_model(model)
        monitor.check_model()
        if not monitor._disabled:
            monitor.record()
        found += [[f.kind, f.layer] for f in monitor.findings]
    return found


def measure() -> dict:
    """Everything the parity test compares, for the active backend."""
    result: dict = {"backend": backend_name(), "parity": {}, "scenarios": {}}
    for name, (model, x, y) in parity_cases().items():
        loss, grads = loss_and_gradients(model, x, y)
        result["parity"][name] = {
            "weights_sum": [float(np.sum(w, dtype=np.float64)) for w in model.get_weights()],
            "loss": loss,
            "norms": norms_from_gradients(model, grads),
        }
    for name, (model, x, y) in scenario_cases().items():
        report = diagnose(model, x, y)
        result["scenarios"][name] = {
            "norms": layer_gradient_norms(model, x, y),
            "findings": [[f.kind, f.layer] for f in report],
            "messages": [f.message for f in report],
            "monitor_findings": monitor_findings(model, x, y),
        }
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: KERAS_BACKEND=<backend> python backend_parity_worker.py OUT.json")
    with open(sys.argv[1], "w") as fh:
        json.dump(measure(), fh, indent=1)
