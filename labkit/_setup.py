"""``labkit.setup``: one call that makes a lesson reproducible and quiet."""

from __future__ import annotations

import logging
import os
import random
import sys
import warnings

# TensorFlow reads these when it is imported, so they must be set before anything imports Keras.
# oneDNN's fused kernels round differently on different CPUs: off, so stored outputs reproduce.
TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
# The environment of every kernel labkit starts (lesson builds, `labkit run`, `labkit grade`).
KERNEL_ENV = {**TF_ENV, "PYTHONHASHSEED": "0"}


def quiet_tensorflow_env() -> None:
    """Set :data:`TF_ENV` in ``os.environ`` unless the user already chose other values."""
    for name, value in TF_ENV.items():
        os.environ.setdefault(name, value)


def setup(seed: int = 0) -> None:
    """Seed every random generator, make TensorFlow deterministic and quiet, plot inline as PNG.

    Seeds Python's ``random``, NumPy and Keras (``keras.utils.set_random_seed``); on the
    TensorFlow backend also turns on deterministic ops and silences TensorFlow's logger. Inside
    IPython/Jupyter it selects inline PNG figures (nbval ignores PNG, so stored outputs stay
    comparable). Call it once at the top of a notebook; calling it again re-seeds.

    Parameters
    ----------
    seed : int
        The seed for every generator.

    Example
    -------
    >>> import labkit
    >>> labkit.setup(seed=0)  # doctest: +SKIP
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}; try labkit.setup(seed=0)")
    quiet_tensorflow_env()
    os.environ["PYTHONHASHSEED"] = str(seed)
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="tensorflow")

    import keras
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
        tf.config.experimental.enable_op_determinism()
    _inline_png_figures()


def _inline_png_figures() -> None:
    """Select inline PNG figures when running inside IPython; do nothing elsewhere."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    shell.run_line_magic("matplotlib", "inline")
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    import matplotlib

    matplotlib.rcParams["figure.dpi"] = 80
