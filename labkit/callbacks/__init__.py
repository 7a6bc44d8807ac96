"""Keras callbacks that watch gradients, activations and ReLU units while ``fit`` runs.

Example
-------
>>> from labkit.callbacks import ActivationMonitor, GradientMonitor, DeadReLUMonitor
>>> grads = GradientMonitor(probe=(x_train[:256], y_train[:256]))  # doctest: +SKIP
>>> dead = DeadReLUMonitor(probe=x_train[:256])  # doctest: +SKIP
>>> acts = ActivationMonitor(probe=x_train[:256])  # doctest: +SKIP
>>> model.fit(x_train, y_train, epochs=5, callbacks=[grads, dead, acts])  # doctest: +SKIP
"""

from labkit.callbacks.activation_monitor import ActivationMonitor
from labkit.callbacks.dead_relu_monitor import DeadReLUMonitor
from labkit.callbacks.gradient_monitor import ExplodingGradientError, GradientMonitor
from labkit.callbacks.tensorboard_histograms import TensorBoardHistograms

__all__ = [
    "ActivationMonitor",
    "DeadReLUMonitor",
    "ExplodingGradientError",
    "GradientMonitor",
    "TensorBoardHistograms",
]
