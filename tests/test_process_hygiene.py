"""Importing and using labkit's diagnostics changes nothing in the process; ``setup`` is explicit.

One fresh interpreter (this file run as a script) records the process state — environment,
warning filters, the root/``tensorflow``/``absl`` log levels, the garbage collector — around
``import labkit`` and around importing every diagnostics module and training a tiny model with
the monitors, then calls ``labkit.setup()`` after TensorFlow is imported. The test compares
the records.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import warnings

_LOGGERS = ("", "tensorflow", "absl")


def _state() -> dict:
    return {
        "environ": dict(os.environ),
        "warning_filters": [repr(f) for f in warnings.filters],
        "log_levels": {name or "root": logging.getLogger(name).level for name in _LOGGERS},
        "gc": {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()},
    }


def _worker() -> dict:
    """Run in the fresh interpreter: the states to compare and what ``labkit.setup`` did."""
    states = {"start": _state()}
    import labkit

    states["after import labkit"] = _state()
    import keras  # noqa: F401  (what Keras and TensorFlow do on import is not labkit's doing)
    import numpy as np

    states["after import keras"] = _state()
    import labkit.activations
    import labkit.backend
    import labkit.callbacks
    import labkit.diagnose
    import labkit.gradients
    import labkit.instrumentation
    import labkit.models
    import labkit.plots
    from labkit.callbacks import DeadReLUMonitor, GradientMonitor

    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = x[:, :1] - x[:, 1:2]
    model = labkit.models.build_mlp(4, depth=2, width=8, activation="relu")
    model.compile(optimizer="sgd", loss="mse")
    monitors = [GradientMonitor(probe=(x, y)), DeadReLUMonitor(probe=x)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=monitors)
    labkit.instrument(model)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    labkit.uninstrument(model)
    labkit.diagnose.diagnose(model, x, y)
    states["after the diagnostics"] = _state()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labkit.setup(seed=0)
    setup = {
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "environ": dict(os.environ),
        "gc": {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()},
    }
    return {"states": states, "setup": setup}


def _changes(before: dict, after: dict) -> dict:
    """What differs between two states: each environment variable, the filters, the levels."""
    changes = _env_changes(before["environ"], after["environ"])
    for key in ("warning_filters", "log_levels", "gc"):
        if before[key] != after[key]:
            changes[key] = (before[key], after[key])
    return changes


def _env_changes(before: dict, after: dict) -> dict:
    return {
        f"${name}": (before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _run_worker() -> dict:
    from labkit._setup import KERNEL_ENV

    env = {k: v for k, v in os.environ.items() if k not in KERNEL_ENV}
    env["KERAS_BACKEND"] = "tensorflow"
    proc = subprocess.run(
        [sys.executable, __file__], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_importing_and_using_labkit_leaves_the_process_alone_and_setup_says_when_too_late():
    result = _run_worker()
    states = result["states"]
    assert _changes(states["start"], states["after import labkit"]) == {}
    assert _changes(states["after import keras"], states["after the diagnostics"]) == {}

    # TensorFlow is imported and TF_ENV is unset: setup cannot make it take effect, and says so.
    setup = result["setup"]
    before_setup = states["after the diagnostics"]["environ"]
    assert list(_env_changes(before_setup, setup["environ"])) == ["$PYTHONHASHSEED"]
    assert "TF_ENABLE_ONEDNN_OPTS" not in setup["environ"]
    assert len(setup["warnings"]) == 1, setup["warnings"]
    assert setup["warnings"][0].startswith("RuntimeWarning: TensorFlow was imported before")
    assert "TF_ENABLE_ONEDNN_OPTS" in setup["warnings"][0]
    # setup moves what the imports made out of the collector's reach, and leaves it running
    assert setup["gc"]["enabled"]
    assert setup["gc"]["frozen"] > 100_000, setup["gc"]


if __name__ == "__main__":
    print(json.dumps(_worker()))
