"""labkit on TensorFlow, JAX and PyTorch: statelessness per backend and parity across them.

Tests marked ``backends`` run on the active backend and are repeated by ``make test`` with
``KERAS_BACKEND=jax`` and ``KERAS_BACKEND=torch``. The parity tests run once: they start
``backend_parity_worker.py`` under each of the three backends (in parallel) and compare what the
workers measured on the same weights and batches.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import pytest

from labkit.backend import backend_name, loss_and_gradients, to_numpy
from labkit.callbacks import GradientMonitor
from labkit.gradients import layer_gradient_norms

BACKENDS = ("tensorflow", "jax", "torch")
WORKER = Path(__file__).with_name("backend_parity_worker.py")
PARITY_RTOL = 1e-4
L2 = 0.01


def _data(n: int = 64, features: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x @ rng.normal(size=(features, 1))).astype("float32")
    return x, y


def _bn_dropout_model(dropout: bool = True) -> keras.Sequential:
    """Dense (L2) → BatchNorm → ReLU → unseeded Dropout → Dense: every kind of hidden state."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, kernel_regularizer=keras.regularizers.L2(L2), name="dense"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("relu", name="act"),
            *([keras.layers.Dropout(0.5, name="drop")] if dropout else []),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def _snapshot(model: keras.Model) -> dict[str, np.ndarray]:
    """Every variable of the model (seed generators included) and of its optimizer."""
    variables = list(model.variables) + list(model.optimizer.variables)
    return {v.path: np.array(to_numpy(v), copy=True) for v in variables}


def _grad_copy(variable) -> np.ndarray | None:
    """A copy of a PyTorch parameter's ``.grad`` (``None`` when it has none)."""
    grad = variable.value.grad
    return None if grad is None else grad.detach().cpu().numpy().copy()


@pytest.mark.backends
def test_loss_and_gradients_leaves_every_state_untouched():
    model = _bn_dropout_model()
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    before = _snapshot(model)
    assert any("seed_generator" in path for path in before), "expected a dropout seed state"
    if backend_name() == "torch":
        import torch

        rng_before = torch.get_rng_state().clone()
        grads_before = [_grad_copy(v) for v in model.trainable_variables]

    first_loss, first_grads = loss_and_gradients(model, x, y)
    second_loss, second_grads = loss_and_gradients(model, x, y)

    after = _snapshot(model)
    assert after.keys() == before.keys()
    for path, value in before.items():
        np.testing.assert_array_equal(after[path], value, err_msg=f"{path} changed")
    assert int(to_numpy(model.optimizer.iterations)) == 4
    assert first_loss == second_loss
    for g1, g2 in zip(first_grads, second_grads):
        np.testing.assert_array_equal(g1, g2)
    assert all(np.any(g != 0) for g in first_grads)
    if backend_name() == "torch":
        for v, before_grad in zip(model.trainable_variables, grads_before):
            after_grad = _grad_copy(v)
            assert (after_grad is None) == (before_grad is None), f"{v.path}.grad changed"
            if before_grad is not None:
                np.testing.assert_array_equal(after_grad, before_grad, err_msg=f"{v.path}.grad")
        assert torch.equal(torch.get_rng_state(), rng_before)


@pytest.mark.backends
def test_a_fresh_model_keeps_no_gradient_anywhere():
    model = _bn_dropout_model()
    x, y = _data()
    loss_and_gradients(model, x, y)
    assert int(to_numpy(model.optimizer.iterations)) == 0
    if backend_name() == "torch":
        assert [v.value.grad for v in model.trainable_variables] == [None] * 6


@pytest.mark.backends
def test_gradients_match_the_closed_form_of_an_l2_regularized_linear_regression():
    x, y = _data()
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 1)).astype("float32")
    b = rng.normal(size=(1,)).astype("float32")
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(L2))]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([w, b])

    loss, (grad_w, grad_b) = loss_and_gradients(model, x, y)

    residual = x.astype(np.float64) @ w + b - y
    np.testing.assert_allclose(loss, np.mean(residual**2) + L2 * np.sum(w**2.0), rtol=1e-5)
    np.testing.assert_allclose(grad_w, 2 * x.T @ residual / len(x) + 2 * L2 * w, rtol=1e-4)
    np.testing.assert_allclose(grad_b, 2 * residual.mean(axis=0), rtol=1e-4)


