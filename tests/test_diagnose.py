"""labkit.diagnose: one-shot findings on real models, each with the course's remedy."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labkit.diagnose import (
    REMEDIES,
    Finding,
    Report,
    dead_relu_findings,
    diagnose,
    exploding_finding,
    overfitting_finding,
    vanishing_finding,
)
from labkit.gradients import layer_gradient_norms
from labkit.models import build_mlp

pytestmark = pytest.mark.backends

rng = np.random.default_rng(0)
X = rng.normal(size=(128, 10)).astype("float32")
Y_CLASS = (X[:, 0] > 0).astype("float32")[:, None]
Y_REG = X.sum(axis=1, keepdims=True).astype("float32")


def _compiled(model: keras.Model, loss="mse") -> keras.Model:
    model.compile(optimizer="sgd", loss=loss)
    return model


def _kinds(report) -> list[tuple[str, str]]:
    return [(f.kind, f.layer) for f in report]


def test_healthy_relu_network():
    keras.utils.set_random_seed(0)
    model = _compiled(build_mlp(10, depth=3, width=32))
    report = diagnose(model, X, Y_REG)
    assert isinstance(report, Report) and report == []
    assert str(report).startswith("Healthy")
    assert "&#10004;" in report._repr_html_()


def test_deep_sigmoid_network_vanishes():
    keras.utils.set_random_seed(0)
    logits = keras.losses.BinaryCrossentropy(from_logits=True)
    model = _compiled(build_mlp(10, depth=8, width=16, activation="sigmoid"), logits)
    report = diagnose(model, X, Y_CLASS)
    assert ("vanishing", "hidden_1") in _kinds(report)
    assert REMEDIES["vanishing"] in report[0].message


def test_large_weights_saturate_sigmoid_units():
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=4.0)
    model = build_mlp(10, depth=3, width=16, activation="sigmoid", kernel_initializer=init)
    report = diagnose(_compiled(model), X, Y_REG)
    saturated = [f for f in report if f.kind == "saturation"]
    assert [f.layer for f in saturated] == ["hidden_1", "hidden_2", "hidden_3"]
    hidden = keras.Model(model.inputs, model.get_layer("hidden_1").output).predict(X, verbose=0)
    share = np.mean((hidden < 0.02) | (hidden > 0.98))
    assert f"{share:.0%} of its sigmoid outputs are saturated" in saturated[0].message
    assert "ReLU" in saturated[0].message


def test_every_gradient_exactly_zero_is_reported():
    """Zero kernels and biases in a ReLU net (output without bias): nothing can learn."""
    model = keras.Sequential(
        [keras.Input((10,))]
        + [
            keras.layers.Dense(8, "relu", kernel_initializer="zeros", name=f"hidden_{i}")
            for i in (1, 2, 3)
        ]
        + [keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros", name="output")]
    )
    _compiled(model)
    assert set(layer_gradient_norms(model, X, Y_REG).values()) == {0.0}
    report = diagnose(model, X, Y_REG)
    zero = [f for f in report if "every gradient is exactly zero" in f.message]
    assert len(zero) == 1 and zero[0].kind == "vanishing" and zero[0].layer == "hidden_1"
    assert ("dead_relu", "hidden_1") in _kinds(report)  # outputs are all 0 too


def test_huge_weights_explode_and_name_the_first_layer():
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=10.0)
    model = _compiled(build_mlp(10, depth=3, width=16, kernel_initializer=init))
    report = diagnose(model, X, Y_REG)
    assert report[0].kind == "exploding" and report[0].layer == "hidden_1"
    assert REMEDIES["exploding"] in report[0].message


def test_negative_bias_gives_dead_relu_findings():
    keras.utils.set_random_seed(0)
    init = keras.initializers.Constant(-5.0)
    model = _compiled(build_mlp(10, depth=2, width=16, bias_initializer=init))
    report = diagnose(model, X, Y_REG)
    dead = [f for f in report if f.kind == "dead_relu"]
    assert [f.layer for f in dead] == ["hidden_1", "hidden_2"]
    assert "LeakyReLU" in dead[0].message


def test_diagnose_changes_nothing():
    keras.utils.set_random_seed(0)
    model = _compiled(build_mlp(10, depth=2, width=8, batch_norm=True, dropout=0.5))
    before = [v.numpy().copy() for v in model.variables]
    diagnose(model, X, Y_REG)
    for b, v in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), b, err_msg=v.path)


class TinySubclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_model_still_gets_gradient_findings():
    keras.utils.set_random_seed(0)
    model = _compiled(TinySubclassed())
    model(X[:1])
    model.get_layer(index=0).kernel.assign(np.full((10, 8), 50.0, dtype="float32"))
    report = diagnose(model, X, Y_REG)
    assert [f.kind for f in report] == ["exploding"]


def test_verdict_helpers_use_their_thresholds():
    norms = {"hidden_1": 1e-5, "hidden_2": 0.3, "output": 2.0}
    assert vanishing_finding(norms, ratio=1e-3).layer == "hidden_1"
    assert vanishing_finding(norms, ratio=1e-6) is None
    assert exploding_finding(norms, threshold=1.0).layer == "output"
    assert exploding_finding(norms, threshold=10.0) is None
    assert "not finite" in exploding_finding({"a": float("nan")}, threshold=1.0).message
    fractions = {"hidden_1": 0.49, "hidden_2": 0.5}
    assert [f.layer for f in dead_relu_findings(fractions, threshold=0.5)] == ["hidden_2"]


def test_finding_validates_kind_and_prints_its_step():
    with pytest.raises(ValueError, match="kind must be one of"):
        Finding("overfit", "hidden_1", None, "...")
    assert str(Finding("dead_relu", "hidden_2", 40, "msg")) == "[dead_relu] hidden_2 (step 40): msg"
    assert str(Finding("exploding", "hidden_1", None, "msg")) == "[exploding] hidden_1: msg"


def test_report_html_escapes_and_lists_each_finding():
    report = Report([Finding("dead_relu", "<b>", 3, "a & b")])
    html = report._repr_html_()
    assert "&lt;b&gt;" in html and "a &amp; b" in html and "(step 3)" in html


def test_overfitting_is_a_held_out_loss_that_climbs_while_the_training_loss_falls():
    # A real Keras fit that memorizes: 12 noisy points, a wide network, 40 epochs.
    keras.utils.set_random_seed(0)
    x = rng.normal(size=(24, 2)).astype("float32")
    y = ((x[:, 0] > 0) ^ (rng.random(24) < 0.3)).astype("float32")[:, None]  # 30% labels flipped
    model = build_mlp(2, depth=3, width=64, output_activation="sigmoid")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    fit = model.fit(x[:12], y[:12], validation_data=(x[12:], y[12:]), epochs=40, verbose=0)
    found = overfitting_finding(fit.history["loss"], fit.history["val_loss"], step=40)
    assert found is not None and found.kind == "overfitting" and found.step == 40
    assert REMEDIES["overfitting"] in found.message and "rose from its lowest" in found.message

    # A gap alone is not overfitting; neither is a run that diverges (both losses climb).
    assert overfitting_finding([0.7, 0.3, 0.2], [0.8, 0.6, 0.6]) is None
    assert overfitting_finding([0.7, 0.9, 5.0], [0.7, 1.2, 9.0]) is None
    assert overfitting_finding([0.7, float("nan")], [0.7, 2.0]) is None
    with pytest.raises(ValueError, match="3 training losses but 2"):
        overfitting_finding([1, 2, 3], [1, 2])
