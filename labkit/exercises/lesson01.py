"""Lesson 01 — Backpropagation: exercises, hints, solutions and checks.

The network of the lesson: ``X (N, 2) → Dense(H, sigmoid) → Dense(1) → logits``, with the mean
binary cross-entropy computed from the logits. Parameters live in a dict
``{"W1": (2, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}``.

Example
-------
>>> from labkit.exercises import lesson01 as ex
>>> ex.q3.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ValueExercise,
    expect_array,
    expect_number,
)

__all__ = ["LESSON", "q1", "q2", "q3", "q4", "summary"]

PARAM_NAMES = ("W1", "b1", "W2", "b2")


# --- reference maths (what every check compares against) -----------------------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _reference_backward(params: dict, X: np.ndarray, y: np.ndarray, hidden_grad: bool = True):
    """Gradients of the mean binary cross-entropy (``hidden_grad=False``: forgets σ')."""
    h = _sigmoid(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    dlogits = (_sigmoid(logits) - y) / len(X)
    dh = dlogits @ params["W2"].T
    dz1 = dh * h * (1 - h) if hidden_grad else dh
    return {
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0),
        "W2": h.T @ dlogits,
        "b2": dlogits.sum(axis=0),
    }


def _random_params(rng: np.random.Generator, hidden: int, scale: float) -> dict:
    return {
        "W1": rng.normal(scale=scale, size=(2, hidden)),
        "b1": rng.normal(scale=scale, size=hidden),
        "W2": rng.normal(scale=scale, size=(hidden, 1)),
        "b2": rng.normal(scale=scale, size=1),
    }


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


# --- q1: the backward pass -----------------------------------------------------------------------
def _backward_inputs() -> list[tuple]:
    """Batches and hidden widths the lesson never used (batch sizes 1 to 9, widths 1 to 8)."""
    rng = np.random.default_rng(101)
    cases = []
    for n, hidden, scale in [(5, 3, 1.0), (1, 1, 0.5), (9, 8, 1.5), (4, 5, 0.3)]:
        X = rng.normal(size=(n, 2))
        y = rng.integers(0, 2, size=(n, 1)).astype(float)
        cases.append((_random_params(rng, hidden, scale), X, y))
    return cases


def _check_backward(inputs: list[tuple], outputs: list) -> str:
    for (params, X, y), out in zip(inputs, outputs):
        where = f"(batch of {len(X)}, {params['W1'].shape[1]} hidden units)"
        if not isinstance(out, dict):
            raise Incorrect(
                f"`backward` should return a dict with keys {list(PARAM_NAMES)}, but on a test "
                f"input {where} it returned something else."
            )
        missing = [k for k in PARAM_NAMES if k not in out]
        if missing:
            raise Incorrect(
                f"the returned dict has no {missing}; it needs one gradient per parameter: "
                f"{list(PARAM_NAMES)}."
            )
        grads = {}
        for k in PARAM_NAMES:
            grads[k] = expect_array(out[k], name=f"the gradient {k!r} {where}")
            if grads[k].shape != params[k].shape:
                extra = (
                    " A bias gradient sums over the batch axis: `.sum(axis=0)`."
                    if k.startswith("b")
                    else " Check the order of the matrix product and the transposes."
                )
                raise Incorrect(
                    f"the gradient {k!r} {where} has shape {grads[k].shape}, but {k} has shape "
                    f"{params[k].shape}: a gradient always has its parameter's shape.{extra}"
                )
        want = _reference_backward(params, X, y)
        if all(_close(grads[k], want[k]) for k in PARAM_NAMES):
            continue
        if all(_close(-grads[k], want[k]) for k in PARAM_NAMES):
            raise Incorrect(
                f"every gradient has the wrong sign {where}. The loss's gradient with respect to "
                "the logits is σ(logits) − y (divided by N), not y − σ(logits)."
            )
        if len(X) > 1 and all(_close(grads[k], len(X) * want[k]) for k in PARAM_NAMES):
            raise Incorrect(
                f"every gradient is {len(X)} times too large on a batch of {len(X)}: the loss is "
                "the MEAN over the batch, so dlogits = (σ(logits) − y) / N."
            )
        top_ok = _close(grads["W2"], want["W2"]) and _close(grads["b2"], want["b2"])
        if top_ok:
            no_sigma = _reference_backward(params, X, y, hidden_grad=False)
            if _close(grads["W1"], no_sigma["W1"]):
                raise Incorrect(
                    f"W2 and b2 are right, but W1 and b1 are not {where}: on the way through the "
                    "hidden layer multiply by the sigmoid's derivative, σ'(z1) = h · (1 − h)."
                )
            raise Incorrect(
                f"W2 and b2 are right, but W1 or b1 is not {where}. Go one step at a time: "
                "dh = dlogits @ W2.T, dz1 = dh * h * (1 − h), dW1 = X.T @ dz1, db1 = dz1.sum(0)."
            )
        worst = max(PARAM_NAMES, key=lambda k: float(np.max(np.abs(grads[k] - want[k]))))
        raise Incorrect(
            f"the gradients are wrong {where}, most of all {worst!r} (off by up to "
            f"{float(np.max(np.abs(grads[worst] - want[worst]))):.2g}). Start at the top: "
            "dlogits = (σ(logits) − y) / N, dW2 = h.T @ dlogits, db2 = dlogits.sum(0)."
        )
    return (
        "Correct! Your backward pass matches the reference on batches of 1 to 9 examples and "
        "hidden layers of 1 to 8 units."
    )


q1 = FunctionExercise(
    id="q1",
    answer="backward",
    hints=[
        "Run the forward pass first (you need h and the logits), then walk the chain rule from "
        "the loss back to the input, one layer at a time.",
        "dlogits = (sigmoid(logits) - y) / len(X); dW2 = h.T @ dlogits; db2 = dlogits.sum(0); "
        "dh = dlogits @ W2.T; dz1 = dh * h * (1 - h); dW1 = X.T @ dz1; db1 = dz1.sum(0).",
        "Every gradient has the shape of its parameter. Bias gradients sum over the batch "
        "(axis 0); weight gradients are (layer input).T @ (gradient at the layer's output).",
    ],
    check_fn=_check_backward,
    make_inputs=_backward_inputs,
    points=2,
)


# --- q2: a gradient check by central differences -------------------------------------------------
def _cubic(x):
    return float(np.sum(x**3))


def _cubic_grad(x):
    return 3 * x**2


_A = np.array([[2.0, -1.0, 0.5], [-1.0, 3.0, 0.0], [0.5, 0.0, 1.0]])


def _quadratic(x):
    return float(0.5 * x @ _A @ x + np.sum(x))


def _quadratic_grad(x):
    return _A @ x + 1.0


def _log_sum_exp(x):
    return float(np.log(np.sum(np.exp(x))))


def _log_sum_exp_grad(x):
    e = np.exp(x)
    return e / e.sum()


def _sin_times(x):
    return float(np.sum(np.sin(x) * x))


def _sin_times_grad(x):
    return np.cos(x) * x + np.sin(x)


_GRADIENT_TESTS = [
    (_cubic, _cubic_grad, (4,)),
    (_quadratic, _quadratic_grad, (3,)),
    (_log_sum_exp, _log_sum_exp_grad, (5,)),
    (_sin_times, _sin_times_grad, (2, 3)),
]
_EPS = 1e-4


def _gradient_check_inputs() -> list[tuple]:
    rng = np.random.default_rng(202)
    return [(f, rng.uniform(-1.5, 1.5, size=shape), _EPS) for f, _, shape in _GRADIENT_TESTS]


def _one_sided(f, x: np.ndarray, eps: float) -> np.ndarray:
    out = np.zeros_like(x)
    base = f(x)
    for i in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[i] += eps
        out[i] = (f(shifted) - base) / eps
    return out


def _check_gradient_check(inputs: list[tuple], outputs: list) -> str:
    exact = {f: g for f, g, _ in _GRADIENT_TESTS}
    for (f, x, eps), out in zip(inputs, outputs):
        where = f"for a test function of an array of shape {x.shape}"
        got = expect_array(out, name=f"your result {where}")
        if got.shape != x.shape:
            raise Incorrect(
                f"your result {where} has shape {got.shape}; a gradient has one entry per entry "
                f"of x, so it should have shape {x.shape} (e.g. start from np.zeros_like(x))."
            )
        want = exact[f](x)
        if np.allclose(got, want, rtol=1e-5, atol=1e-6):
            continue
        if np.allclose(got, 2 * want, rtol=1e-4, atol=1e-5):
            raise Incorrect(
                f"your result is twice the gradient {where}: the two points x+eps and x−eps are "
                "2·eps apart, so divide the difference by 2 * eps."
            )
        if np.allclose(got, _one_sided(f, x, eps), rtol=1e-6, atol=1e-8):
            raise Incorrect(
                "this is a one-sided difference (f(x+eps) − f(x)) / eps; its error shrinks only "
                "like eps. Use the central difference (f(x+eps) − f(x−eps)) / (2·eps), whose "
                "error shrinks like eps²."
            )
        err = float(np.max(np.abs(got - want)))
        raise Incorrect(
            f"your result {where} is off by up to {err:.2g} from the true gradient. Nudge ONE "
            "entry at a time (on a copy of x, or restore it afterwards) by +eps and −eps, and "
            "divide the change in f by 2 * eps."
        )
    return (
        "Correct! Your central differences match the exact gradients of four functions you "
        "never saw, on vectors and on a matrix."
    )


q2 = FunctionExercise(
    id="q2",
    answer="numerical_gradient",
    hints=[
        "Loop over every entry of x (np.ndindex(x.shape) gives every index, for any shape). "
        "For each, evaluate f with that one entry nudged up by eps and down by eps.",
        "grad[i] = (f(x_plus) - f(x_minus)) / (2 * eps), where x_plus = x.copy() with "
        "x_plus[i] += eps, and x_minus likewise with -= eps.",
        "Start from grad = np.zeros_like(x, dtype=float) and return it after the loop; never "
        "change x itself (work on copies).",
    ],
    check_fn=_check_gradient_check,
    make_inputs=_gradient_check_inputs,
    points=2,
)


# --- q3: the first-order prediction of a step ---------------------------------------------------
SMALL_LR, LARGE_LR = 0.01, 30.0


def _bce(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    p = _sigmoid(_sigmoid(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _step_inputs() -> list[tuple]:
    """Networks and batches the lesson never used, at a small and at a large learning rate."""
    rng = np.random.default_rng(303)
    cases = []
    for n, hidden, lr in [(12, 4, SMALL_LR), (7, 2, 0.1), (20, 6, SMALL_LR), (10, 3, LARGE_LR)]:
        X = rng.normal(size=(n, 2))
        y = rng.integers(0, 2, size=(n, 1)).astype(float)
        cases.append((_random_params(rng, hidden, 1.5), X, y, lr))
    return cases


def _first_order(params: dict, X: np.ndarray, y: np.ndarray, lr: float) -> dict[str, float]:
    """The prediction, its plausible mistakes, and the change the step really makes."""
    g = _reference_backward(params, X, y)
    squares = sum(float(np.sum(v**2)) for v in g.values())
    stepped = {k: params[k] - lr * g[k] for k in params}
    return {
        "right": -lr * squares,
        "uphill": lr * squares,
        "no_lr": -squares,
        "norm": -lr * squares**0.5,
        "not_squared": -lr * sum(float(np.sum(v)) for v in g.values()),
        "weights_only": -lr * float(np.sum(g["W1"] ** 2) + np.sum(g["W2"] ** 2)),
        "measured": _bce(stepped, X, y) - _bce(params, X, y),
    }


_STEP_MISTAKES = {
    "uphill": "has the wrong sign: the step goes AGAINST the gradient, Δw = −learning_rate · g, "
    "so each term g · Δw is −learning_rate · g², never positive.",
    "no_lr": "leaves out the learning rate: the step is Δw = −learning_rate · g, so every term "
    "g · Δw carries the factor learning_rate.",
    "norm": "is −learning_rate · ‖g‖, but each term is g · Δw = g · (−learning_rate · g): the "
    "gradient appears twice, so the sum is the SQUARED norm.",
    "not_squared": "sums the gradient entries themselves; each term is g · Δw with "
    "Δw = −learning_rate · g, so square every entry before you sum.",
    "weights_only": "leaves out the biases: b1 and b2 move in the step too, and their "
    "gradients add to the change.",
}


def _check_step(inputs: list[tuple], outputs: list) -> str:
    report = {}
    for (params, X, y, lr), out in zip(inputs, outputs):
        where = f"(learning rate {lr}, {params['W1'].shape[1]} hidden units, batch of {len(X)})"
        got = expect_number(out, f"`predicted_change` {where}")
        want = _first_order(params, X, y, lr)
        report[lr] = (want["right"], want["measured"])
        if np.isclose(got, want["right"], rtol=1e-6, atol=1e-12):
            continue
        if got == 0:
            raise Incorrect(
                f"`predicted_change` returned 0 {where}: that predicts a step that changes "
                "nothing. To first order the change is Σ g · Δw over every parameter entry, "
                "with the step Δw = −learning_rate · g."
            )
        for mistake, message in _STEP_MISTAKES.items():
            if np.isclose(got, want[mistake], rtol=1e-6, atol=1e-12):
                raise Incorrect(f"your prediction {where} {message}")
        if np.isclose(got, want["measured"], rtol=1e-6, atol=1e-12):
            raise Incorrect(
                f"this is the change the step really makes {where} (loss after − loss "
                "before), not the first-order prediction. Predict it from the gradient alone: "
                "Σ g · Δw with Δw = −learning_rate · g, without running the step."
            )
        raise Incorrect(
            f"your prediction {where} is {got:.4g}, but the first-order change is "
            f"{want['right']:.4g}. Add up g · Δw over every entry of every parameter, with "
            "Δw = −learning_rate · g."
        )
    small_pred, small_real = report[SMALL_LR]
    large_pred, large_real = report[LARGE_LR]
    return (
        f"Correct! At learning rate {SMALL_LR} you predicted {small_pred:.3e} and the step "
        f"really changed the loss by {small_real:.3e}; at {LARGE_LR:g} you predicted "
        f"{large_pred:.3g} but the loss changed by {large_real:+.3g}. The gradient describes "
        "the loss only near the current weights: small steps go downhill as predicted, big "
        "steps can overshoot."
    )


q3 = FunctionExercise(
    id="q3",
    answer="predicted_change",
    hints=[
        "The step changes every parameter by Δw = −learning_rate · g, where g is its gradient "
        "from your `backward`. The first-order change is the sum of g · Δw over all entries.",
        "Substitute Δw: each entry contributes g · (−learning_rate · g) = −learning_rate · g². "
        "Sum that over every entry of W1, b1, W2 and b2.",
        "grads = backward(params, X, y); return -learning_rate * sum(np.sum(g ** 2) for g in "
        "grads.values()). Do not run the step: predict it.",
    ],
    constants={"small_lr": SMALL_LR, "large_lr": LARGE_LR},
    check_fn=_check_step,
    make_inputs=_step_inputs,
    points=1,
)


# --- q4: the cost of checking gradients numerically ----------------------------------------------
INPUTS, HIDDEN, OUTPUTS = 784, 100, 10
_N_PARAMS = INPUTS * HIDDEN + HIDDEN + HIDDEN * OUTPUTS + OUTPUTS
_N_WEIGHTS = INPUTS * HIDDEN + HIDDEN * OUTPUTS


def _check_n_evals(value) -> str:
    number = expect_number(value, "n_evals")
    if number == 2 * _N_PARAMS:
        return (
            f"Correct! {2 * _N_PARAMS:,} loss evaluations, against one forward and one backward "
            "pass for backpropagation: this is why backprop made deep learning possible."
        )
    if number == _N_PARAMS:
        raise Incorrect(
            f"{_N_PARAMS:,} is the number of parameters; a central difference evaluates the "
            "loss twice per parameter (at +eps and at −eps)."
        )
    if number == 2 * _N_WEIGHTS:
        raise Incorrect(
            "close: you counted every weight twice, but the biases are parameters too (one per "
            "unit of each layer)."
        )
    raise Incorrect(
        f"n_evals is {number:,.0f}. Count the parameters: each Dense layer has "
        "inputs × units weights plus units biases; then two loss evaluations per parameter."
    )


q4 = ValueExercise(
    id="q4",
    answer="n_evals",
    hints=[
        "Count the parameters first: each Dense layer has (inputs × units) weights and "
        "(units) biases.",
        "Parameters = 784·100 + 100 + 100·10 + 10; each needs f(x+eps) and f(x−eps).",
    ],
    constants={"inputs": INPUTS, "hidden": HIDDEN, "outputs": OUTPUTS},
    check_fn=_check_n_evals,
    points=1,
)

LESSON = Lesson("01_backpropagation", [q1, q2, q3, q4])
summary = LESSON.summary
