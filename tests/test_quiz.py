"""Quiz exercises: every check path, and the grader's collector treats an answer as data."""

from __future__ import annotations

import pytest

from labkit.exercises.core import COLLECTORS, CheckResult
from labkit.exercises.quiz import QuizExercise

pytestmark = pytest.mark.backends


def _quiz(**overrides) -> QuizExercise:
    fields = {
        "id": "k1",
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
    with pytest.raises(ValueError, match='answer="answer_q7"'):
        _quiz(id="q7")  # no variable follows from this id: the declaration must name one


def test_the_answer_variable_follows_from_the_id_unless_given():
    assert _quiz(id="k4").answer == "answer_k4"
    assert _quiz(id="predict").answer == "prediction"
    chosen = _quiz(id="q7", answer="guess")
    assert chosen.answer == "guess"
    assert 'Answer with guess = "…", then ex.q7.check(guess).' in str(chosen)


# --- every lesson's quizzes: "predict, then run" and "Test your knowledge" ---------------------
QUIZ_LESSONS = ("lesson02", "lesson03", "lesson04", "lesson05", "lesson06")


def _lesson_quizzes() -> list[QuizExercise]:
    import importlib

    found = []
    for name in QUIZ_LESSONS:
        module = importlib.import_module(f"labkit.exercises.{name}")
        found += [e for e in module.LESSON if isinstance(e, QuizExercise)]
    return found


@pytest.mark.parametrize("name", QUIZ_LESSONS)
def test_each_lesson_has_a_prediction_and_four_to_six_questions(name):
    import importlib

    lesson = importlib.import_module(f"labkit.exercises.{name}").LESSON
    quizzes = [e for e in lesson if isinstance(e, QuizExercise)]
    ids = [q.id for q in quizzes]
    assert "predict" in ids, f"{lesson.name} has no 'predict, then run' question"
    assert lesson["predict"].points == 0, "a prediction is not graded"
    knowledge = [i for i in ids if i.startswith("k")]
    assert 4 <= len(knowledge) <= 6, f"{lesson.name}: {knowledge}"
    assert len({lesson[i].correct for i in knowledge}) >= 2, "the right key is always the same"
    assert any(e.kind == "playground" for e in lesson), f"{lesson.name} has no challenge"


@pytest.mark.parametrize("q", _lesson_quizzes(), ids=lambda q: f"{q.lesson}-{q.id}")
def test_every_lesson_quiz_teaches_on_every_option(q, solution):
    answer = solution(q)  # the lesson's own solution cell
    assert answer == q.correct, f"the lesson's solution {answer!r} is not the right key"
    right = q.check(answer)
    assert right.status == "correct" and q.explanations[q.correct] in right.message
    assert q.grade(COLLECTORS[q.kind](answer, inputs=None, time_budget=1.0)).status == "correct"
    for key, explanation in q.explanations.items():
        if key != q.correct:
            wrong = q.check(key.upper())
            assert wrong.status == "incorrect" and explanation in wrong.message, key
            assert wrong.points == 0
        assert len(explanation) > 30, f"{key}: explain why, in a sentence ({explanation!r})"
    assert q.check(...).status == "not_attempted"
    for junk in ("", "all of them", 1, ["a"]):
        result = q.check(junk)
        assert result.status == "incorrect" and q.answer in result.message, junk
