"""The sandbox a submission's kernel runs in: bubblewrap (``bwrap``) on Linux.

Each kernel gets its own namespaces (``--unshare-all``: user, PID, network, IPC, UTS, cgroup) and
sees only this:

* read-only: ``/usr`` (and the ``/bin``, ``/lib`` links), the few ``/etc`` files programs need
  (dynamic linker, fonts, time zone, ``alternatives``; a ``passwd``/``group`` naming only
  ``nobody``), the Python installation and environment (``sys.base_prefix``, ``sys.prefix``),
  labkit's own source directory (the collector loads ``core.py`` and ``transport.py`` from it)
  and any extra files the caller names (a lesson module outside labkit, the grader's plan);
* read-write: the private scratch directory (its working directory and ``HOME``), the answers
  directory the collector writes to and the directory of its ZMQ IPC sockets (the kernel talks
  to the grader over Unix sockets, jupyter_client's ``transport="ipc"``: there is no network
  inside, not even loopback);
* a private ``/tmp`` (in memory, at most :data:`TMP_BYTES` where bubblewrap has ``--size``),
  ``/dev`` and ``/proc`` (only its own processes).

It runs as uid/gid 65534 (``nobody``) in its own user namespace, with a minimal environment
(:data:`PASSED_ENV`, ``HOME`` and :data:`labkit._setup.KERNEL_ENV`; bubblewrap itself starts
with an empty one, so not even ``/proc/1/environ`` inside shows the grader's), in its own
session (``--new-session``: it cannot signal the grader's process group), and dies with the
grader (``--die-with-parent``). When the kernel ends, the PID namespace ends with it: every
process it started is killed.

Example
-------
>>> argv = wrap(["python", "-c", "pass"], scratch=Path("/tmp/s"), writable=[])  # doctest: +SKIP
>>> argv[0].endswith("bwrap")  # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from labkit._setup import KERNEL_ENV

__all__ = ["INSTALL_HINT", "MODES", "PASSED_ENV", "SandboxUnavailable", "choose", "probe", "wrap"]

MODES = ("auto", "required", "off")
UID = GID = 65534
# The grader's variables a kernel gets (when set); nothing else of its environment passes.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "KERAS_BACKEND")
TMP_BYTES = 2**30  # the private /tmp is memory: capped where bubblewrap can (``--size``)
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`, Fedora: `sudo dnf "
    "install bubblewrap`; `make test` installs it), or grade with `--sandbox off` on machines "
    "you trust the submissions not to attack"
)
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "fonts",
    "mime.types",
)
_PASSWD = f"nobody:x:{UID}:{GID}:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = f"nogroup:x:{GID}:\n"
_PROBE_TIMEOUT = 30


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox here (the message says why)."""


def _readonly_roots() -> list[Path]:
    """The Python installation, its environment and labkit's source directory."""
    import labkit

    roots = [Path(sys.base_prefix), Path(sys.prefix), Path(labkit.__file__).resolve().parent]
    return [p for p in dict.fromkeys(roots) if not _under(p, Path("/usr"))]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def wrap(
    argv: list[str],
    *,
    scratch: Path,
    writable: list[Path],
    readonly: list[Path] = (),
) -> list[str]:
    """``argv`` prefixed with the ``bwrap`` command that sandboxes it.

    Parameters
    ----------
    argv : list of str
        The command to run inside.
    scratch : Path
        The private writable directory: working directory and ``HOME``. The sandbox's
        ``passwd`` and ``group`` are written beside it, in ``scratch.parent / "etc"``.
    writable : list of Path
        Further directories bound read-write, each at its own path.
    readonly : list of Path
        Extra files or directories bound read-only, each at its own path.

    Example
    -------
    >>> wrap(["true"], scratch=Path("/tmp/s"), writable=[])[:4]  # doctest: +SKIP
    ['/usr/bin/env', '-i', '/usr/bin/bwrap', '--unshare-all']
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
    etc = scratch.parent / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(_PASSWD)
    (etc / "group").write_text(_GROUP)
    # `env -i`: bubblewrap's own environment (which its PID 1 inside keeps) is empty
    args = [shutil.which("env") or "/usr/bin/env", "-i", bwrap]
    args += ["--unshare-all", "--die-with-parent", "--new-session"]
    args += ["--uid", str(UID), "--gid", str(GID), "--hostname", "sandbox"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        top = Path("/", name)
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in _ETC:
        if Path("/etc", name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--ro-bind", str(etc / "passwd"), "/etc/passwd"]
    args += ["--ro-bind", str(etc / "group"), "/etc/group"]
    # The private /tmp first: binds after it stay visible even when they live under /tmp (a
    # checkout or virtual environment in /tmp would otherwise vanish inside the sandbox).
    args += ["--proc", "/proc", "--dev", "/dev", *_tmp_size(bwrap), "--tmpfs", "/tmp"]
    for path in [*_readonly_roots(), *readonly]:
        args += ["--ro-bind", str(path), str(path)]
    for path in [scratch, *writable]:
        args += ["--bind", str(path), str(path)]
    args += ["--chdir", str(scratch)]
    passed = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    for key, value in {**passed, "HOME": str(scratch), **KERNEL_ENV}.items():
        args += ["--setenv", key, value]
    return [*args, "--", *argv]


@functools.cache
def _tmp_size(bwrap: str) -> list[str]:
    """``--size`` for the private ``/tmp`` (in memory) where this bubblewrap has it."""
    done = subprocess.run([bwrap, "--help"], capture_output=True, text=True)
    return ["--size", str(TMP_BYTES)] if "--size" in done.stdout + done.stderr else []


@functools.cache
def probe() -> str | None:
    """Why a sandbox cannot be created here, or ``None`` when it can (checked once).

    Example
    -------
    >>> probe() is None or "bubblewrap" in probe()  # doctest: +SKIP
    True
    """
    with tempfile.TemporaryDirectory(prefix="labkit-sandbox-probe-") as root:
        scratch = Path(root, "cwd")
        scratch.mkdir()
        try:
            argv = wrap([sys.executable, "-c", "import labkit"], scratch=scratch, writable=[])
            done = subprocess.run(argv, capture_output=True, text=True, timeout=_PROBE_TIMEOUT)
        except SandboxUnavailable as exc:
            return str(exc)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start a sandbox ({exc}): {INSTALL_HINT}"
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap could not start a sandbox here ({said}): {INSTALL_HINT}"
    return None


def choose(mode: str) -> tuple[bool, str | None]:
    """Whether to sandbox for ``mode`` (one of :data:`MODES`), and the warning to show once.

    ``"required"`` raises :class:`SandboxUnavailable` when :func:`probe` fails; ``"auto"`` then
    grades unsandboxed, with a warning that says what is not protected.

    Example
    -------
    >>> choose("off")
    (False, None)
    """
    if mode not in MODES:
        raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return False, None
    reason = probe()
    if reason is None:
        return True, None
    if mode == "required":
        raise SandboxUnavailable(f"--sandbox required, but {reason}")
    return False, (
        f"WARNING: grading WITHOUT a sandbox: {reason}. Each submission's code runs as you: it "
        "can read and change the other submissions and your files (including the installed "
        "labkit), use the network, read your environment variables, leave processes running "
        "and kill the grader. Pass --sandbox required to refuse to grade like this."
    )
