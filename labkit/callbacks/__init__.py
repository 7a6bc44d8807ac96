"""Keras callbacks that watch gradients and ReLU units while ``fit`` runs.

Example
-------
>>> from labkit.callbacks import GradientMonitor, DeadReLUMonitor
>>> grads = GradientMonitor(probe=(x_train[:256], y_train[:256]))  # doctest: +SKIP
>>> dead = DeadReLUMonitor(probe=x_train[:256])  # doctest: +SKIP
>>> model.fit(x_train, y_train, epochs=5, callbacks=[grads, dead])  # doctest: +SKIP
"""

from labkit.callbacks.dead_relu_monitor import DeadReLUMonitor
from labkit.callbacks.gradient_monitor import ExplodingGradientError, GradientMonitor

__all__ = ["DeadReLUMonitor", "ExplodingGradientError", "GradientMonitor"]
