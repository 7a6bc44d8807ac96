"""``labkit.setup``: one explicit call that makes a lesson reproducible and quiet.

Importing labkit changes nothing in the process; only :func:`setup` (called at the top of every
lesson) and the kernels labkit starts (with :data:`KERNEL_ENV`) set what lessons need.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import sys
import warnings

# TensorFlow reads these once, when it is imported: they only take effect if set before that.
# oneDNN's fused kernels round differently on different CPUs: off, so stored outputs reproduce.
# TensorFlow's matrix products still call oneDNN's sgemm, which picks its kernel by the CPU's
# instruction set: AVX-512 machines round differently from AVX2 ones (a lesson's chaotic run
# then ends elsewhere). Capping it at AVX2 gives the same numbers on both.
TF_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}
# The environment of every kernel labkit starts (lesson builds, `labkit run`, `labkit grade`).
KERNEL_ENV = {**TF_ENV, "PYTHONHASHSEED": "0"}


def setup(seed: int = 0) -> None:
    """Make a lesson reproducible and quiet: seeds, deterministic TensorFlow, inline PNG figures.

    This is a process-wide switch for notebooks, not for a practitioner's own project (the
    monitors need no setup). It changes exactly this:

    - ``os.environ``: :data:`TF_ENV` (``TF_ENABLE_ONEDNN_OPTS=0``, ``ONEDNN_MAX_CPU_ISA=AVX2``,
      ``TF_CPP_MIN_LOG_LEVEL=3``),
      each only if unset, and only while TensorFlow is not yet imported — it reads them at import.
      If TensorFlow was imported first and they are missing, a ``RuntimeWarning`` says so and they
      are left unset. ``PYTHONHASHSEED`` is set to ``seed`` for child processes.
    - warning filters: ignore every warning from Keras, every ``DeprecationWarning``, and
      ``UserWarning`` from TensorFlow.
    - seeds: Python's ``random``, NumPy's global generator and Keras
      (``keras.utils.set_random_seed``, which also seeds the backend).
    - on the TensorFlow backend: deterministic ops
      (``tf.config.experimental.enable_op_determinism``) and the ``tensorflow`` and ``absl``
      loggers at ``ERROR``.
    - inside a Jupyter kernel: ``%matplotlib inline`` with PNG figures at 80 dpi (nbval ignores
      PNG, so stored outputs stay comparable).
    - the garbage collector: it pauses while Keras and its backend are imported, and everything
      alive at the end of the call (the ~430,000 objects that import creates) is moved out of
      its reach with ``gc.freeze()``. Each full collection then scans only what the lesson made
      since; with TensorFlow loaded one took ~0.2 s, and they cost ~2 s per lesson
      (``python benchmarks/lesson_cells.py`` prints their count and time). Frozen objects are
      never freed, which costs nothing for modules that stay imported.

    Call it once at the top of a notebook, before importing Keras; calling it again re-seeds.

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
    _tensorflow_env()
    os.environ["PYTHONHASHSEED"] = str(seed)
    warnings.filterwarnings("ignore", module="keras")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="tensorflow")

    keras = _import_keras_uncollected()
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
    gc.freeze()


def _import_keras_uncollected():
    """``import keras`` with the garbage collector paused: importing TensorFlow allocates
    ~430,000 long-lived objects and triggers ~9 full collections on the way (0.8 s), and
    almost none of it is garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import keras
    finally:
        if was_enabled:
            gc.enable()
    return keras


def _tensorflow_env() -> None:
    """Set the unset names of :data:`TF_ENV`, or warn when TensorFlow is already imported."""
    missing = [name for name in TF_ENV if name not in os.environ]
    if not missing:
        return
    if "tensorflow" in sys.modules:
        warnings.warn(
            f"TensorFlow was imported before labkit.setup(), so {', '.join(missing)} cannot take "
            "effect (TensorFlow reads the environment at import): numbers may differ from the "
            "lesson's in the last digits. Restart the kernel and call labkit.setup() before "
            "importing Keras.",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    for name in missing:
        os.environ[name] = TF_ENV[name]


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