@pytest.mark.backends
def test_gradient_monitor_sees_the_live_weights_mid_epoch():
    """On JAX, ``fit`` keeps weights outside the model mid-epoch; the monitor must sync them.

    No dropout here: on PyTorch an unseeded Dropout draws from torch's global generator, which
    ``fit``'s data loader advances, so a later probe would draw another mask.
    """
    model = _bn_dropout_model(dropout=False)
    x, y = _data()
    monitor = GradientMonitor(probe=(x, y), every=1, verbose=0)

    history = model.fit(
        x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[monitor]
    )

    assert monitor.steps() == [0, 1, 2, 3, 4]
    norms = [record["norms"]["dense"] for record in monitor.history]
    assert len(set(norms)) == len(norms), f"records repeat stale weights: {norms}"
    assert monitor.history[-1]["norms"] == layer_gradient_norms(model, x, y)
    assert history.history["grad_norm/dense"] == [monitor.history[-1]["norms"]["dense"]]


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict]:
    """The worker's JSON for each backend, run as three parallel subprocesses."""
    out = tmp_path_factory.mktemp("backends")

    def run(backend: str) -> dict:
        target = out / f"{backend}.json"
        # Three workers share the cores: one OpenMP thread each, or PyTorch's spinning threads
        # starve the others (measured: a PyTorch fit ran 20-40x slower on a busy 2-core machine).
        env = {**os.environ, "KERAS_BACKEND": backend, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            [sys.executable, str(WORKER), str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{backend} worker failed:\n{proc.stderr[-3000:]}"
        return json.loads(target.read_text())

    with ThreadPoolExecutor(len(BACKENDS)) as pool:
        results = dict(zip(BACKENDS, pool.map(run, BACKENDS)))
    for backend, result in results.items():
        assert result["backend"] == backend
    return results


def _max_relative_error(a: dict[str, float], b: dict[str, float]) -> float:
    assert list(a) == list(b)
    errors = [abs(a[k] - b[k]) / max(abs(a[k]), abs(b[k])) for k in a if a[k] != b[k]]
    return max(errors, default=0.0)


@pytest.mark.parametrize("case", ["mlp", "cnn", "residual_bn"])
def test_layer_gradient_norms_agree_across_backends(measured, case):
    reference = measured["tensorflow"]["parity"][case]
    assert all(0 < n < math.inf for n in reference["norms"].values())
    for backend in ("jax", "torch"):
        result = measured[backend]["parity"][case]
        assert result["weights_sum"] == reference["weights_sum"], f"{backend} got other weights"
        assert result["loss"] == pytest.approx(reference["loss"], rel=PARITY_RTOL)
        error = _max_relative_error(reference["norms"], result["norms"])
        assert error < PARITY_RTOL, f"{case} on {backend}: max relative error {error:.2e}"


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("vanishing", [["vanishing", "hidden_1"]]),
        ("exploding", [["exploding", "hidden_1"]]),
        (
            "dead_relu",
            [
                ["vanishing", "hidden_1"],
                ["dead_relu", "hidden_1"],
                ["dead_relu", "hidden_2"],
                ["dead_relu", "hidden_3"],
            ],
        ),
    ],
)
def test_findings_are_the_same_on_every_backend(measured, scenario, expected):
    for backend in BACKENDS:
        result = measured[backend]["scenarios"][scenario]
        assert result["findings"] == expected, backend
        assert result["monitor_findings"] == expected, backend
        error = _max_relative_error(
            measured["tensorflow"]["scenarios"][scenario]["norms"], result["norms"]
        )
        assert error < PARITY_RTOL, f"{scenario} on {backend}: max relative error {error:.2e}"


def test_saturated_sigmoid_with_probability_loss_zeroes_gradients_off_tensorflow(measured):
    """TensorFlow's cross-entropy recovers the logits; JAX and PyTorch clip the probabilities."""
    tf_result = measured["tensorflow"]["scenarios"]["saturated_sigmoid"]
    assert all(n > 0 for n in tf_result["norms"].values())
    assert tf_result["findings"] == [["saturation", "output"]]
    for backend in ("jax", "torch"):
        result = measured[backend]["scenarios"]["saturated_sigmoid"]
        assert set(result["norms"].values()) == {0.0}, backend
        assert result["findings"] == [["vanishing", "hidden_1"], ["saturation", "output"]]
        assert result["messages"][0].startswith("every gradient is exactly zero")
        assert "from_logits=True" in result["messages"][0]
