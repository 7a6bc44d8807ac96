"""Diagnosis exercises: read recorded runs you have not seen, name what went wrong and the remedy.

A lesson's recorded runs (``labkit/exercises/runs/NN_topic.json``) are written by ``labkit build``
(:mod:`labkit.exercises.recording`): each is a short real training run with its monitors'
histories, its Keras ``History`` and the *clues* a reader should find in them (the gradient ratio
at step 0, the largest dead fraction, the validation gap, ...). A :class:`RecordedRun` gives the
student the same accessors and plots as a live run; a :class:`DiagnosisExercise` checks the
student's ``{run: (failure, remedy)}`` and answers each common confusion with a message that
teaches the difference.

Example
-------
>>> ex.q4.check({"A": ("exploding", "batch_norm"), "B": ("healthy", "none")})  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from labkit.exercises.core import (
    NOT_ATTEMPTED,
    Exercise,
    Incorrect,
    _NotAttemptedSignal,
)

__all__ = [
    "ACCEPTED_REMEDIES",
    "FAILURES",
    "REMEDIES",
    "RUNS_DIR",
    "DiagnosisExercise",
    "RecordedRun",
    "recorded_runs",
]

RUNS_DIR = Path(__file__).resolve().parent / "runs"
"""Where ``labkit build`` writes each lesson's recorded runs, ``{lesson}.json``."""

FAILURES = {
    "vanishing": "vanishing gradients",
    "exploding": "exploding gradients",
    "dead_relu": "dead ReLU units",
    "overfitting": "overfitting",
    "lr_too_high": "a learning rate that is too high",
    "lr_too_low": "a learning rate that is too low",
    "healthy": "a healthy run",
}
"""What can be wrong with a run (the answer's first word), and how messages name it."""

REMEDIES = {
    "relu_he": "ReLU activations with He initialization",
    "batch_norm": "batch normalization",
    "lower_lr": "a lower learning rate",
    "clip": "gradient clipping",
    "leaky_relu": "LeakyReLU",
    "dropout": "dropout",
    "raise_lr": "a higher learning rate",
    "none": "no change",
}
"""The remedies the course teaches (the answer's second word)."""

ACCEPTED_REMEDIES = {
    "vanishing": ("relu_he", "batch_norm"),
    "exploding": ("batch_norm", "lower_lr", "clip"),
    "dead_relu": ("lower_lr", "leaky_relu"),
    "overfitting": ("dropout",),
    "lr_too_high": ("lower_lr", "clip"),
    "lr_too_low": ("raise_lr",),
    "healthy": ("none",),
}
"""For each failure, the remedies that address it."""

_SYNONYMS = {
    "vanishing_gradients": "vanishing",
    "vanishing_gradient": "vanishing",
    "exploding_gradients": "exploding",
    "exploding_gradient": "exploding",
    "dead_relus": "dead_relu",
    "dead_units": "dead_relu",
    "dead": "dead_relu",
    "overfit": "overfitting",
    "learning_rate_too_high": "lr_too_high",
    "learning_rate_too_low": "lr_too_low",
    "ok": "healthy",
    "fine": "healthy",
    "relu": "relu_he",
    "he": "relu_he",
    "batchnorm": "batch_norm",
    "batch_normalization": "batch_norm",
    "clipping": "clip",
    "gradient_clipping": "clip",
    "leakyrelu": "leaky_relu",
    "lower_learning_rate": "lower_lr",
    "raise_learning_rate": "raise_lr",
    "higher_learning_rate": "raise_lr",
    "higher_lr": "raise_lr",
    "nothing": "none",
    "no_change": "none",
}

# What the evidence of each failure looks like, filled in from a run's clues.
_TELLS = {
    "vanishing": (
        "its lowest layer's gradient is {vanishing_ratio:.0e} of the largest layer's at step 0, "
        "and its training loss only goes from {loss_start:.3g} to {loss_end:.3g}"
    ),
    "exploding": (
        "its largest gradient norm is already {max_norm_start:.1e} before the first update, and "
        "the loss is {loss_end:.3g} at the end"
    ),
    "dead_relu": "{dead_max:.0%} of {dead_layer}'s units output 0 for every probe example",
    "overfitting": (
        "its training loss falls to {loss_end:.3g} while the validation loss ends at "
        "{val_loss_end:.3g}, up from its best {val_loss_min:.3g}"
    ),
    "lr_too_high": (
        "its gradients start at an ordinary size (largest {max_norm_start:.2g}, lowest/largest "
        "{vanishing_ratio:.2f}), but its updates are {update_ratio:.2g} on the log10 "
        "update-to-weight scale (healthy is about -3) and the loss goes from {loss_start:.3g} to "
        "{loss_end:.3g}"
    ),
    "lr_too_low": (
        "its gradients are balanced across layers (lowest/largest {vanishing_ratio:.2f}), but "
        "its updates are only {update_ratio:.2g} on the log10 update-to-weight scale (healthy is "
        "about -3), so the loss only goes from {loss_start:.3g} to {loss_end:.3g}"
    ),
    "healthy": (
        "its gradients stay balanced (lowest/largest {vanishing_ratio:.2f} at step 0), at most "
        "{dead_max:.0%} of a layer's units are dead, its updates are {update_ratio:.2g} on the "
        "log10 update-to-weight scale (healthy is about -3) and its validation loss ends at "
        "{val_loss_end:.3g}"
    ),
}

