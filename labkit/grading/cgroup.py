"""A pids cgroup per sandboxed kernel: a process limit that holds when grading as root, too.

Linux exempts root's processes from ``RLIMIT_NPROC``, and the sandbox's uid maps to the grader's,
so a grader run as root (CI, a container) gets no process limit from rlimits. Where the grader
may create cgroups (root, with the pids controller writable: cgroup v1's ``pids`` hierarchy, or
cgroup v2 with ``pids`` enabled below the grader's cgroup), each kernel gets its own cgroup with
``pids.max``: every process and thread of the submission counts, whatever its uid.

Run as a script (``python cgroup.py GRADER_PID DIR MAX -- ARGV...``) it arranges to be killed
when the grader dies, creates the cgroup ``DIR``, sets its ``pids.max`` to ``MAX``, moves itself
into it and replaces itself with ``ARGV`` (the sandbox), so everything started from there stays
inside. It imports nothing from labkit.

Example
-------
>>> command(Path("/sys/fs/cgroup/pids/labkit-x"), 512, ["bwrap"])[-4:]
['/sys/fs/cgroup/pids/labkit-x', '512', '--', 'bwrap']
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["command", "parent", "remove"]

_PR_SET_PDEATHSIG = 1


@functools.cache
def parent() -> Path | None:
    """The cgroup directory kernels' cgroups are made in, or ``None`` when none can be (checked
    once: a child cgroup with a writable ``pids.max`` is made and removed).

    Example
    -------
    >>> parent() is None or parent().is_dir()
    True
    """
    for base in _candidates():
        probe = base / f"labkit-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            (probe / "pids.max").write_text("1")
            return base
        except OSError:
            continue
        finally:
            probe.rmdir()
    return None


def _candidates() -> list[Path]:
    """This process's cgroup in each mounted hierarchy that has the pids controller."""
    try:
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(","):  # cgroup v2: the one line "0::PATH"
                own[name] = path
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except (OSError, ValueError):
        return []
    found = []
    for line in mounts:
        fields = line.split()
        kind = fields[fields.index("-") + 1 :]
        if kind[0] == "cgroup" and "pids" in kind[2].split(","):
            path = own.get("pids")
        elif kind[0] == "cgroup2":
            path = own.get("")
        else:
            continue
        root, mount = fields[3], fields[4]
        if path is not None and (path + "/").startswith(root.rstrip("/") + "/"):
            found.append(Path(mount) / os.path.relpath(path, root))
    return found


def command(directory: Path, maximum: int, argv: list[str]) -> list[str]:
    """``argv`` run in the new cgroup ``directory`` holding at most ``maximum`` tasks."""
    script = str(Path(__file__).resolve())
    pids = [str(os.getpid()), str(directory), str(maximum)]
    return [sys.executable, "-I", script, *pids, "--", *argv]


def remove(directory: Path, wait: float = 10.0) -> None:
    """Kill whatever is still in the cgroup ``directory``, then remove it.

    Example
    -------
    >>> remove(Path("/no/such/cgroup"))
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # busy: processes are left in it
            if time.monotonic() > deadline:
                raise
        for pid in (directory / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def _enter(argv: list[str]) -> None:
    grader, directory, maximum, separator, *target = argv
    if separator != "--" or not target:
        raise SystemExit("usage: python cgroup.py GRADER_PID DIR MAX -- ARGV...")
    # Die with the grader from now on (bubblewrap's --die-with-parent starts only once it runs)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(grader):
        raise SystemExit("the grader is gone")
    group = Path(directory)
    group.mkdir(exist_ok=True)
    (group / "pids.max").write_text(maximum)
    (group / "cgroup.procs").write_text(str(os.getpid()))
    os.execv(target[0], target)


if __name__ == "__main__":
    _enter(sys.argv[1:])
