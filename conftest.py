"""Repository-wide pytest setup: quiet, deterministic TensorFlow and nbval that ignores stderr.

This file sits at the repository root so it applies to every test run — ``pytest`` (the unit
tests in ``tests/``) and ``pytest --nbval lessons/`` (the notebooks) alike. TensorFlow reads
``TF_CPP_MIN_LOG_LEVEL`` and ``TF_ENABLE_ONEDNN_OPTS`` once, when it is first imported, so they
are set here, before any test module or notebook kernel imports Keras (kernels inherit them).
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"  # the same rounding on AVX2 and AVX-512 CPUs

import matplotlib  # noqa: E402

matplotlib.use("Agg")


def pytest_collectstart(collector) -> None:
    """Never compare a notebook cell's stderr stream with the stored one.

    TensorFlow and absl write C++ and Python log lines to stderr whose wording changes between
    versions and machines. nbval compares a stream output under the key of its name
    (``stdout``/``stderr``) and skips every key listed in the notebook collector's
    ``skip_compare``, so adding ``"stderr"`` there drops those streams from both the stored and
    the fresh outputs (the recipe from nbval's documentation, "Skipping certain output types").
    """
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: no notebook tests to configure
        return
    if isinstance(collector, IPyNbFile) and "stderr" not in collector.skip_compare:
        collector.skip_compare = (*collector.skip_compare, "stderr")
