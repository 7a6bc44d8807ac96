"""labkit — diagnostics, model builders, plots and checkers for the backprop-lab course.

Importing labkit (or any of its modules) leaves the process as it was: no environment variables,
warning filters or log levels change. :func:`setup` is the explicit call lessons make for that.

Example
-------
>>> import labkit
>>> labkit.setup(seed=0)  # doctest: +SKIP
>>> from labkit.callbacks import GradientMonitor, DeadReLUMonitor  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

from labkit._setup import setup
from labkit._version import __version__

_SUBMODULES = (
    "activations",
    "authoring",
    "backend",
    "callbacks",
    "datasets",
    "diagnose",
    "exercises",
    "gradients",
    "grading",
    "instrumentation",
    "models",
    "plots",
)

_FUNCTIONS = {"instrument": "instrumentation", "uninstrument": "instrumentation"}

__all__ = ["__version__", "setup", *_FUNCTIONS, *_SUBMODULES]


def __getattr__(name: str):
    """Import submodules (and their headline functions) on first use: ``import labkit`` is fast."""
    if name in _SUBMODULES:
        return importlib.import_module(f"labkit.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(f"labkit.{_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
