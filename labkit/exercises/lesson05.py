"""Lesson 05 — Dropout regularization: exercises, hints, solutions and checks.

``predict`` (ungraded) and k1–k5 are multiple-choice questions; p1 is a playground challenge
(cure overfitting by changing only dropout or l2).

Example
-------
>>> from labkit.exercises import lesson05 as ex
>>> ex.q3.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.challenges import challenges
from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ValueExercise,
    expect_array,
    expect_number,
)
from labkit.exercises.diagnosis import DiagnosisExercise
from labkit.exercises.quiz import QuizExercise
from labkit.exercises.recording import Recipe

__all__ = [
    "CHOICES",
    "LESSON",
    "RUNS",
    "k1",
    "k2",
    "k3",
    "k4",
    "k5",
    "p1",
    "predict",
    "q1",
    "q2",
    "q3",
    "q4",
    "summary",
]


# --- predict, then run: section 3's sweep of the rate -------------------------------------------
predict = QuizExercise(
    id="predict",
    hints=[
        "Think of the two ends first: what does rate 0.0 leave of the regularization, and what "
        "does rate 1.0 leave of the network?",
        "Section 1's network memorizes its 60 points; section 2 showed that dropout switches "
        "units off only in training. Is the best rate at an end or in between?",
    ],
    question="Section 3 trains the 2×128 network on its 60 points with dropout rates 0.0, 0.3, "
    "0.5, 0.8 and 1.0. How will the validation loss, averaged over the seeds, depend on the rate?",
    options={
        "a": "It falls all the way: the more dropout, the better, so 1.0 is best.",
        "b": "It is lowest with no dropout: dropping units only throws away capacity.",
        "c": "It falls from 0.0 to a low at a moderate rate, then rises again at 0.8 and 1.0.",
        "d": "It hardly changes: dropout is switched off at inference, where the validation loss "
        "is measured.",
    },
    explanations={
        "a": "more dropout helps only up to a point: at 0.8 the mean validation loss is 0.600, "
        "worse than 0.223 without dropout, and at 1.0 it is 1.187, above the class-frequency "
        "loss 1.102.",
        "b": "without dropout the network memorizes its 60 points: its mean validation loss is "
        "0.223, against 0.101 at rate 0.3 and 0.137 at rate 0.5.",
        "c": "0.223 at 0.0, 0.101 at 0.3, 0.137 at 0.5, then 0.600 at 0.8 (underfitting) and "
        "1.187 at 1.0 (nothing learned): too little regularization overfits, too much underfits.",
        "d": "dropout is off at inference, but it changed which weights training found: the "
        "mean validation loss goes from 0.223 at 0.0 to 0.101 at 0.3 and 1.187 at 1.0.",
    },
    correct="c",
    points=0,
)


# --- q1: inverted dropout in NumPy ---------------------------------------------------------------
def _dropout_inputs() -> list[tuple]:
    """``(x, rate, training, seed)`` cases: rates and shapes the lesson never used."""
    rng = np.random.default_rng(505)
    big = rng.uniform(0.5, 1.5, size=(4000, 8))
    small = rng.normal(size=(3, 5))
    return [
        (big, 0.25, True, 1),
        (big, 0.25, True, 2),
        (big, 0.6, True, 3),
        (big, 0.6, False, 4),
        (small, 0.4, False, 5),
        (big, 0.0, True, 6),
        (small, 1.0, True, 7),
        (small, 1.0, False, 8),
    ]


def _check_dropout(inputs: list[tuple], outputs: list) -> str:
    masks = []
    for (x, rate, training, _seed), out in zip(inputs, outputs):
        where = f"(rate={rate}, training={training}, x of shape {x.shape})"
        if rate == 1.0 and training and isinstance(out, np.ndarray) and np.isnan(out).any():
            raise Incorrect(
                f"the output {where} contains NaN: dividing by 1 − rate = 0 gives 0/0. Handle "
                "rate 1.0 first and return np.zeros_like(x), as Keras does."
            )
        out = expect_array(out, name=f"the output {where}")
        if out.shape != x.shape:
            raise Incorrect(
                f"the output {where} has shape {out.shape}: dropout zeroes entries, it never "
                f"changes the shape, so it should be {x.shape}."
            )
        if not training or rate == 0.0:
            if not np.allclose(out, x):
                why = (
                    "at inference (training=False) dropout must return x unchanged: the 1/(1−rate) "
                    "scaling during training already keeps the expected value right"
                    if not training
                    else "rate 0.0 drops nothing, so the output must equal x"
                )
                raise Incorrect(f"the output {where} differs from x: {why}.")
            continue
        if rate == 1.0:
            if np.any(out != 0):
                raise Incorrect(
                    f"with rate=1.0 {where} every unit is dropped, so every entry must be 0."
                )
            continue
        zero = out == 0
        zero_fraction = float(zero.mean())
        if abs(zero_fraction - rate) > 0.03:
            flipped = " You may be dropping with the KEEP probability 1−rate." * (
                abs(zero_fraction - (1 - rate)) < 0.03
            )
            raise Incorrect(
                f"{zero_fraction:.2f} of the entries are zero {where}, but dropout should zero a "
                f"fraction close to the rate, {rate}.{flipped}"
            )
        column_fractions = zero.mean(axis=0)
        if np.max(np.abs(column_fractions - rate)) > 0.1:
            raise Incorrect(
                f"the zeros are not spread at random {where}: per column the zero fraction "
                f"ranges from {column_fractions.min():.2f} to {column_fractions.max():.2f}. "
                "Draw an independent random number for every entry, e.g. "
                "rng.random(x.shape) >= rate."
            )
        scale = out[~zero] / x[~zero]
        if not np.allclose(scale, 1 / (1 - rate), rtol=1e-4):
            if np.allclose(scale, 1.0, rtol=1e-4):
                raise Incorrect(
                    f"the kept entries are unscaled {where}, so the mean shrinks to "
                    f"{1 - rate:.2f} of the input's. Inverted dropout divides the kept entries by "
                    f"1 − rate = {1 - rate:.2f} so the expected value is preserved."
                )
            raise Incorrect(
                f"the kept entries are scaled by {float(np.median(scale)):.3g} {where}; they "
                f"should be divided by 1 − rate, i.e. multiplied by {1 / (1 - rate):.3g}."
            )
        ratio = float(out.mean() / x.mean())
        if abs(ratio - 1) > 0.03:
            raise Incorrect(f"the mean changed by a factor {ratio:.3f} {where}; it should stay ~1.")
        masks.append(zero)
    if len(masks) >= 2 and np.array_equal(masks[0], masks[1]):
        raise Incorrect(
            "two different seeds gave exactly the same dropout mask: draw the mask from "
            "np.random.default_rng(seed), so each seed gives a new random mask."
        )
    return (
        "Correct! On inputs you never saw, your dropout zeroes a fraction ≈ rate at random, "
        "scales the survivors by 1/(1 − rate) so the mean is preserved, handles rate 0 and 1, "
        "and is the identity at inference."
    )


q1 = FunctionExercise(
    id="q1",
    answer="dropout_forward",
    hints=[
        "Handle the easy cases first: `training=False` or `rate == 0` → return x; `rate == 1` → "
        "return np.zeros_like(x) (1/(1 − rate) would divide by zero).",
        "Make the generator with `rng = np.random.default_rng(seed)`, then a keep-mask with one "
        "random number per entry: `keep = rng.random(x.shape) >= rate`.",
        "Return `x * keep / (1 - rate)`: dropped entries become 0, kept ones are scaled up.",
    ],
    check_fn=_check_dropout,
    make_inputs=_dropout_inputs,
    points=2,
    time_budget=10.0,
)


# --- q2: choose the rate from a sweep over seeds -------------------------------------------------
def _record(rates, seeds, val_loss, loss, val_accuracy) -> list[dict]:
    """One dict per (rate, seed) run, from per-rate rows of per-seed values."""
    return [
        {
            "rate": rate,
            "seed": seed,
            "loss": loss[i][j],
            "val_loss": val_loss[i][j],
            "accuracy": round(1 - loss[i][j] / 3, 3),
            "val_accuracy": val_accuracy[i][j],
        }
        for i, rate in enumerate(rates)
        for j, seed in enumerate(seeds)
    ]


def _choose_rate_inputs() -> list[tuple]:
    """Sweep records the lesson never printed. In each, the single best run, the lowest training
    loss and the best validation accuracy sit at other rates than the lowest mean val_loss."""
    first = _record(
        [0.0, 0.2, 0.4, 0.6, 0.9],
        [0, 1, 2],
        val_loss=[
            [0.52, 0.47, 0.55],
            [0.30, 0.41, 0.36],
            [0.33, 0.31, 0.32],
            [0.25, 0.44, 0.42],
            [0.90, 0.97, 0.94],
        ],
        loss=[
            [0.001, 0.002, 0.001],
            [0.01, 0.02, 0.01],
            [0.05, 0.04, 0.06],
            [0.12, 0.15, 0.11],
            [0.80, 0.85, 0.83],
        ],
        val_accuracy=[
            [0.90, 0.91, 0.89],
            [0.93, 0.95, 0.94],
            [0.93, 0.92, 0.93],
            [0.96, 0.90, 0.91],
            [0.70, 0.66, 0.68],
        ],
    )
    second = _record(
        [0.7, 0.05, 0.35, 0.0],
        [3, 4, 5, 6],
        val_loss=[
            [0.61, 0.66, 0.58, 0.63],
            [0.20, 0.35, 0.31, 0.30],
            [0.26, 0.24, 0.27, 0.25],
            [0.39, 0.36, 0.44, 0.41],
        ],
        loss=[
            [0.5, 0.55, 0.52, 0.5],
            [0.01, 0.01, 0.02, 0.01],
            [0.04, 0.05, 0.04, 0.04],
            [0.0005, 0.0004, 0.0006, 0.0005],
        ],
        val_accuracy=[
            [0.8, 0.78, 0.81, 0.79],
            [0.97, 0.9, 0.92, 0.92],
            [0.94, 0.95, 0.94, 0.94],
            [0.9, 0.91, 0.89, 0.9],
        ],
    )
    return [(first,), (second,)]


def _mean_by_rate(record: list[dict], key: str) -> dict[float, float]:
    rates = sorted({r["rate"] for r in record})
    return {rate: float(np.mean([r[key] for r in record if r["rate"] == rate])) for rate in rates}


def _check_choose_rate(inputs: list[tuple], outputs: list) -> str:
    for number, ((record,), out) in enumerate(zip(inputs, outputs), start=1):
        rate = expect_number(out, f"the rate your function returned for record {number}")
        means = _mean_by_rate(record, "val_loss")
        best = min(means, key=means.get)
        if abs(rate - best) < 1e-9:
            continue
        where = f"On record {number} (rates {sorted(means)}, {len(record) // len(means)} seeds)"
        if rate not in means:
            raise Incorrect(
                f"{where} your function returned {rate:g}, which is not one of the swept rates; "
                "return the 'rate' of the best group of runs."
            )
        best_run = min(record, key=lambda r: r["val_loss"])
        if rate == min(record, key=lambda r: r["loss"])["rate"]:
            raise Incorrect(
                f"{where} you chose rate {rate:g}, which has the lowest TRAINING loss. The "
                "training loss always prefers no dropout: it measures memorization. Choose by "
                "validation loss."
            )
        if rate == best_run["rate"]:
            raise Incorrect(
                f"{where} you chose rate {rate:g} because one seed reached val_loss "
                f"{best_run['val_loss']}; but its mean over seeds is {means[rate]:.3f}, and rate "
                f"{best:g} averages {means[best]:.3f}. One lucky seed is noise: average the "
                "seeds of each rate before comparing."
            )
        if rate == max(_mean_by_rate(record, "val_accuracy").items(), key=lambda kv: kv[1])[0]:
            raise Incorrect(
                f"{where} you chose rate {rate:g}, which has the best mean validation ACCURACY; "
                f"the task asks for the lowest mean validation loss ({means[best]:.3f} at rate "
                f"{best:g}, against {means[rate]:.3f})."
            )
        raise Incorrect(
            f"{where} rate {rate:g} has mean val_loss {means[rate]:.3f}, but rate {best:g} has "
            f"{means[best]:.3f}: return the rate whose seeds have the lowest MEAN val_loss."
        )
    return (
        "Correct! On sweeps you never saw, your function averages each rate's seeds and picks "
        "the lowest mean validation loss — not a lucky seed, not the training loss."
    )


q2 = FunctionExercise(
    id="q2",
    answer="choose_rate",
    hints=[
        "A single run's val_loss depends on its seed; the lesson compared rates by their mean "
        "over seeds. Group the runs of `record` by their 'rate' first.",
        "Build a dict {rate: list of that rate's val_loss values}; then compare the rates by the "
        "NumPy mean of each list.",
    ],
    check_fn=_check_choose_rate,
    make_inputs=_choose_rate_inputs,
)


# --- q3: what rate 1.0 does (multiple choice) ----------------------------------------------------
CHOICES = {
    "a": "It is the strongest useful regularization: the model generalizes best.",
    "b": "Every unit is dropped at every step, so no signal or gradient passes: the model "
    "learns nothing and predicts at chance level.",
    "c": "Keras divides by 1 − rate = 0, so the loss becomes NaN.",
    "d": "It turns dropout off, the same as rate 0.0.",
}
"""The options of q3, printed in the notebook."""

_CHOICE_FEEDBACK = {
    "a": "more dropout is only better up to a point; at 1.0 nothing is left to learn from. "
    "The sweep shows validation accuracy falling to chance at 1.0.",
    "c": "the division would be by zero, but Keras checks for rate 1.0 and returns zeros "
    "instead: the lesson measured the output and found no NaN.",
    "d": "rate is the fraction DROPPED, not kept: 0.0 drops nothing, 1.0 drops everything.",
}


def _check_choice(value) -> str:
    if not isinstance(value, str):
        raise Incorrect(
            f'answer with one letter as a string, e.g. "a"; got a {type(value).__name__}.'
        )
    letter = value.strip().strip("()").strip().lower()
    if letter not in CHOICES:
        raise Incorrect(f"{value!r} is not an option; answer with one of {sorted(CHOICES)}.")
    if letter == "b":
        return (
            "Correct! Rate 1.0 zeroes every hidden unit at every step, so only the output bias "
            "gets a gradient: the model learns the class frequencies and nothing else."
        )
    raise Incorrect(f"({letter}) is not right: {_CHOICE_FEEDBACK[letter]}")


q3 = ValueExercise(
    id="q3",
    answer="rate_one_answer",
    hints=[
        "The rate is the probability that a unit is dropped during a training step.",
        "Look at the sweep's last point and at what Keras's Dropout(1.0) returned in training "
        "mode.",
    ],
    check_fn=_check_choice,
)


# --- q4: diagnose recorded runs ----------------------------------------------------------------
_NETWORK = (
    "2 hidden layers of 256 ReLU units{extra} on the first 60 spiral training points, Adam with "
    "learning rate {lr}, 80 full-batch epochs; validation on the 225 test points"
)
RUNS = [
    Recipe(
        "A",
        "overfitting",
        _NETWORK.format(extra="", lr=0.01) + ".",
        "spiral",
        depth=2,
        width=256,
        optimizer="adam",
        learning_rate=0.01,
        epochs=80,
        batch_size=60,
        train_size=60,
    ),
    Recipe(
        "B",
        "lr_too_low",
        _NETWORK.format(extra="", lr=1e-5) + ".",
        "spiral",
        depth=2,
        width=256,
        optimizer="adam",
        learning_rate=1e-5,
        epochs=80,
        batch_size=60,
        train_size=60,
    ),
    Recipe(
        "C",
        "healthy",
        _NETWORK.format(extra=", each followed by Dropout(0.5),", lr=0.01) + ".",
        "spiral",
        depth=2,
        width=256,
        dropout=0.5,
        optimizer="adam",
        learning_rate=0.01,
        epochs=80,
        batch_size=60,
        train_size=60,
    ),
]
"""The runs q4 shows: recorded by ``labkit build 05`` into ``runs/05_dropout.json``."""

q4 = DiagnosisExercise(
    id="q4",
    answer="diagnosis",
    runs=[recipe.id for recipe in RUNS],
    hints=[
        "For each run compare three numbers: where the training loss ends, where the validation "
        "loss ends, and its lowest point. Put both beside the class-frequency loss (the dashed "
        "line, ln 3 ≈ 1.10).",
        "A validation loss that climbs from its best while the training loss keeps falling is one "
        "failure; a training loss that hardly leaves the baseline, with updates far below -3 on "
        "the update-to-weight panel, is another.",
    ],
    points=2,
)

# --- playground challenge: cure overfitting with dropout or l2 only -----------------------------
(p1,) = challenges("05_dropout")


# --- test your knowledge --------------------------------------------------------------------------
k1 = QuizExercise(
    id="k1",
    hints=[
        "What does a Keras Dropout layer do with training=False, and when does Keras pass it?",
        "Section 2 checked three claims on a Dropout layer; the third was about inference mode. "
        "Where did the 1/(1 − rate) scaling happen?",
    ],
    question="A network trained with Dropout(0.5) after each hidden layer is asked to predict "
    "new points with model.predict. What does it compute?",
    options={
        "a": "It drops half of the units, as in training, so two calls on the same point give "
        "different predictions.",
        "b": "It uses a smaller network: the units dropped during training are removed for good.",
        "c": "It uses every unit, with nothing dropped and nothing rescaled.",
        "d": "It uses every unit, and multiplies each unit's output by 1 − rate = 0.5 to match "
        "what the next layer saw in training.",
    },
    explanations={
        "a": "Keras passes training=False inside predict and evaluate, and then the layer returns "
        "its input unchanged: predictions are deterministic.",
        "b": "no unit is dropped for good: each step dropped a new random subset, so every unit "
        "was trained, and at inference all of them are used.",
        "c": "at inference the Dropout layer is the identity. Inverted dropout already divided the "
        "kept units by 1 − rate in training, so each unit's expected output is the same in both "
        "modes.",
        "d": "that is the original, non-inverted dropout. Keras's inverted dropout does the "
        "scaling in training (dividing by 1 − rate), so at inference there is nothing left to "
        "scale.",
    },
    correct="c",
)

k2 = QuizExercise(
    id="k2",
    hints=[
        "Compare what the next layer receives in training, when a fraction `rate` of the units "
        "is 0, with what it receives at inference, when none is.",
        "Write the expected value of one unit's output in training: (1 − rate) · x / (1 − rate).",
    ],
    question="Why does inverted dropout divide the kept units by 1 − rate during training?",
    options={
        "a": "So that each unit's expected output in training equals its output at inference, "
        "when nothing is dropped.",
        "b": "So that the kept units learn faster, making up for the gradient the dropped units "
        "lose.",
        "c": "So that the loss cannot become NaN when the rate is high.",
    },
    explanations={
        "a": "E[out] = (1 − rate) · x / (1 − rate) = x: the next layer sees inputs of the same "
        "size in both modes, so the network need not be rescaled at inference.",
        "b": "the scaling does make the kept units' gradients larger, but that is a side effect; "
        "its purpose is to keep the size of the signal the same in training and at inference.",
        "c": "the division is the one thing that COULD give NaN (at rate 1.0, 1 − rate = 0); "
        "Keras handles rate 1.0 as a special case that returns zeros.",
    },
    correct="a",
)

k3 = QuizExercise(
    id="k3",
    hints=[
        "Name the failure first: what does a validation loss that stops improving while the "
        "training loss keeps falling mean?",
        "Pick the change that makes memorizing the training points harder, not easier.",
    ],
    question="A run's training loss keeps falling by orders of magnitude, while its validation "
    "loss reached its lowest point early and has crept up since. Which change addresses this?",
    options={
        "a": "Raise the learning rate, so the network reaches a better minimum sooner.",
        "b": "Train for more epochs: the validation loss will follow the training loss down.",
        "c": "Use a wider network, so it can represent the pattern better.",
        "d": "Add dropout after the hidden layers and choose its rate by the validation loss.",
    },
    explanations={
        "a": "the training loss is already falling fast, so the steps are not too small: the "
        "network learns its training points too well, and faster steps only memorize faster.",
        "b": "this is overfitting: after its best epoch the network only grows more confident on "
        "its training points, and more epochs widen the gap instead of closing it.",
        "c": "more weights per training example make memorizing easier: the overfitting network "
        "already had over 17,000 weights for 60 points.",
        "d": "the run overfits: it memorizes its training points. Dropout makes memorizing hard, "
        "and choosing the rate by validation loss keeps it from underfitting.",
    },
    correct="d",
)

k4 = QuizExercise(
    id="k4",
    hints=[
        "Is a training loss that goes UP a sign of memorizing too much or of fitting too little?",
        "With rate 0.8, how much of the network is left in each training step?",
    ],
    question="With dropout rate 0.8, both the training and the validation loss end higher than "
    "with no dropout at all. What is happening?",
    options={
        "a": "The network overfits even more, because dropout adds noise that it memorizes.",
        "b": "It underfits: with most units dropped in every step, the network cannot even fit "
        "its training points in the same number of steps.",
        "c": "The scaling by 1/(1 − 0.8) = 5 blows up the activations, as exploding gradients do.",
    },
    explanations={
        "a": "overfitting shows as a LOW training loss far below the validation loss; here the "
        "training loss itself is high.",
        "b": "too much regularization: the network cannot fit even what it sees. A lower rate "
        "(0.3 or 0.5 in the sweep) regularizes without underfitting.",
        "c": "the scaling keeps the expected output unchanged (section 2 measured the mean at "
        "1.00), so the activations do not grow; what shrinks is the network left in each step.",
    },
    correct="b",
)

k5 = QuizExercise(
    id="k5",
    hints=[
        "In each step a new random subset of units is missing. What does that stop a unit from "
        "relying on?",
        "Features that only work together with one exact set of other units are what memorizing "
        "60 points builds.",
    ],
    question="Why does dropping random units during training reduce overfitting?",
    options={
        "a": "It makes the network smaller, so it has fewer weights to memorize with.",
        "b": "It slows training down, so the network stops before it can memorize.",
        "c": "No unit can rely on particular partners being present, so each must be useful on "
        "its own, in many different sub-networks.",
    },
    explanations={
        "a": "every weight is still there and trained, and at inference all units are used; "
        "only the set that takes part in each training step is random.",
        "b": "the runs with useful rates still reach training accuracy 1.00 in the same number "
        "of steps; what changes is what they learn, not when they stop.",
        "c": "co-adapted features that only fit one exact set of units, the way to memorize a "
        "few points, do not survive random dropping; features that carry over to new points do.",
    },
    correct="c",
)

LESSON = Lesson("05_dropout", [predict, q1, q2, q3, q4, p1, k1, k2, k3, k4, k5])
summary = LESSON.summary