# The look-alikes students confuse, and what tells them apart.
_CONFUSIONS = {
    ("exploding", "lr_too_high"): (
        "Both end with a loss that blows up. Exploding gradients are huge before any update (a "
        "property of the network's weights); a too-high learning rate turns ordinary gradients "
        "into steps that overshoot."
    ),
    ("lr_too_high", "exploding"): (
        "Both end with a loss that blows up. Look at step 0, before any update: gradients that "
        "are already huge come from the network itself, not from the step size."
    ),
    ("vanishing", "lr_too_low"): (
        "Both learn slowly. Vanishing gradients starve the lower layers only (the ratio "
        "lowest/largest is tiny); a too-low learning rate makes every layer's step tiny."
    ),
    ("lr_too_low", "vanishing"): (
        "Both learn slowly. Compare the layers: here the lowest layer's gradient is orders of "
        "magnitude below the top's, which no learning rate fixes."
    ),
    ("vanishing", "dead_relu"): (
        "A dead ReLU unit passes exactly zero gradient to its own weights (it revives only if the "
        "layers below change its inputs); a vanishing gradient is small but not zero, and it "
        "shrinks layer by layer toward the input."
    ),
    ("dead_relu", "vanishing"): (
        "Small gradients are not dead units: a dead unit outputs 0 for every input. Here the "
        "units are alive, but the gradient shrinks layer by layer toward the input."
    ),
    ("healthy", "overfitting"): (
        "The training loss alone looks fine; compare it with the validation loss."
    ),
    ("overfitting", "healthy"): (
        "Some gap between training and validation loss is normal. Overfitting is the validation "
        "loss rising from its best while the training loss keeps falling."
    ),
}

_WHY = {
    "vanishing": "the gradient must keep its size through depth: ReLU with He initialization "
    "(or batch normalization between the layers)",
    "exploding": "the gradient or the step must shrink: batch normalization, a lower learning "
    "rate or gradient clipping",
    "dead_relu": "units must not be pushed below zero for good: a lower learning rate, or "
    "LeakyReLU so that a negative unit still passes a gradient",
    "overfitting": "the network memorizes the training set: regularize it with dropout",
    "lr_too_high": "the steps are too large: lower the learning rate (or clip them)",
    "lr_too_low": "the steps are too small: raise the learning rate",
    "healthy": "nothing is wrong, so nothing needs changing",
}


@dataclass
class RecordedRun:
    """One recorded training run: monitor histories, Keras history and the recipe's story.

    ``grads`` and ``dead`` are monitors holding the recorded histories, so the accessors
    (``steps()``, ``values(layer)``, ``at(0)``, ``snapshot(step)``) and :mod:`labkit.plots`
    work on them as on a live run; ``history`` is the Keras ``History.history`` dict (``loss``,
    ``val_loss``, ...); ``description`` says what was trained (never what went wrong).
    """

    id: str
    description: str
    history: dict[str, list[float]]
    grads: object = field(repr=False)
    dead: object = field(repr=False)
    clues: dict[str, object] = field(default_factory=dict, repr=False)
    failure: str = field(default="", repr=False)

    def plot(self):
        """A figure of the run: losses, gradient norms, update ratios, dead units."""
        from labkit import plots

        return plots.recorded_run(self)


def recorded_runs(lesson: str, directory: Path | None = None) -> dict[str, RecordedRun]:
    """The recorded runs of one lesson, by id, as ``labkit build`` wrote them.

    Example
    -------
    >>> runs = recorded_runs("03_exploding_gradients")  # doctest: +SKIP
    >>> runs["A"].grads.at(0)  # doctest: +SKIP
    """
    from labkit.callbacks import DeadReLUMonitor, GradientMonitor

    path = (directory or RUNS_DIR) / f"{lesson}.json"
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        raise FileNotFoundError(
            f"no recorded runs at {path}: build them with `make lessons`"
        ) from None
    runs = {}
    for item in stored:
        grads = GradientMonitor.from_history(item["grads"])
        dead = DeadReLUMonitor.from_history(item["dead"])
        runs[item["id"]] = RecordedRun(
            item["id"],
            item["description"],
            item["history"],
            grads,
            dead,
            item["clues"],
            item["failure"],
        )
    return runs


