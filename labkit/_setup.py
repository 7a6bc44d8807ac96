"""``labkit.setup``: one call that makes a lesson reproducible and quiet."""

from __future__ import annotations

import logging
import os
import random
import sys
import warnings


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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
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
