"""The grader's kernel-side collector, run in-process: the grader's plan in, answers as data out."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from labkit.exercises import core
from labkit.exercises.core import (
    CallFailed,
    Exercise,
    FunctionExercise,
    Lesson,
    ModelExercise,
    ValueExercise,
)
from labkit.grading import collector, transport
from labkit.grading.runner import _Ungradable, _write_plan

HINTS = ["Gently.", "Less gently."]


class Unprintable:
    """A dict key whose ``str`` raises: turning the answer into data fails."""

    def __str__(self) -> str:
        raise RuntimeError("no str")


def _double(x):
    if isinstance(x, int):  # an input the notebook never saw: hangs
        time.sleep(5)
    return 2 * x


def _lesson() -> Lesson:
    def right(*args):
        return "Correct."

    return Lesson(
        "99_demo",
        [
            ValueExercise(id="q1", answer="ratio", hints=HINTS, check_fn=right),
            FunctionExercise(
                id="q2",
                answer="double",
                hints=HINTS,
                check_fn=right,
                make_inputs=lambda: [(np.arange(3.0),), (7,)],
                time_budget=0.5,
            ),
            ModelExercise(id="q3", answer="build", hints=HINTS, check_fn=right),
            ValueExercise(id="q4", answer="weights", hints=HINTS, check_fn=right),
            ValueExercise(id="q5", answer="missing", hints=HINTS, check_fn=right),
        ],
    )


def test_collects_every_kind_as_data_whatever_the_notebook_did_to_labkit(tmp_path, monkeypatch):
    plan = _write_plan(_lesson(), tmp_path)
    user = {"ratio": 0.5, "double": _double, "build": lambda: 1 / 0, "weights": {Unprintable(): 1}}
    # what a submission could do to the labkit it imported: the collector must not care
    monkeypatch.setattr(core, "to_data", lambda value, depth=0: 0.25)
    monkeypatch.setitem(core.COLLECTORS, "function", lambda answer, **kwargs: "patched")

    collector.collect_answers(user, tmp_path)

    assert not [name for name in sys.modules if name.startswith("_labkit_grader")]
    ratio, double, build, weights, missing = (
        transport.unpack(tmp_path, item["stem"], core) for item in plan
    )
    assert ratio == 0.5
    np.testing.assert_array_equal(double[0], [0.0, 2.0, 4.0])
    assert double[1] == CallFailed("timeout", "did not finish within 0.5 s")
    assert build == CallFailed("raised", "ZeroDivisionError: division by zero")
    assert weights == CallFailed("raised", "RuntimeError: no str")
    assert missing is transport.MISSING


def test_one_kind_to_collector_map_serves_checks_and_the_grader(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setitem(core.COLLECTORS, "value", lambda answer, **kwargs: seen.append(kwargs))
    ValueExercise(id="q1", answer="ratio", hints=HINTS, check_fn=str, time_budget=3).collect(1)
    assert seen == [{"inputs": None, "time_budget": 3}]

    class EssayExercise(Exercise):
        kind = "essay"

    essay = Lesson("99_demo", [EssayExercise(id="q1", answer="text", hints=HINTS)])
    with pytest.raises(_Ungradable, match="exercise q1 has an unknown kind 'essay'"):
        _write_plan(essay, tmp_path)
