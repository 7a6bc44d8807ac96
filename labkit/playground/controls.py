"""The playground's controls and presets: what each control accepts, checked without Keras.

Lesson modules declare playground challenges with these at import, so this module needs only
NumPy (the network itself is in ``_core``).

Example
-------
>>> validated(preset_controls("vanishing"), {"activation": "relu"})["activation"]
'relu'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["CONTROLS", "PRESETS", "Control", "preset_controls", "validated"]

DATASETS = ("spiral", "circles", "xor", "gaussian")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
INITIALIZERS = ("glorot", "he")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Control:
    """One control: its default, and its choices (a tuple) or its ``(low, high)`` range."""

    default: object
    choices: tuple = ()
    bounds: tuple = ()
    rebuild: bool = True  # False: applied to the running network without starting over

    def validate(self, name: str, value):
        if self.choices:
            if value not in self.choices:
                raise ValueError(
                    f"{name}={value!r} is not one of {self.choices}; e.g. {name}={self.default!r}"
                )
            return value
        kind = type(self.default)
        if kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number, got {value!r}; e.g. {name}={self.default}")
        if kind is int and float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        value = kind(value)
        low, high = self.bounds
        if not low <= value <= high:
            raise ValueError(
                f"{name}={value!r} is outside [{low}, {high}]; e.g. {name}={self.default}"
            )
        return value


CONTROLS: dict[str, Control] = {
    "dataset": Control("spiral", choices=DATASETS),
    "points": Control(300, bounds=(20, 2000)),
    "noise": Control(0.05, bounds=(0.0, 1.0)),
    "train_fraction": Control(0.5, bounds=(0.1, 0.9)),
    "depth": Control(3, bounds=(1, 12)),
    "width": Control(16, bounds=(1, 64)),
    "activation": Control("relu", choices=ACTIVATIONS),
    "initializer": Control("he", choices=INITIALIZERS),
    "init_scale": Control(1.0, bounds=(0.0, 10.0)),
    "batch_norm": Control(False),
    "dropout": Control(0.0, bounds=(0.0, 0.9)),
    "l2": Control(0.0, bounds=(0.0, 1.0)),
    "optimizer": Control("adam", choices=OPTIMIZERS),
    "learning_rate": Control(0.01, bounds=(0.0, 10.0), rebuild=False),
    "batch_size": Control(16, bounds=(1, 512), rebuild=False),
    "seed": Control(0, bounds=(0, 2**31 - 1)),
}
"""Every control, its default (the ``"healthy"`` set-up) and what it accepts."""

PRESETS: dict[str, dict] = {
    "healthy": {},
    "vanishing": {
        "dataset": "circles",
        "depth": 10,
        "width": 16,
        "activation": "sigmoid",
        "initializer": "glorot",
        "optimizer": "sgd",
        "learning_rate": 0.1,
    },
    "exploding": {
        "depth": 8,
        "activation": "relu",
        "initializer": "he",
        "init_scale": 2.0,
        "optimizer": "sgd",
        "learning_rate": 0.05,
    },
    "dead_relu": {
        "depth": 4,
        "activation": "relu",
        "optimizer": "sgd",
        "learning_rate": 3.0,
    },
    "overfitting": {
        "dataset": "circles",
        "points": 200,
        "noise": 0.25,
        "train_fraction": 0.2,
        "depth": 3,
        "width": 64,
        "learning_rate": 0.01,
        "batch_size": 8,
    },
}
"""Each preset's controls that differ from :data:`CONTROLS`' defaults."""


def preset_controls(name: str) -> dict:
    """The full controls of preset ``name``.

    Example
    -------
    >>> preset_controls("vanishing")["activation"]
    'sigmoid'
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return {**{k: c.default for k, c in CONTROLS.items()}, **PRESETS[name]}


def validated(base: Mapping, controls: Mapping) -> dict:
    """``base`` with ``controls`` applied, each checked (unknown names and bad values raise).

    Example
    -------
    >>> validated(preset_controls("healthy"), {"depth": 4})["depth"]
    4
    """
    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise ValueError(
            f"unknown control(s) {', '.join(unknown)}; the controls are: {', '.join(CONTROLS)}"
        )
    out = dict(base)
    for name, value in controls.items():
        out[name] = CONTROLS[name].validate(name, value)
    return out
