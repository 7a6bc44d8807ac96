"""labkit — diagnostics, model builders, plots and checkers for the backprop-lab course.

Example
-------
>>> import labkit
>>> labkit.setup(seed=0)  # doctest: +SKIP
>>> from labkit.callbacks import GradientMonitor, DeadReLUMonitor  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os

# TensorFlow reads these when it is imported, so they must be set before anything imports Keras.
# oneDNN's fused kernels round differently on different CPUs: off, so stored outputs reproduce.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from labkit._setup import setup  # noqa: E402
from labkit._version import __version__  # noqa: E402

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
