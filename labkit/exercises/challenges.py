"""Ready-made playground challenges for lessons 02–06, for a lesson module to attach.

Each call returns fresh :class:`~labkit.exercises.playground.PlaygroundExercise` objects (ids
``p1``, ``p2``), so a lesson adds them to its exercises and their ids stay its own. The
student gets the set-up with ``ex.p1.playground()`` (``.show()`` it, change controls, train),
then checks ``ex.p1.check(pg.state)``; ``labkit grade`` collects the state as data and re-runs it.

Example
-------
>>> from labkit.exercises.challenges import challenges
>>> [c.id for c in challenges("04_dead_relu")]
['p1', 'p2']
>>> LESSON = Lesson("04_dead_relu", [q1, q2, q3, q4, *challenges("04_dead_relu")])  # doctest: +SKIP
"""

from __future__ import annotations

from labkit.exercises.playground import (
    PlaygroundExercise,
    dead_at_least,
    learns,
    loss_below,
    no_dead,
    no_finding,
)

__all__ = ["LESSONS", "challenges"]


def _lesson02() -> list[PlaygroundExercise]:
    return [
        PlaygroundExercise(
            id="p1",
            answer="vanishing_fix",
            preset="vanishing",
            max_changes=2,
            goal=[learns(0.25), no_finding("vanishing")],
            steps=400,
            hints=[
                "Play the preset and look at the gradient-norm profile: which layers barely "
                "learn, and by how much?",
                "σ′ ≤ 0.25 shrinks the gradient at every sigmoid layer. Which activation has "
                "slope 1 where it is active, and which initializer is made for it?",
                "activation='relu' with initializer='he'.",
            ],
            points=2,
        )
    ]


def _lesson03() -> list[PlaygroundExercise]:
    return [
        PlaygroundExercise(
            id="p1",
            answer="exploding_fix",
            preset="exploding",
            max_changes=1,
            goal=[learns(0.15), no_finding("exploding")],
            steps=300,
            hints=[
                "Play the preset: where do the gradient norms start, and what happens to the loss?",
                "The initial weights are twice He's size, so every layer amplifies the signal. "
                "One control keeps each layer's activations at a fixed scale; another undoes "
                "the amplification.",
                "batch_norm=True, or init_scale=1.0.",
            ],
            points=2,
        )
    ]


def _lesson04() -> list[PlaygroundExercise]:
    return [
        PlaygroundExercise(
            id="p1",
            answer="kill_units",
            preset="healthy",
            max_changes=1,
            goal=[dead_at_least(0.5)],
            steps=200,
            hints=[
                "A unit dies when its pre-activation is negative for every input: what can push "
                "all of a layer's weights and biases far in one step?",
                "One huge update does it. Which control sets the size of an update?",
                "learning_rate=3.0.",
            ],
        ),
        PlaygroundExercise(
            id="p2",
            answer="revive_units",
            preset="dead_relu",
            max_changes=1,
            goal=[no_dead(0.5), learns(0.1)],
            steps=300,
            hints=[
                "Play the preset and watch the dead-unit panel: when do the units die?",
                "The preset's learning rate of 3.0 throws the units off in the first steps. "
                "What if the steps were small?",
                "learning_rate=0.1.",
            ],
        ),
    ]


def _lesson05() -> list[PlaygroundExercise]:
    return [
        PlaygroundExercise(
            id="p1",
            answer="overfitting_fix",
            preset="overfitting",
            max_changes=1,
            allowed=("dropout", "l2"),
            goal=[loss_below(0.6), learns(0.15), no_finding("overfitting")],
            steps=300,
            hints=[
                "Play the preset: the training loss goes to 0 while the test loss climbs. How "
                "many training points are there (40), and how many weights?",
                "Dropout makes each unit useful without the others; a rate near 0.9 leaves too "
                "little of the network to learn with.",
                "dropout=0.5 (or l2=0.01).",
            ],
            points=2,
        )
    ]


def _lesson06() -> list[PlaygroundExercise]:
    return [
        PlaygroundExercise(
            id="p1",
            answer="capstone_fix",
            preset="vanishing",
            start={"init_scale": 3.0, "learning_rate": 1.0},
            max_changes=4,
            goal=[
                learns(0.3),
                no_finding("vanishing"),
                no_finding("exploding"),
                no_finding("dead_relu"),
            ],
            steps=400,
            hints=[
                "Play it and read every panel: is there more than one fault?",
                "Saturated sigmoids (weights three times Glorot's size) stop the gradient; a "
                "learning rate of 1.0 is far above what a healthy update ratio needs.",
                "activation='relu', initializer='he', init_scale=1.0 and learning_rate=0.05 "
                "(or tanh at init_scale 1.0 with learning_rate=0.1).",
            ],
            points=3,
        )
    ]


LESSONS = {
    "02_vanishing_gradients": _lesson02,
    "03_exploding_gradients": _lesson03,
    "04_dead_relu": _lesson04,
    "05_dropout": _lesson05,
    "06_capstone": _lesson06,
}
"""Lesson name → the function that declares its challenges."""


def challenges(lesson: str) -> list[PlaygroundExercise]:
    """Fresh challenge exercises for ``lesson`` (e.g. ``"02_vanishing_gradients"``).

    Example
    -------
    >>> challenges("02_vanishing_gradients")[0].preset
    'vanishing'
    """
    if lesson not in LESSONS:
        raise ValueError(f"no playground challenges for {lesson!r}; lessons: {', '.join(LESSONS)}")
    return LESSONS[lesson]()
