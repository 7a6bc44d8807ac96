"""The playground on real Keras runs: presets, findings, state, the app's widgets, challenges."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from labkit.exercises.challenges import challenges
from labkit.exercises.core import COLLECTORS
from labkit.playground import Playground, make_data
from labkit.playground._app import App, show

pytestmark = pytest.mark.backends


def _kinds(pg: Playground) -> list[str]:
    return [f.kind for f in pg.findings]


def test_state_is_json_and_rebuilds_the_same_playground():
    pg = Playground(preset="dead_relu", width=8, locked=["depth"])
    state = json.loads(json.dumps(pg.state))
    again = Playground(**state)
    assert again.state == pg.state == Playground.from_state(state).state
    assert pg.changed() == {"width": 8} and state["preset"] == "dead_relu"
    np.testing.assert_array_equal(again.x_train, pg.x_train)
    for a, b in zip(again.model.get_weights(), pg.model.get_weights()):
        np.testing.assert_array_equal(a, b)  # NumPy-drawn: the same weights on every backend
    with pytest.raises(ValueError, match="the controls are"):
        Playground(activaton="relu")
    with pytest.raises(ValueError, match="is not one of"):
        Playground(activation="swish")
    with pytest.raises(ValueError, match="outside"):
        Playground(depth=0)


def test_data_is_deterministic_and_balanced():
    for name in ("spiral", "circles", "xor", "gaussian"):
        x, y = make_data(name, 200, 0.1, seed=1)
        x2, _ = make_data(name, 200, 0.1, seed=1)
        np.testing.assert_array_equal(x, x2)
        assert x.shape == (200, 2) and 0.4 < y.mean() < 0.6 and np.abs(x).max() < 3


def test_vanishing_preset_is_found_and_relu_he_clears_it():
    pg = Playground(preset="vanishing").run(steps=20, every=5)
    assert [r["step"] for r in pg.history] == [0, 5, 10, 15, 20]
    assert "vanishing" in _kinds(pg)
    norms = pg.history[-1]["grad_norms"]
    assert list(norms) == pg.layers and norms["hidden_1"] < 1e-3 * max(norms.values())

    fixed = Playground(**{**pg.state, "activation": "relu", "initializer": "he"}).run(20, every=5)
    assert "vanishing" not in _kinds(fixed)


def test_dead_relu_preset_records_dead_fractions_every_step():
    pg = Playground(preset="dead_relu").run(steps=6)
    assert [r["step"] for r in pg.history] == list(range(7))
    record = pg.history[-1]
    assert set(record["dead"]) == {"hidden_1", "hidden_2", "hidden_3", "hidden_4"}
    assert max(record["dead"].values()) >= 0.5 and "dead_relu" in _kinds(pg)
    assert set(record["update_ratio"]) == set(pg.layers)
    assert pg.history[0]["grad_norms"] == {} and all(r["grad_norms"] for r in pg.history[1:])


def test_numpy_replay_matches_the_keras_model():
    pg = Playground(activation="leaky_relu", batch_norm=True, dropout=0.2, l2=0.01, depth=2)
    pg.run(steps=5, every=5)
    logits, _ = pg.forward(pg.x_test)
    keras_logits = np.asarray(pg.model.predict_on_batch(pg.x_test))[:, 0]
    np.testing.assert_allclose(logits, keras_logits, rtol=1e-4, atol=1e-5)


def test_learning_rate_applies_live_and_other_controls_rebuild():
    pg = Playground(depth=2, width=4).run(steps=3)
    pg.set(learning_rate=0.001)
    assert pg.step == 3
    assert math.isclose(float(pg.model.optimizer.learning_rate), 0.001, rel_tol=1e-6)
    pg.set(activation="tanh")
    assert pg.step == 0 and len(pg.history) == 1 and pg.history[0]["dead"] == {}
    assert pg.reset().controls["seed"] == 1


def test_a_frame_that_redraws_only_the_changed_panels_equals_a_full_render():
    import io

    from matplotlib.image import imread

    from labkit.playground._figures import Frames

    pg = Playground().run(steps=20, every=10)
    frames = Frames()
    frames.png(pg)
    partial = []
    while len(partial) < 2 and pg.step < 1500:  # the step axis grows at 200, then 1000
        pg.run(steps=50, every=50)
        before = frames.layout
        frame = frames.png(pg)
        changed = [i for i, part in enumerate(frames.layout) if part != before[i]]
        if changed:
            assert 0 not in changed  # the decision boundary's layout never changes
            full = frames.png(pg, full=True)
            partial.append(changed)
            np.testing.assert_array_equal(imread(io.BytesIO(frame)), imread(io.BytesIO(full)))
    assert [1, 2] in partial, partial  # the loss and gradient-history panels' step axis grew


def test_static_summary_and_app_widgets(monkeypatch):
    monkeypatch.setenv("LABKIT_PLAYGROUND", "static")
    pg = Playground(preset="dead_relu", depth=2)
    fig = show(pg)  # no IPython here: prints the table, returns the figure
    assert len(fig.axes) >= 6 and pg.step == 200
    pytest.importorskip("ipywidgets")
    app = App(Playground(depth=2, width=4, locked=["depth"], hidden=["l2"]))
    assert "l2" not in app.controls and app.controls["depth"].disabled
    before = app.image.value
    app.step_button.click()
    assert app.pg.step == 1 and app.image.value != before and "step <b>1</b>" in app.status.value
    app.controls["activation"].value = "sigmoid"  # a rebuild: a new network at step 0
    assert app.pg.step == 0 and app.pg.controls["activation"] == "sigmoid"


def test_challenge_collects_the_state_and_rejects_the_object_and_another_preset():
    # Every challenge's solution and handed-out set-up: test_challenges.py.
    revive = {c.id: c for c in challenges("04_dead_relu")}["p2"]
    handed = revive.playground()
    assert COLLECTORS[revive.kind](handed.state, inputs=None, time_budget=1.0) == handed.state
    assert "pg.state" in revive.check(handed).message  # the object, not its state
    other = revive.check({**handed.state, "learning_rate": 0.1, "preset": "healthy"})
    assert other.status == "incorrect" and "starts from preset 'dead_relu'" in other.message
