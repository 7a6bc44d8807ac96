"""The recorded runs that diagnosis exercises show are what their labels say, and in sync."""

from __future__ import annotations

import math

import pytest

from labkit.exercises import LESSON_MODULES, lesson_for
from labkit.exercises.diagnosis import DiagnosisExercise, recorded_runs

pytestmark = pytest.mark.backends


def _lessons_with_runs() -> list[str]:
    import importlib

    return [
        name
        for name, module in LESSON_MODULES.items()
        if getattr(importlib.import_module(f"labkit.exercises.{module}"), "RUNS", None)
    ]


def _signature(failure: str, c: dict) -> bool:
    """Whether a run's clues show the failure it is labelled with (the course's own tells)."""
    diverged = not math.isfinite(c["loss_end"])
    stuck = not diverged and c["loss_end"] > 0.9 * c["baseline_loss"]
    overfit = (
        math.isfinite(c["val_loss_end"])
        and c["val_loss_end"] > 1.1 * c["val_loss_min"]
        and c["loss_end"] < 0.2 * c["val_loss_end"]
    )
    return {
        "vanishing": c["vanishing_ratio"] < 1e-3 and stuck,
        "exploding": c["max_norm_start"] > 1e3
        and (diverged or c["loss_start"] > 10 * c["baseline_loss"]),
        "lr_too_high": c["max_norm_start"] < 1e2 and c["vanishing_ratio"] > 1e-2 and diverged,
        "lr_too_low": c["vanishing_ratio"] > 1e-2
        and c["update_ratio"] < -3.8
        and c["loss_end"] > 0.75 * c["baseline_loss"],
        "dead_relu": c["dead_max"] >= 0.5,
        "overfitting": overfit,
        "healthy": not diverged
        and not overfit
        and c["dead_max"] < 0.5
        and c["vanishing_ratio"] > 1e-2
        and c["val_loss_end"] < 0.7 * c["baseline_loss"],
    }[failure]


@pytest.mark.parametrize("lesson", _lessons_with_runs())
def test_every_recorded_run_shows_the_failure_it_is_labelled_with(lesson):
    runs = recorded_runs(lesson)
    assert runs, f"{lesson} declares RUNS but none are recorded: run `make lessons`"
    for run in runs.values():
        assert _signature(run.failure, run.clues), (run.id, run.failure, run.clues)
        assert run.failure not in run.description.lower(), "the description must not tell"


@pytest.mark.parametrize("lesson", _lessons_with_runs())
def test_diagnosis_exercises_ask_about_recorded_runs_with_a_healthy_one(lesson):
    runs = recorded_runs(lesson)
    exercises = [q for q in lesson_for(lesson) if isinstance(q, DiagnosisExercise)]
    assert exercises, f"{lesson} records runs but no exercise asks about them"
    for q in exercises:
        assert set(q.runs) <= set(runs)
        failures = [runs[r].failure for r in q.runs]
        assert "healthy" in failures and len(set(failures)) >= 3
        right = {r: (runs[r].failure, _first_remedy(runs[r].failure)) for r in q.runs}
        assert q.check(right).status == "correct"
        all_healthy = dict.fromkeys(q.runs, ("healthy", "none"))
        assert q.check(all_healthy).status == "incorrect"


def _first_remedy(failure: str) -> str:
    from labkit.exercises.diagnosis import ACCEPTED_REMEDIES

    return ACCEPTED_REMEDIES[failure][0]
