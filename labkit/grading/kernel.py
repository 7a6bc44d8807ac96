"""The grading kernel: an IPython kernel whose address space is capped.

Run as a script (``python kernel.py MAX_BYTES -f CONNECTION_FILE``) it lowers ``RLIMIT_AS`` and
then *replaces itself* with ``python -m ipykernel_launcher``, so the limit applies to the kernel
and to anything it starts, and no extra process sits in between. A submission that allocates
without bound gets a ``MemoryError`` (or its kernel dies) instead of exhausting the machine.

:func:`write_kernelspec` writes a kernelspec that launches it; the grader passes the directory it
returns as ``kernel=`` to :func:`labkit.executor.kernel_session`, so nothing is installed in the
user's Jupyter configuration.

Example
-------
>>> import tempfile
>>> write_kernelspec(tempfile.mkdtemp(), max_bytes=4 * 2**30).name
'labkit-grade'
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

KERNEL_NAME = "labkit-grade"


def write_kernelspec(directory: str | os.PathLike, max_bytes: int) -> Path:
    """Write ``directory/labkit-grade/kernel.json`` launching this file with ``max_bytes``."""
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    spec_dir = Path(directory) / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            sys.executable,
            str(Path(__file__).resolve()),
            str(int(max_bytes)),
            "-f",
            "{connection_file}",
        ],
        "display_name": "labkit grading kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return spec_dir


def _launch(argv: list[str]) -> None:
    import resource

    max_bytes = int(argv[0])
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv[1:]])


if __name__ == "__main__":
    _launch(sys.argv[1:])
