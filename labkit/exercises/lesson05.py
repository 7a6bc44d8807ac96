"""Lesson 05 — Dropout regularization: exercises, hints, solutions and checks.

Example
-------
>>> from labkit.exercises import lesson05 as ex
>>> ex.q3.check(...).status
'not_attempted'
"""

from __future__ import annotations

import numpy as np

from labkit.exercises.core import (
    FunctionExercise,
    Incorrect,
    Lesson,
    ValueExercise,
    expect_array,
    expect_number,
)

__all__ = ["CHOICES", "LESSON", "SWEEP_RECORD", "q1", "q2", "q3", "summary"]


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


# --- q2: pick the rate from a sweep record -------------------------------------------------------
SWEEP_RECORD = [
    {"rate": 0.0, "loss": 0.002, "val_loss": 0.41, "accuracy": 1.00, "val_accuracy": 0.91},
    {"rate": 0.1, "loss": 0.006, "val_loss": 0.36, "accuracy": 1.00, "val_accuracy": 0.92},
    {"rate": 0.3, "loss": 0.030, "val_loss": 0.27, "accuracy": 1.00, "val_accuracy": 0.93},
    {"rate": 0.5, "loss": 0.090, "val_loss": 0.29, "accuracy": 0.99, "val_accuracy": 0.94},
    {"rate": 0.8, "loss": 0.520, "val_loss": 0.58, "accuracy": 0.86, "val_accuracy": 0.84},
    {"rate": 1.0, "loss": 2.300, "val_loss": 2.31, "accuracy": 0.11, "val_accuracy": 0.10},
]
"""A deterministic dropout sweep (final metrics per rate) used by q2."""


def _best_rate(record: list[dict]) -> float:
    return min(record, key=lambda r: r["val_loss"])["rate"]


def _check_best_rate(value) -> str:
    rate = expect_number(value, "best_rate")
    best = _best_rate(SWEEP_RECORD)
    if abs(rate - best) < 1e-9:
        return (
            f"Correct! Rate {best} has the lowest validation loss: enough dropout to stop "
            "memorizing the training set, not so much that the network cannot learn."
        )
    by_rate = {r["rate"]: r for r in SWEEP_RECORD}
    if rate not in by_rate:
        raise Incorrect(
            f"{rate:g} is not one of the swept rates {sorted(by_rate)}; pick the rate whose "
            "val_loss is smallest."
        )
    lowest_train = min(SWEEP_RECORD, key=lambda r: r["loss"])["rate"]
    best_acc = max(SWEEP_RECORD, key=lambda r: r["val_accuracy"])["rate"]
    smallest_gap = min(SWEEP_RECORD, key=lambda r: abs(r["val_loss"] - r["loss"]))["rate"]
    if rate == lowest_train:
        raise Incorrect(
            f"rate {rate:g} has the lowest TRAINING loss ({by_rate[rate]['loss']}), but that "
            "only shows how well the training set was memorized. Choose by validation loss "
            "(val_loss)."
        )
    if rate == best_acc:
        raise Incorrect(
            f"rate {rate:g} has the best validation accuracy, but the task asks for the lowest "
            f"validation LOSS; its val_loss is {by_rate[rate]['val_loss']} and another rate's "
            "is lower."
        )
    if rate == smallest_gap:
        raise Incorrect(
            f"rate {rate:g} has the smallest train/validation gap, but only because it learns "
            f"nothing (val_loss {by_rate[rate]['val_loss']}). A small gap is not the goal; a low "
            "validation loss is."
        )
    raise Incorrect(
        f"rate {rate:g} has val_loss {by_rate[rate]['val_loss']}, which is not the lowest in "
        "the record."
    )


q2 = ValueExercise(
    id="q2",
    answer="best_rate",
    hints=[
        "Compare the entries by their 'val_loss' key, not by 'loss' or 'val_accuracy'.",
        "`min(sweep_record, key=lambda r: r['val_loss'])` is the best entry; take its 'rate'.",
    ],
    check_fn=_check_best_rate,
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


LESSON = Lesson("05_dropout", [q1, q2, q3])
summary = LESSON.summary