def _word(value, vocabulary: Mapping[str, str]) -> str | None:
    """``value`` as a vocabulary key (case, spaces, hyphens and common synonyms forgiven)."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    key = _SYNONYMS.get(key, key)
    return key if key in vocabulary else None


def _listing(vocabulary: Mapping[str, str]) -> str:
    return ", ".join(f"'{k}'" for k in vocabulary)


@dataclass(eq=False)
class DiagnosisExercise(Exercise):
    """Diagnose recorded runs: the answer maps each run id to ``(failure, remedy)``.

    ``runs`` are the ids (of the lesson's recorded runs) the student must diagnose. The truth
    comes from the recorded runs themselves, so the check and the data cannot disagree.

    Example
    -------
    >>> q = DiagnosisExercise(id="q4", answer="diagnosis", hints=["a", "b"], runs=["A"])
    >>> q.check(...).status
    'not_attempted'
    """

    runs: Sequence[str] = ()
    kind = "diagnosis"

    def recorded(self) -> dict[str, RecordedRun]:
        """The recorded runs this exercise asks about, by id (``run.plot()`` draws one)."""
        every = recorded_runs(self.lesson)
        return {run_id: every[run_id] for run_id in self.runs}

    def evaluate(self, data) -> str:
        example = "{" + ", ".join(f'"{r}": ("healthy", "none")' for r in self.runs[:2]) + "}"
        if not isinstance(data, dict):
            raise Incorrect(
                f"`{self.answer}` should be a dict from run id to (failure, remedy), e.g. "
                f"{example}."
            )
        if data and all(value is NOT_ATTEMPTED for value in data.values()):
            raise _NotAttemptedSignal(
                f"Not attempted yet: replace each `...` in `{self.answer}` with a (failure, "
                "remedy) pair, then run this cell again."
            )
        missing = [r for r in self.runs if r not in data]
        extra = sorted(set(data) - set(self.runs))
        if missing or extra:
            raise Incorrect(
                f"`{self.answer}` needs exactly the runs {', '.join(self.runs)}"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not a run here: {', '.join(extra)}" if extra else "")
                + "."
            )
        truth = self.recorded()
        wrong = []
        for run_id in self.runs:
            failure, remedy = self._parse(run_id, data[run_id])
            message = self._judge(truth[run_id], failure, remedy)
            if message:
                wrong.append(message)
        if wrong:
            right = len(self.runs) - len(wrong)
            raise Incorrect(f"{right} of {len(self.runs)} runs right. " + " ".join(wrong))
        named = ", ".join(f"{r}: {FAILURES[truth[r].failure]}" for r in self.runs)
        return f"Correct! {named} — each with a remedy that addresses it."

    def _parse(self, run_id: str, value) -> tuple[str, str]:
        if value is NOT_ATTEMPTED:
            raise Incorrect(f"run {run_id} is still `...`: give its (failure, remedy).")
        if isinstance(value, dict):
            value = [value.get("failure"), value.get("remedy")]
        if not isinstance(value, list) or len(value) != 2:
            raise Incorrect(
                f"run {run_id}: give two words, the failure and the remedy, e.g. "
                f'("exploding", "batch_norm"); got {value!r:.60}.'
            )
        failure, remedy = _word(value[0], FAILURES), _word(value[1], REMEDIES)
        if failure is None:
            raise Incorrect(
                f"run {run_id}: {value[0]!r:.40} is not one of the failures: {_listing(FAILURES)}."
            )
        if remedy is None:
            raise Incorrect(
                f"run {run_id}: {value[1]!r:.40} is not one of the remedies: {_listing(REMEDIES)}."
            )
        return failure, remedy

    @staticmethod
    def _judge(run: RecordedRun, failure: str, remedy: str) -> str | None:
        """A teaching message for a wrong diagnosis or remedy of one run, else ``None``."""
        if failure != run.failure:
            tell = _TELLS[run.failure].format(**run.clues)
            contrast = _CONFUSIONS.get((failure, run.failure), "")
            return f"Run {run.id} is not {FAILURES[failure]}: {tell}. {contrast}".strip()
        if remedy not in ACCEPTED_REMEDIES[failure]:
            return (
                f"Run {run.id}: right, {FAILURES[failure]} — but {REMEDIES[remedy]} does not "
                f"address it: {_WHY[failure]}."
            )
        return None
