"""Every playground challenge of lessons 02–06: the lesson's own solution passes and the grader
agrees; the handed-out set-up and the placeholder do not. Each lesson's tests add its own wrong
answers (a learning rate of 0, a useless dropout rate, too many changes, ...)."""

from __future__ import annotations

import pytest

from labkit.exercises import lesson_for
from labkit.exercises.challenges import LESSONS

pytestmark = pytest.mark.backends

CHALLENGES = [e for name in LESSONS for e in lesson_for(name) if e.kind == "playground"]


@pytest.mark.parametrize("c", CHALLENGES, ids=lambda c: f"{c.lesson}-{c.id}")
def test_the_lessons_solution_is_correct_and_the_grader_agrees(c, solution, assert_status):
    handed = c.playground().state
    answer = solution(c, pg=c.playground())  # the lesson's own solution cell
    changed = [f"{k}={v!r}" for k, v in answer.items() if v != handed[k]]
    result = c.check(answer)
    assert_status(result, "correct", *changed, f"after {c.steps} steps")  # what it judged
    assert result.points == c.points
    assert c.grade(c.collect(answer)).to_dict() == result.to_dict()


@pytest.mark.parametrize("c", CHALLENGES, ids=lambda c: f"{c.lesson}-{c.id}")
def test_the_handed_out_setup_is_incorrect_and_the_placeholder_not_attempted(c, assert_status):
    handed = c.check(c.playground().state)
    assert_status(handed, "incorrect", "unchanged", ", ".join(c.allowed))
    assert c.grade(c.collect(c.playground().state)).to_dict() == handed.to_dict()
    assert_status(c.check(...), "not_attempted")
