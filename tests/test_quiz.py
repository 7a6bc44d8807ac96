"""Quiz exercises: every check path, and the grader's collector treats an answer as data."""

from __future__ import annotations

import pytest

from labkit.exercises.core import COLLECTORS, CheckResult
from labkit.exercises.quiz import QuizExercise

pytestmark = pytest.mark.backends


def _quiz(**overrides) -> QuizExercise:
    fields = {
        "id": "k1",
        "answer": "answer_k1",
        "hints": ["What does σ′ do to the signal?", "Its largest value is 0.25."],
        "question": "Why does a deep sigmoid network's first layer barely learn?",
        "options": {
            "a": "Each layer multiplies the backward signal by σ′ ≤ 0.25.",
            "b": "The first layer has fewer weights.",
            "c": "Sigmoid is slow to compute.",
        },
        "explanations": {
            "a": "Ten such factors shrink it by 10⁻⁶ or more.",
            "b": "Every hidden layer here has the same width.",
            "c": "Its cost is the same in every layer and does not affect the gradient.",
        },
        "correct": "a",
    }
    return QuizExercise(**{**fields, **overrides})


def test_right_wrong_junk_and_placeholder_answers():
    q = _quiz()
    right = q.check(" (A). ")
    assert right.status == "correct" and right.points == 1 and bool(right)
    assert "10⁻⁶" in right.message

    wrong = q.check("b")
    assert wrong.status == "incorrect" and wrong.points == 0
    assert "same width" in wrong.message  # the chosen option's explanation

    for junk, said in ((2, "int"), ("z", "not one of the options"), (None, "NoneType")):
        result = q.check(junk)
        assert result.status == "incorrect", junk
        assert said in result.message and "answer_k1" in result.message

    assert q.check(object()).status == "incorrect"  # not plain data: never trusted
    assert q.check(...).status == "not_attempted"
    assert isinstance(q.check("a"), CheckResult)


def test_the_grader_collects_a_quiz_answer_as_plain_data():
    q = _quiz()
    data = COLLECTORS[q.kind]("a", inputs=None, time_budget=1.0)
    assert data == "a" and q.grade(data).status == "correct"


def test_declaration_errors_name_what_is_missing():
    with pytest.raises(ValueError, match="every option an explanation"):
        _quiz(explanations={"a": "yes"})
    with pytest.raises(ValueError, match="not an option key"):
        _quiz(correct="d")
    assert "a) Each layer" in str(_quiz()) and "answer_k1" in _quiz()._repr_html_()
