"""Multiple-choice questions (kind ``"quiz"``): "Test your knowledge" and "predict, then run".

The answer is an option's key as a string (``"b"``). Every option carries an explanation, shown
when it is chosen: why it is right, or which misconception makes it tempting and why it is wrong.
For "predict, then run", the student writes the prediction before the experiment and checks it
after.

Example
-------
>>> q = QuizExercise(
...     id="k1", hints=["Think of σ′.", "Its largest value is 0.25."],
...     question="Why do deep sigmoid networks learn slowly?",
...     options={"a": "The gradient shrinks layer by layer.", "b": "Sigmoid is slow."},
...     explanations={"a": "Each layer multiplies it by σ′ ≤ 0.25.", "b": "Its cost is tiny."},
...     correct="a")
>>> q.answer, q.check("A").status, q.check("b").status, q.check(...).status
('answer_k1', 'correct', 'incorrect', 'not_attempted')
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

from labkit.exercises.core import Exercise, Incorrect, Unsupported

__all__ = ["QuizExercise"]


@dataclass(eq=False)
class QuizExercise(Exercise):
    """One multiple-choice question; ``check(answer)`` takes an option key such as ``"b"``.

    ``options`` maps each key to its text, ``explanations`` each key to why it is right or
    wrong, ``correct`` is the right key. Keys are compared without case or surrounding spaces,
    brackets and dots (``" (B). "`` is ``"b"``). ``answer``, the notebook variable, follows
    from the id unless given: ``"k3"`` is answered in ``answer_k3``, ``"predict"`` in
    ``prediction``.
    """

    answer: str = field(default="", kw_only=True)
    question: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    explanations: Mapping[str, str] = field(default_factory=dict)
    correct: str = ""

    kind = "quiz"

    def __post_init__(self):
        super().__post_init__()
        self.answer = self.answer or _answer_for(self.id)
        keys = [str(k).lower() for k in self.options]
        if len(keys) < 2 or len(set(keys)) != len(keys):
            raise ValueError(f"quiz {self.id} needs at least two options with distinct keys")
        if set(self.explanations) != set(self.options):
            raise ValueError(
                f"quiz {self.id}: give every option an explanation (options {sorted(self.options)},"
                f" explained {sorted(self.explanations)})"
            )
        if self.correct not in self.options:
            raise ValueError(f"quiz {self.id}: correct={self.correct!r} is not an option key")

    def evaluate(self, data) -> str:
        keys = ", ".join(f"'{k}'" for k in self.options)
        if not isinstance(data, str):
            what = data.type_name if isinstance(data, Unsupported) else type(data).__name__
            raise Incorrect(
                f"`{self.answer}` should be the key of one option as a string, one of {keys} "
                f'(e.g. {self.answer} = "{next(iter(self.options))}"), not a {what}.'
            )
        chosen = self._key(data)
        if chosen is None:
            raise Incorrect(
                f"{data.strip()[:40]!r} is not one of the options {keys}: answer with the key "
                f'of one option, e.g. {self.answer} = "{next(iter(self.options))}".'
            )
        if chosen != self.correct:
            raise Incorrect(f"Not {chosen}: {self.explanations[chosen]}")
        return f"Correct: {self.explanations[chosen]}"

    def _key(self, text: str) -> str | None:
        wanted = text.strip().strip("().").strip().lower()
        return next((k for k in self.options if str(k).lower() == wanted), None)

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>) {html.escape(text)}</li>"
            for k, text in self.options.items()
        )
        return (
            f"<p><b>{html.escape(self.id)}.</b> {html.escape(self.question)}</p>"
            f"<ul style='list-style:none'>{items}</ul>"
            f'<p><i>Answer with <code>{html.escape(self.answer)} = "…"</code>, then '
            f"<code>{html.escape(self.name)}.check({html.escape(self.answer)})</code>.</i></p>"
        )

    def __str__(self) -> str:
        lines = [f"{self.id}. {self.question}"]
        lines += [f"  {k}) {text}" for k, text in self.options.items()]
        lines.append(f'Answer with {self.answer} = "…", then {self.name}.check({self.answer}).')
        return "\n".join(lines)

    __repr__ = __str__  # a notebook's plain-text output is the question, not the dataclass


def _answer_for(quiz_id: str) -> str:
    """The notebook variable that answers quiz ``quiz_id``: ``answer_k3`` for ``"k3"``,
    ``prediction`` for ``"predict"``.

    Example
    -------
    >>> _answer_for("k3"), _answer_for("predict")
    ('answer_k3', 'prediction')
    """
    if quiz_id == "predict":
        return "prediction"
    if quiz_id.startswith("k") and quiz_id[1:].isdigit():
        return f"answer_{quiz_id}"
    raise ValueError(
        f'quiz {quiz_id}: name the variable that holds its answer, e.g. answer="answer_{quiz_id}"'
    )
