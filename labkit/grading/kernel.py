"""The grading kernel: an IPython kernel under resource limits, optionally in the sandbox.

Run as a script (``python kernel.py AS=BYTES,CPU=SECONDS,... -f CONNECTION_FILE``) it sets each
``RLIMIT_<NAME>`` given and then *replaces itself* with ``python -m ipykernel_launcher``, so the
limits apply to the kernel and to anything it starts, and no extra process sits in between. A
submission that allocates without bound gets a ``MemoryError`` (or its kernel dies) instead of
exhausting the machine; one that forks without bound, spins or writes a huge file is stopped by
``NPROC`` (as root: by the pids cgroup of :mod:`labkit.grading.cgroup`), ``CPU`` and ``FSIZE``.

:func:`write_kernelspec` writes a kernelspec that launches it, wrapped in the bubblewrap command
of :func:`labkit.grading.sandbox.wrap` when given one; the grader passes the directory it returns
as ``kernel=`` to :func:`labkit.executor.kernel_session`, so nothing is installed in the user's
Jupyter configuration.

Example
-------
>>> import tempfile
>>> write_kernelspec(tempfile.mkdtemp(), {"AS": 4 * 2**30}).name
'labkit-grade'
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

KERNEL_NAME = "labkit-grade"


def write_kernelspec(
    directory: str | os.PathLike,
    limits: Mapping[str, int],
    sandbox: Callable[[list[str]], list[str]] | None = None,
) -> Path:
    """Write ``directory/labkit-grade/kernel.json`` launching this file under ``limits``.

    ``limits`` maps ``resource`` names without the ``RLIMIT_`` prefix (``"AS"``, ``"NPROC"``,
    ``"CPU"``, ``"FSIZE"``) to positive values; ``sandbox`` wraps the command (for example
    ``functools.partial(sandbox.wrap, scratch=...)``). A sandboxed kernel is interrupted with
    a message on its control channel: a signal to its process group would not reach it.

    Example
    -------
    >>> import tempfile
    >>> write_kernelspec(tempfile.mkdtemp(), {"AS": 0})
    Traceback (most recent call last):
    ValueError: resource limits must be positive, got {'AS': 0}
    """
    if not limits or any(int(v) <= 0 for v in limits.values()):
        raise ValueError(f"resource limits must be positive, got {dict(limits)}")
    spec_dir = Path(directory) / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        ",".join(f"{name}={int(value)}" for name, value in limits.items()),
        "-f",
        "{connection_file}",
    ]
    spec = {
        "argv": argv if sandbox is None else sandbox(argv),
        "display_name": "labkit grading kernel",
        "language": "python",
        "interrupt_mode": "signal" if sandbox is None else "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return spec_dir


def _launch(argv: list[str]) -> None:
    import resource

    for item in argv[0].split(","):
        name, value = item.split("=")
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (int(value), int(value)))
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv[1:]])


if __name__ == "__main__":
    _launch(sys.argv[1:])
