"""Playground challenges (kind ``"playground"``): the answer is a playground's ``state``.

The check rebuilds the submitted controls on its own seeds (:data:`CHECK_SEED`: the student
cannot pick a lucky one), trains them headless and judges what the network did. A challenge
starts from a preset (plus ``start`` overrides), may limit how many controls change and which,
and hands the student that set-up with the other controls locked (:meth:`playground`).

Example
-------
>>> from labkit.exercises.playground import PlaygroundExercise, learns, no_finding
>>> c1 = PlaygroundExercise(
...     id="p1", answer="fixed", hints=["Which layer learns least?", "Try ReLU with He."],
...     preset="vanishing", max_changes=2, goal=[learns(0.25), no_finding("vanishing")])
>>> c1.check(c1.playground().state).status  # the unchanged preset  # doctest: +SKIP
'incorrect'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from labkit.exercises.core import Exercise, Incorrect, Unsupported
from labkit.exercises.training import CHECK_SEED

__all__ = [
    "PlaygroundExercise",
    "dead_at_least",
    "learns",
    "loss_below",
    "no_dead",
    "no_finding",
]

Goal = Callable[[object], str]
"""A judge of a trained playground: returns what it saw, or raises :class:`Incorrect`."""


def _goal(name: str, **constants: object) -> Callable[[Goal], Goal]:
    """Name a goal after the call that made it and attach the ``constants`` a lesson's prose may
    state (a challenge collects them, e.g. ``{{p1.margin:.0%}}``).

    Example
    -------
    >>> @_goal("always(1)", limit=1)
    ... def goal(pg):
    ...     return "fine"
    >>> goal.__name__, goal.constants
    ('always(1)', {'limit': 1})
    """

    def named(goal: Goal) -> Goal:
        goal.__name__ = name
        goal.constants = constants
        return goal

    return named


def learns(margin: float) -> Goal:
    """Test accuracy at least ``margin`` above the majority class, with a finite loss.

    Example
    -------
    >>> learns(0.2).__name__
    'learns(0.2)'
    """

    @_goal(f"learns({margin:g})", margin=margin, margin_points=round(margin * 100))
    def goal(pg) -> str:
        s = pg.summary()
        if not math.isfinite(s["train_loss"]):
            raise Incorrect(
                f"after {s['step']} steps the training loss is {s['train_loss']}: the run "
                "diverged, so it learned nothing."
            )
        need = s["baseline_accuracy"] + margin
        if s["test_accuracy"] < need:
            raise Incorrect(
                f"test accuracy is {s['test_accuracy']:.0%} after {s['step']} steps; predicting "
                f"the majority class already gives {s['baseline_accuracy']:.0%}, and the "
                f"challenge asks for at least {need:.0%}."
            )
        return (
            f"test accuracy {s['test_accuracy']:.0%} (majority class {s['baseline_accuracy']:.0%})"
        )

    return goal


def no_finding(kind: str) -> Goal:
    """No finding of ``kind`` (``"vanishing"``, ``"exploding"``, ...) at the end of the run.

    Example
    -------
    >>> no_finding("vanishing").__name__
    "no_finding('vanishing')"
    """

    @_goal(f"no_finding({kind!r})")
    def goal(pg) -> str:
        found = [f for f in pg.findings if f.kind == kind]
        if found:
            raise Incorrect(f"the run still shows {kind.replace('_', ' ')}: {found[0]}")
        return f"no {kind.replace('_', ' ')} finding"

    return goal


def _most_dead(pg) -> tuple[str | None, float]:
    """The ReLU layer with the largest fraction of dead units at the end of the run, and that
    fraction; ``(None, 0.0)`` when the network has no ReLU layers.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> _most_dead(SimpleNamespace(history=[{"dead": {"hidden_1": 0.25, "hidden_2": 0.5}}]))
    ('hidden_2', 0.5)
    """
    dead = pg.history[-1]["dead"]
    if not dead:
        return None, 0.0
    layer = max(dead, key=dead.get)
    return layer, dead[layer]


def dead_at_least(fraction: float) -> Goal:
    """Some ReLU layer with at least ``fraction`` of its units dead at the end of the run.

    Example
    -------
    >>> dead_at_least(0.5).constants
    {'dead_at_least': 0.5}
    """

    @_goal(f"dead_at_least({fraction:g})", dead_at_least=fraction)
    def goal(pg) -> str:
        layer, dead = _most_dead(pg)
        if layer is None:
            raise Incorrect(
                f"the network has no ReLU layers (activation {pg.controls['activation']!r}), so "
                "no unit can die in the ReLU sense."
            )
        if dead < fraction:
            raise Incorrect(
                f"the most dead layer, {layer}, has {dead:.0%} dead units; the challenge "
                f"asks for at least {fraction:.0%}."
            )
        return f"{dead:.0%} of {layer}'s units dead"

    return goal


def no_dead(fraction: float) -> Goal:
    """Every ReLU layer with fewer than ``fraction`` of its units dead at the end of the run.

    Example
    -------
    >>> no_dead(0.5).constants
    {'dead_below': 0.5}
    """

    @_goal(f"no_dead({fraction:g})", dead_below=fraction)
    def goal(pg) -> str:
        layer, dead = _most_dead(pg)
        if layer is not None and dead >= fraction:
            raise Incorrect(
                f"{dead:.0%} of {layer}'s units are still dead at the end (the challenge "
                f"asks for under {fraction:.0%} in every layer)."
            )
        return "no layer with many dead units"

    return goal


def loss_below(limit: float) -> Goal:
    """A test loss below ``limit`` at the end of the run.

    Example
    -------
    >>> loss_below(0.6).__name__
    'loss_below(0.6)'
    """

    @_goal(f"loss_below({limit:g})", loss_below=limit)
    def goal(pg) -> str:
        s = pg.summary()
        if not s["test_loss"] < limit:
            raise Incorrect(
                f"the test loss is {s['test_loss']:.3g} (training loss {s['train_loss']:.3g}); "
                f"the challenge asks for under {limit:g}."
            )
        return f"test loss {s['test_loss']:.3g} (training loss {s['train_loss']:.3g})"

    return goal


@dataclass(eq=False)
class PlaygroundExercise(Exercise):
    """A playground challenge: change the handed-out set-up so the trained network meets ``goal``.

    ``preset`` and ``start`` (control overrides) make the set-up the student gets;
    ``max_changes`` caps how many controls may differ from it (``None``: any number),
    ``allowed`` names the controls that may change (empty: any but the seed). The check trains
    ``steps`` steps on each of ``seeds`` and every goal must hold on every seed. The answer is a
    playground's ``state`` dict; its ``seed`` is ignored.
    """

    preset: str = "healthy"
    start: Mapping[str, object] = field(default_factory=dict)
    max_changes: int | None = None
    allowed: Sequence[str] = ()
    goal: Sequence[Goal] = ()
    steps: int = 300
    seeds: Sequence[int] = (CHECK_SEED,)

    kind = "playground"

    def __post_init__(self):
        super().__post_init__()
        if not self.goal:
            raise ValueError(f"challenge {self.id} needs a goal, e.g. goal=[learns(0.2)]")
        handed = self.setup()  # unknown preset or control: fail at declaration, not in a check
        # What the lesson's prose may state as {{p1.steps}}, {{p1.margin:.0%}}, {{p1.start_depth}}
        self.constants = {
            "steps": self.steps,
            "max_changes": self.max_changes,
            "seeds": len(self.seeds),
            **{f"start_{name}": value for name, value in handed.items()},
            **{k: v for g in self.goal for k, v in getattr(g, "constants", {}).items()},
            **self.constants,
        }

    def setup(self) -> dict:
        """The handed-out controls: the preset with ``start`` applied."""
        from labkit.playground import preset_controls, validated

        return validated(preset_controls(self.preset), self.start)

    def playground(self, **kwargs):
        """The handed-out set-up as a :class:`~labkit.playground.Playground`, controls that may
        not change locked. ``kwargs`` go to the Playground (e.g. ``hidden=[...]``)."""
        from labkit.playground import CONTROLS, Playground

        locked = [n for n in CONTROLS if self.allowed and n not in self.allowed and n != "seed"]
        return Playground(self.preset, locked=kwargs.pop("locked", locked), **self.start, **kwargs)

    def evaluate(self, data) -> str:
        from labkit.playground import Playground, validated

        if isinstance(data, Unsupported):
            raise Incorrect(
                f"`{self.answer}` should be a playground's state (a dict), not a "
                f"{data.type_name}: write {self.answer} = pg.state"
            )
        if not isinstance(data, dict):
            raise Incorrect(
                f"`{self.answer}` should be a playground's state, a dict of its controls: "
                f"{self.answer} = pg.state"
            )
        controls = dict(data)
        preset = controls.pop("preset", self.preset)
        if preset != self.preset:
            raise Incorrect(
                f"this challenge starts from preset {self.preset!r}, but the state is from "
                f"{preset!r}: start from {self.name}.playground()."
            )
        try:
            submitted = validated(self.setup(), controls)
        except ValueError as exc:
            raise Incorrect(
                f"the state has a control the playground does not accept: {exc}."
            ) from None
        handed = self.setup()
        changed = {k: v for k, v in submitted.items() if v != handed[k] and k != "seed"}
        if not changed:
            raise Incorrect(
                "this is the set-up you were given, unchanged: change a control first "
                f"({', '.join(self.allowed) or 'see the hints'})."
            )
        if self.allowed:
            outside = [k for k in changed if k not in self.allowed]
            if outside:
                raise Incorrect(
                    f"only {', '.join(self.allowed)} may change here, but you changed "
                    f"{', '.join(outside)}."
                )
        if self.max_changes is not None and len(changed) > self.max_changes:
            raise Incorrect(
                f"you changed {len(changed)} controls ({', '.join(changed)}); the challenge "
                f"allows at most {self.max_changes}."
            )
        seen = []
        for seed in self.seeds:
            pg = Playground(self.preset, **{**submitted, "seed": seed})
            pg.run(steps=self.steps, every=10)
            seen = [goal(pg) for goal in self.goal]
        how = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        where = f"seed {self.seeds[0]}" if len(self.seeds) == 1 else f"{len(self.seeds)} seeds"
        return f"Correct! With {how}, after {self.steps} steps ({where}): {'; '.join(seen)}."
