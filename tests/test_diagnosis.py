"""Diagnosis exercises: recorded runs in, (failure, remedy) answers judged with teaching words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labkit.exercises import diagnosis
from labkit.exercises.core import Lesson
from labkit.exercises.diagnosis import DiagnosisExercise, recorded_runs

pytestmark = pytest.mark.backends

LAYERS = ("hidden_1", "hidden_2", "output")


def _run(run_id: str, failure: str, **clues) -> dict:
    norms = [{"step": s, "epoch": 0, "norms": dict(zip(LAYERS, (0.1, 0.5, 1.0)))} for s in (0, 1)]
    norms[1]["update_ratio"] = dict(zip(LAYERS, (-3.0, -3.1, -2.9)))
    dead = [
        {"step": s, "epoch": 0, "dead_fraction": {"hidden_1": 0.0, "hidden_2": 0.1}} for s in (0, 1)
    ]
    base = {
        "vanishing_ratio": 0.1,
        "max_norm_start": 1.0,
        "loss_start": 1.1,
        "loss_end": 0.2,
        "val_loss_end": 0.25,
        "val_loss_min": 0.25,
        "dead_max": 0.1,
        "dead_layer": "hidden_2",
        "update_ratio": -3.0,
        "baseline_loss": 1.1,
    }
    return {
        "id": run_id,
        "failure": failure,
        "description": f"run {run_id}",
        "history": {"loss": [0.5, 0.2], "val_loss": [0.5, 0.25]},
        "grads": norms,
        "dead": dead,
        "clues": {**base, **clues},
    }


@pytest.fixture
def q(tmp_path, monkeypatch):
    runs = [
        _run("A", "exploding", max_norm_start=2310.0, loss_end=float("nan")),
        _run("B", "lr_too_high", max_norm_start=9.6, update_ratio=-0.5, loss_end=float("nan")),
        _run("C", "healthy"),
    ]
    (tmp_path / "99_demo.json").write_text(json.dumps(runs))
    monkeypatch.setattr(diagnosis, "RUNS_DIR", tmp_path)
    exercise = DiagnosisExercise(
        id="q4", answer="diagnosis", hints=["Look at step 0.", "Compare A and B."], runs="ABC"
    )
    Lesson("99_demo", [exercise])
    return exercise


RIGHT = {
    "A": ("exploding", "batch_norm"),
    "B": ("lr_too_high", "lower_lr"),
    "C": ("healthy", "none"),
}


def test_the_right_diagnosis_is_correct_and_the_grader_agrees(q, assert_status):
    assert_status(q.check(RIGHT), "correct", "A: exploding gradients")
    assert q.grade(q.collect(RIGHT)) == q.check(RIGHT)
    spelled = {
        "A": {"failure": "Exploding gradients", "remedy": "gradient clipping"},
        "B": ["learning rate too high", "Lower LR"],
        "C": ("ok", "no change"),
    }
    assert_status(q.check(spelled), "correct")


def test_look_alikes_are_answered_with_what_tells_them_apart(q, assert_status):
    swapped = {**RIGHT, "A": ("lr_too_high", "lower_lr"), "B": ("exploding", "batch_norm")}
    result = q.check(swapped)
    assert_status(result, "incorrect", "1 of 3 runs right", "2.3e+03", "before any update")
    assert "Run B is not exploding gradients" in result.message


def test_a_right_failure_with_a_wrong_remedy_says_why(q, assert_status):
    result = q.check({**RIGHT, "A": ("exploding", "dropout")})
    assert_status(result, "incorrect", "right, exploding gradients", "dropout does not address")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({**RIGHT, "A": "exploding"}, ["two words"]),
        ({**RIGHT, "A": ("explosion", "batch_norm")}, ["not one of the failures", "'vanishing'"]),
        ({**RIGHT, "A": ("exploding", "magic")}, ["not one of the remedies", "'batch_norm'"]),
        ({"A": RIGHT["A"]}, ["missing: B, C"]),
        ({**RIGHT, "D": ("healthy", "none")}, ["not a run here: D"]),
        ("exploding", ["should be a dict"]),
        (None, ["should be a dict"]),
        ({**RIGHT, "A": ...}, ["still `...`"]),
    ],
)
def test_junk_is_incorrect_with_a_message(q, assert_status, answer, words):
    assert_status(q.check(answer), "incorrect", *words)


def test_the_placeholder_is_not_attempted(q, assert_status):
    assert_status(q.check(...), "not_attempted")
    assert_status(q.check({"A": ..., "B": ..., "C": ...}), "not_attempted", "ex.q4.hint()")


def test_answers_that_know_nothing_never_pass(q, always_equal):
    for failure, remedy in [("healthy", "none"), ("exploding", "batch_norm")]:
        assert q.check(dict.fromkeys("ABC", (failure, remedy))).status == "incorrect"
    assert q.check(always_equal).status == "incorrect"


def test_recorded_runs_read_like_live_monitors(q):
    runs = q.recorded()
    assert list(runs) == ["A", "B", "C"]
    assert runs["A"].grads.at(0) == dict(zip(LAYERS, (0.1, 0.5, 1.0)))
    assert runs["A"].dead.layers() == ["hidden_1", "hidden_2"]
    assert "exploding" not in repr(runs["A"]), "the repr must not give the answer away"
    fig = runs["A"].plot()
    assert len(fig.axes) == 4 and "Run A" in fig.get_suptitle()


def test_missing_runs_say_how_to_build_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make lessons"):
        recorded_runs("99_none", directory=tmp_path)


def test_a_recorded_run_is_real_training_with_its_clues():
    from labkit.exercises.recording import Recipe, baseline_loss, record

    run = record(Recipe("Z", "healthy", "two layers", "spiral", depth=2, width=8, epochs=1))
    assert run["grads"][0]["step"] == 0 and list(run["grads"][0]["norms"])[0] == "hidden_1"
    assert run["dead"][-1]["dead_fraction"].keys() == {"hidden_1", "hidden_2"}
    assert len(run["history"]["loss"]) == len(run["history"]["val_loss"]) == 1
    clues = run["clues"]
    assert clues["baseline_loss"] == pytest.approx(np.log(3), rel=1e-3)  # 3 balanced classes
    assert 0 < clues["vanishing_ratio"] <= 1 and clues["loss_start"] > 0
    assert baseline_loss(np.array([1.0, 3.0]), regression=True) == 1.0
    json.dumps(run)


def test_recorded_runs_out_of_step_with_the_recipes_are_reported(tmp_path, monkeypatch):
    from labkit import authoring
    from labkit.exercises import lesson03
    from labkit.exercises.recording import Recipe

    recipe = Recipe("A", "healthy", "four ReLU layers", "regression")
    monkeypatch.setattr(lesson03, "RUNS", [recipe], raising=False)
    monkeypatch.setattr(diagnosis, "RUNS_DIR", tmp_path)
    monkeypatch.setattr(authoring, "REPO_ROOT", tmp_path.parent)
    source = authoring.SOURCE_DIR / "03_exploding_gradients.py"
    assert authoring._runs_out_of_sync(source)  # nothing recorded yet
    stored = [{"id": "A", "failure": "healthy", "description": "four ReLU layers"}]
    (tmp_path / "03_exploding_gradients.json").write_text(json.dumps(stored))
    assert authoring._runs_out_of_sync(source) == []
    monkeypatch.setattr(lesson03, "RUNS", [Recipe("A", "exploding", "x", "regression")])
    assert "does not match" in authoring._runs_out_of_sync(source)[0]
