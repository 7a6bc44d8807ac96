"""Record the runs that diagnosis exercises show: real short trainings, written as package data.

A lesson module lists its runs as :class:`Recipe` objects (``RUNS``); ``labkit build`` calls
:func:`write_runs`, which trains each recipe with a ``GradientMonitor`` and a ``DeadReLUMonitor``
on a probe batch, keeps their histories and the Keras ``History``, and computes the *clues* the
check's messages quote (:func:`clues`). The student reads them back with
:func:`labkit.exercises.diagnosis.recorded_runs`.

Example
-------
>>> write_runs("03_exploding_gradients", [Recipe("A", "exploding", "...", "regression")])
... # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.exercises.diagnosis import FAILURES, RUNS_DIR
from labkit.exercises.training import CHECK_SEED

__all__ = ["Recipe", "baseline_loss", "clues", "record", "write_runs"]

PROBE = 256


@dataclass(frozen=True)
class Recipe:
    """One run to record: data, network, optimizer, budget, and the failure it shows.

    ``data`` is ``"spiral"``, ``"digits"`` or ``"regression"`` (lesson 03's target);
    ``train_size`` keeps only the first examples (a small training set overfits);
    ``init_std`` draws the hidden kernels from ``RandomNormal(init_std)`` instead of the
    activation's default (He for ReLU, Glorot otherwise). ``description`` is what the student
    reads: what was trained, never what went wrong.
    """

    id: str
    failure: str
    description: str
    data: str
    depth: int = 3
    width: int = 32
    activation: str = "relu"
    init_std: float | None = None
    batch_norm: bool = False
    dropout: float = 0.0
    bias: float = 0.0
    optimizer: str = "sgd"
    learning_rate: float = 0.01
    epochs: int = 10
    batch_size: int = 32
    train_size: int | None = None

    def __post_init__(self):
        if self.failure not in FAILURES:
            raise ValueError(f"recipe {self.id}: failure must be one of {list(FAILURES)}")


def _data(recipe: Recipe):
    from labkit import datasets

    if recipe.data == "regression":
        from labkit.exercises.lesson03 import regression_data

        x, y = regression_data(seed=CHECK_SEED + 1, n=768)
        (x_train, y_train), test = (x[:512], y[:512]), (x[512:], y[512:])
    else:
        (x_train, y_train), test = datasets.load(recipe.data)
    if recipe.train_size:
        x_train, y_train = x_train[: recipe.train_size], y_train[: recipe.train_size]
    return (x_train, y_train), test


def record(recipe: Recipe) -> dict:
    """Train one recipe and return its recorded run as JSON-ready data."""
    import keras

    from labkit.callbacks import DeadReLUMonitor, GradientMonitor
    from labkit.models import build_mlp, reinitialize

    (x, y), (x_val, y_val) = _data(recipe)
    regression = recipe.data == "regression"
    outputs = 1 if regression else int(np.max(y)) + 1
    init = (
        None if recipe.init_std is None else keras.initializers.RandomNormal(stddev=recipe.init_std)
    )
    model = build_mlp(
        x.shape[1],
        depth=recipe.depth,
        width=recipe.width,
        activation=recipe.activation,
        kernel_initializer=init,
        batch_norm=recipe.batch_norm,
        dropout=recipe.dropout,
        output_units=outputs,
        bias_initializer=keras.initializers.Constant(recipe.bias),
    )
    keras.utils.set_random_seed(CHECK_SEED)
    reinitialize(model, CHECK_SEED)
    optimizers = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}
    loss = "mse" if regression else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=optimizers[recipe.optimizer](recipe.learning_rate), loss=loss)
    start = float(model.evaluate(x, y, batch_size=len(x), verbose=0))
    grads = GradientMonitor(probe=(x[:PROBE], y[:PROBE]), verbose=0)
    dead = DeadReLUMonitor(probe=x[:PROBE], verbose=0)
    history = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        shuffle=False,
        verbose=0,
        callbacks=[grads, dead],
    )
    kept = {k: [float(v) for v in values] for k, values in history.history.items()}
    kept = {k: v for k, v in kept.items() if k in ("loss", "val_loss")}
    return {
        "id": recipe.id,
        "failure": recipe.failure,
        "description": recipe.description,
        "history": kept,
        "grads": [{k: v for k, v in r.items() if k != "grad_hist"} for r in grads.history],
        "dead": dead.history,
        "clues": {**clues(start, kept, grads, dead), "baseline_loss": baseline_loss(y, regression)},
    }


def baseline_loss(y: np.ndarray, regression: bool) -> float:
    """The loss of a model that learns nothing from the inputs: predicting the mean (MSE = the
    variance of ``y``) or the class frequencies (cross-entropy = their entropy, in nats).

    Example
    -------
    >>> round(baseline_loss(np.array([0, 1, 2, 0, 1, 2]), regression=False), 4)  # ln 3
    1.0986
    """
    if regression:
        return float(np.var(y))
    frequencies = np.bincount(np.ravel(y).astype(int)) / np.size(y)
    frequencies = frequencies[frequencies > 0]
    return float(-np.sum(frequencies * np.log(frequencies)))


def clues(start_loss: float, history: dict, grads, dead) -> dict[str, object]:
    """The numbers a reader should find in a run, as the check's messages quote them.

    ``vanishing_ratio`` and ``max_norm_start``: the lowest layer's gradient norm over the
    largest, and the largest, at step 0; ``loss_start``/``loss_end``: the training loss before
    the first step and in the last epoch; ``val_loss_end``/``val_loss_min``; ``dead_max`` and
    ``dead_layer``: the largest dead fraction of a layer at the last record (0 without ReLU);
    ``update_ratio``: the median log10 update-to-weight ratio over every layer and record.
    """
    first = grads.at(0)
    norms = list(first.values())
    largest = max(norms)
    ratio = norms[0] / largest if largest > 0 and math.isfinite(largest) else 0.0
    last_dead = dead.at(-1) if dead.history else {}
    dead_layer = max(last_dead, key=last_dead.get) if last_dead else "no layer"
    ratios = [
        v
        for layer in grads.layers("update_ratio")
        for v in grads.values(layer, key="update_ratio")
        if math.isfinite(v)
    ]
    return {
        "vanishing_ratio": float(ratio),
        "max_norm_start": float(largest),
        "loss_start": float(start_loss),
        "loss_end": float(history["loss"][-1]),
        "val_loss_end": float(history["val_loss"][-1]),
        "val_loss_min": float(np.nanmin(history["val_loss"])),
        "dead_max": float(last_dead.get(dead_layer, 0.0)),
        "dead_layer": dead_layer,
        "update_ratio": float(np.median(ratios)) if ratios else float("nan"),
    }


def write_runs(lesson: str, recipes: list[Recipe], directory: Path | None = None) -> Path:
    """Record every recipe of one lesson into ``{directory}/{lesson}.json``; return the path."""
    path = (directory or RUNS_DIR) / f"{lesson}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    runs = [record(recipe) for recipe in recipes]
    path.write_text(json.dumps(runs, indent=None, separators=(",", ":")) + "\n")
    return path
