"""Lesson 01 exercises: the shown solutions pass, placeholders, wrong and bad answers do not."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.exercises import lesson01 as ex

pytestmark = pytest.mark.backends


# The helpers the lesson defines before its exercises (the solutions call them).
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward(params, X):
    z1 = X @ params["W1"] + params["b1"]
    h = sigmoid(z1)
    logits = h @ params["W2"] + params["b2"]
    return logits, (z1, h)


def backward(params, X, y):
    """Exercise 1's answer, which Exercise 3's solution calls."""
    logits, (z1, h) = forward(params, X)
    dlogits = (sigmoid(logits) - y) / len(X)
    dz1 = dlogits @ params["W2"].T * h * (1 - h)
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": h.T @ dlogits, "b2": dlogits.sum(0)}


CONTEXT = {"sigmoid": sigmoid, "forward": forward, "backward": backward}


def forever(*args):
    while True:
        pass


def boom(*args):
    raise ZeroDivisionError("division by zero")


# --- every exercise: solution correct, placeholder not attempted, grader path ---------------------
@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_reference_solution_is_correct(q, solution, assert_status):
    result = q.check(solution(q, **CONTEXT))
    assert_status(result, "correct")
    assert result.points == q.points and bool(result)


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_untouched_placeholder_is_not_attempted(q, placeholder, assert_status):
    untouched = ... if q.kind == "value" else placeholder
    assert_status(q.check(untouched), "not_attempted", "not attempted", f"ex.{q.id}.hint()")
    assert_status(q.check(...), "not_attempted")


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_grader_path_equals_check(q, solution):
    answer = solution(q, **CONTEXT)
    assert q.grade(q.collect(answer)).to_dict() == q.check(answer).to_dict()


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
@pytest.mark.parametrize("bad", [None, "backward", float("nan"), float("inf"), np.zeros((2, 2))])
def test_bad_values_are_rejected_with_a_message(q, bad):
    result = q.check(bad)
    assert result.status in ("incorrect", "error"), str(result)
    assert result.message


@pytest.mark.parametrize("q", list(ex.LESSON), ids=lambda q: q.id)
def test_an_always_equal_answer_is_rejected(q, always_equal, assert_status):
    assert_status(q.check(always_equal), "incorrect")


@pytest.mark.parametrize("q", [ex.q1, ex.q2, ex.q3], ids=lambda q: q.id)
def test_functions_that_raise_or_hang_or_cheat_are_incorrect(
    q, monkeypatch, always_equal, assert_status
):
    assert_status(q.check(boom), "incorrect", "raised an error", "ZeroDivisionError")
    monkeypatch.setattr(q, "time_budget", 0.2)
    assert_status(q.check(forever), "incorrect", "ran too long")
    assert_status(q.check(lambda *args: always_equal), "incorrect")
    assert_status(q.check(lambda *args: float("nan")), "incorrect")


def test_hints_increase():
    for q in ex.LESSON:
        assert len(q.hints) >= 2
        assert "Hint 2" in str(q.hint(2)) and f"ex.{q.id}.hint(2)" in str(q.hint())


# --- q1: backward --------------------------------------------------------------------------------
def _backward_variant(sign=1.0, mean=True, sigma_prime=True, bias_sum=True, extra=0.0):
    def backward(params, X, y):
        logits, (z1, h) = forward(params, X)
        dlogits = sign * (sigmoid(logits) - y) / (len(X) if mean else 1)
        dh = dlogits @ params["W2"].T
        dz1 = dh * h * (1 - h) if sigma_prime else dh
        reduce = (lambda a: a.sum(axis=0)) if bias_sum else (lambda a: a)
        return {
            "W1": X.T @ dz1 + extra,
            "b1": reduce(dz1),
            "W2": h.T @ dlogits,
            "b2": reduce(dlogits),
        }

    return backward


def test_backward_solution_matches_keras_autodiff_on_the_lesson_network(solution):
    import keras

    from labkit.backend import loss_and_gradients

    backward = solution(ex.q1, **CONTEXT)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2))
    y = rng.integers(0, 2, size=(6, 1)).astype(float)
    params = {
        "W1": rng.normal(size=(2, 4)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(4, 1)),
        "b2": rng.normal(size=1),
    }
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, activation="sigmoid"), keras.layers.Dense(1)]
    )
    model.set_weights([params[k] for k in ex.PARAM_NAMES])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    _, keras_grads = loss_and_gradients(model, X, y)
    ours = backward(params, X, y)
    for name, g in zip(ex.PARAM_NAMES, keras_grads):
        np.testing.assert_allclose(ours[name], g, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "variant, words",
    [
        (dict(sign=-1.0), ["wrong sign", "σ(logits) − y"]),
        (dict(mean=False), ["too large", "MEAN"]),
        (dict(sigma_prime=False), ["W2 and b2 are right", "h · (1 − h)"]),
        (dict(bias_sum=False), ["shape", "sum"]),
        (dict(extra=0.1), ["W2 and b2 are right", "dz1"]),
    ],
)
def test_backward_plausible_mistakes_are_explained(variant, words, assert_status):
    assert_status(ex.q1.check(_backward_variant(**variant)), "incorrect", *words)


def test_backward_that_ignores_the_hidden_width_fails_on_unseen_shapes(solution, assert_status):
    backward = solution(ex.q1, **CONTEXT)

    def fixed_width(params, X, y):
        grads = backward(params, X, y)
        return {k: v[..., :3] if k in ("W1", "b1") else v for k, v in grads.items()}

    assert_status(ex.q1.check(fixed_width), "incorrect", "shape")


def test_backward_must_return_every_gradient(solution, assert_status):
    backward = solution(ex.q1, **CONTEXT)
    result = ex.q1.check(lambda p, X, y: {k: v for k, v in backward(p, X, y).items() if k != "b1"})
    assert_status(result, "incorrect", "b1")
    assert_status(ex.q1.check(lambda p, X, y: [1, 2, 3]), "incorrect", "dict")


# --- q2: numerical_gradient ----------------------------------------------------------------------
def one_sided(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[i] += eps
        grad[i] = (f(shifted) - f(x)) / eps
    return grad


def no_halving(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus) - f(minus)) / eps
    return grad


def not_restored(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        x[i] += eps
        up = f(x)
        x[i] -= eps
        down = f(x)
        grad[i] = (up - down) / (2 * eps)
    return grad


def flat_only(f, x, eps=1e-5):
    grad = np.zeros(x.size)
    flat = x.ravel()
    for i in range(x.size):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2 * eps)
    return grad


@pytest.mark.parametrize(
    "answer, words",
    [
        (one_sided, ["one-sided", "central"]),
        (no_halving, ["twice", "2 * eps"]),
        (not_restored, ["off by", "one entry at a time"]),
        (flat_only, ["shape (2, 3)"]),
    ],
)
def test_numerical_gradient_plausible_mistakes_are_explained(answer, words, assert_status):
    assert_status(ex.q2.check(answer), "incorrect", *words)


def test_numerical_gradient_written_differently_passes(assert_status):
    def vectorised(f, x, eps=1e-5):
        basis = np.eye(x.size).reshape(x.size, *x.shape) * eps
        diffs = [f(x + e) - f(x - e) for e in basis]
        return np.reshape(diffs, x.shape) / (2 * eps)

    assert_status(ex.q2.check(vectorised), "correct")


# --- q3: predicted_change ------------------------------------------------------------------------
def squares(grads, keys=ex.PARAM_NAMES):
    return sum(float(np.sum(grads[k] ** 2)) for k in keys)


def measured(params, X, y, lr):
    def loss(p):
        prob = sigmoid(forward(p, X)[0])
        return -np.mean(y * np.log(prob) + (1 - y) * np.log(1 - prob))

    grads = backward(params, X, y)
    return loss({k: params[k] - lr * grads[k] for k in params}) - loss(params)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda p, X, y, lr: 0.0, ["returned 0", "changes nothing"]),
        (lambda p, X, y, lr: lr * squares(backward(p, X, y)), ["wrong sign", "against"]),
        (lambda p, X, y, lr: -squares(backward(p, X, y)), ["learning rate"]),
        (lambda p, X, y, lr: -lr * squares(backward(p, X, y)) ** 0.5, ["squared norm"]),
        (
            lambda p, X, y, lr: -lr * sum(float(np.sum(g)) for g in backward(p, X, y).values()),
            ["square every entry"],
        ),
        (lambda p, X, y, lr: -lr * squares(backward(p, X, y), ("W1", "W2")), ["biases"]),
        (measured, ["really makes", "first-order prediction"]),
        (lambda p, X, y, lr: -0.001, ["first-order change is"]),
        (lambda p, X, y, lr: backward(p, X, y), ["single number"]),
    ],
    ids=[
        "zero",
        "uphill",
        "no-lr",
        "norm",
        "not-squared",
        "weights-only",
        "measured",
        "constant",
        "dict",
    ],
)
def test_predicted_change_mistakes_are_explained(answer, words, assert_status):
    assert_status(ex.q3.check(answer), "incorrect", *words)


def test_predicted_change_written_differently_passes_and_reports_the_overshoot(assert_status):
    def flat(params, X, y, learning_rate):
        g = np.concatenate([v.ravel() for v in backward(params, X, y).values()])
        return float(g @ (-learning_rate * g))

    result = ex.q3.check(flat)
    assert_status(result, "correct", "overshoot", f"at {ex.LARGE_LR:g}")


def test_first_order_holds_for_small_steps_and_fails_for_the_large_one():
    for params, X, y, lr in ex._step_inputs():
        predicted = -lr * squares(backward(params, X, y))
        real = measured(params, X, y, lr)
        if lr == ex.LARGE_LR:
            assert predicted < 0 < real
        else:
            assert real == pytest.approx(predicted, rel=0.02)
            assert real != pytest.approx(predicted, rel=1e-6)


# --- q4: n_evals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer, words",
    [
        (784 * 100 + 100 + 100 * 10 + 10, ["number of parameters", "twice"]),
        (2 * (784 * 100 + 100 * 10), ["biases"]),
        (2, ["count the parameters"]),
    ],
)
def test_n_evals_plausible_mistakes_are_explained(answer, words, assert_status):
    assert_status(ex.q4.check(answer), "incorrect", *words)


def test_n_evals_accepts_a_float_or_numpy_number(assert_status):
    assert_status(ex.q4.check(159020.0), "correct")
    assert_status(ex.q4.check(np.int64(159020)), "correct")
