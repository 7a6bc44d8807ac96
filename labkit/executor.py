"""Run a notebook in a fresh kernel: the one executor behind ``labkit build``, ``run``, ``grade``.

Every kernel labkit starts is started here, the same way: a kernel name (``"python3"``) or a
kernelspec directory (the grader's memory-capped kernel, :mod:`labkit.grading.kernel`), a working
directory, IPython's own logging at ``ERROR`` and no history file, and the caller's environment
plus :data:`labkit._setup.KERNEL_ENV` — passed to the kernel process only: the caller's
``os.environ`` is never written.

A cell that raises, runs past its timeout or kills the kernel becomes an :class:`ExecutionError`
whose message is one readable line naming the cell (code cells counted as in the notebook's
``[n]`` prompts)::

    code cell 3 (notebook cell 5: 'ratio = a / b') failed: ZeroDivisionError: division by zero

:func:`execute` runs a whole notebook and stops at the first failure (``labkit build``,
``labkit run``). :func:`kernel_session` yields a :class:`KernelSession` for a caller that runs
cells one at a time and decides itself what a failure means (``labkit grade``).

Example
-------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
>>> execute(nb, cwd=".").cells[0].outputs[0]["text"]  # doctest: +SKIP
'42\\n'
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from labkit._setup import KERNEL_ENV

__all__ = [
    "CellFailed",
    "CellTimedOut",
    "ExecutionError",
    "KernelDied",
    "KernelSession",
    "KernelStartFailed",
    "code_cells",
    "execute",
    "kernel_session",
    "run_sync",
]

DEFAULT_TIMEOUT = 600
"""Seconds each cell may run unless the caller says otherwise (``labkit build``, ``labkit run``)."""
STARTUP_TIMEOUT = 60
KERNEL_ARGS = ("--IPKernelApp.log_level=ERROR", "--HistoryManager.hist_file=:memory:")
# nbclient logs timeouts and dead kernels itself; here they become exceptions instead
_LOG = logging.getLogger("labkit.executor")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False

T = TypeVar("T")


class ExecutionError(RuntimeError):
    """A notebook that did not run to the end; ``str()`` is one readable line."""


class KernelStartFailed(ExecutionError):
    """The kernel did not start or did not answer."""


class CellFailed(ExecutionError):
    """A cell raised: ``ename`` and ``evalue`` are the exception's type name and message."""

    def __init__(self, where: str, index: int, ename: str, evalue: str):
        super().__init__(f"{where} failed: {ename}: {evalue}")
        self.index, self.ename, self.evalue = index, ename, evalue


class CellTimedOut(ExecutionError):
    """A cell ran longer than its timeout (``seconds``); the kernel is still running it."""

    def __init__(self, where: str, index: int, seconds: float):
        super().__init__(f"{where} failed: TimeoutError: the cell ran longer than {seconds:g} s")
        self.index, self.seconds = index, seconds


class KernelDied(ExecutionError):
    """The kernel process ended while a cell ran (out of memory, ``os._exit``, a crash)."""

    def __init__(self, where: str, index: int):
        super().__init__(
            f"{where} failed: the kernel died while it ran (out of memory, or the code ended "
            "the process)"
        )
        self.index = index


def code_cells(nb: NotebookNode) -> list[int]:
    """Indices of the cells a kernel runs: code cells that are not blank.

    Example
    -------
    >>> import nbformat
    >>> v4 = nbformat.v4
    >>> code_cells(v4.new_notebook(cells=[v4.new_markdown_cell("# A"), v4.new_code_cell("1")]))
    [1]
    """
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


def _where(nb: NotebookNode, index: int) -> str:
    """``code cell N (notebook cell M: 'first line')`` for the cell at ``index``."""
    cell = nb.cells[index]
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    number = code_cells(nb).index(index) + 1
    return f"code cell {number} (notebook cell {index + 1}: {first.strip()[:60]!r})"


class _Client(NotebookClient):
    """nbclient's client, remembering the task that reads the running cell's output."""

    output_reader: asyncio.Task | None = None

    # nbclient 0.10-0.11 (checked): after a cell times out this task keeps reading, and dropping,
    # every other cell's output until the timed-out cell ends; run_cell cancels it instead.
    async def _async_poll_output_msg(self, parent_msg_id: str, cell, cell_index: int) -> None:
        self.output_reader = asyncio.current_task()
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)


class KernelSession:
    """A started kernel and the notebook whose cells it runs (see :func:`kernel_session`).

    ``timeout`` (seconds per cell, ``None`` for no limit) applies to every :meth:`run_cell`
    that does not pass its own.
    """

    def __init__(self, nb: NotebookNode, km: AsyncKernelManager, timeout: float | None):
        self.nb = nb
        self.timeout = timeout
        self._km = km
        self._limit = timeout
        self._error: dict | None = None
        self._client = _Client(
            nb,
            km=km,
            timeout_func=lambda cell: self._limit,
            startup_timeout=STARTUP_TIMEOUT,
            allow_errors=True,  # one cell at a time: errors are raised by run_cell instead
            record_timing=False,
            coalesce_streams=True,  # ipykernel splits streams at random points
            on_cell_error=self._on_cell_error,
            log=_LOG,
        )

    async def run_cell(self, index: int, timeout: float | None = None) -> None:
        """Run ``nb.cells[index]``, its outputs stored in the cell.

        Raises :class:`CellFailed`, :class:`CellTimedOut` or :class:`KernelDied`. A cell tagged
        ``raises-exception`` may raise.
        """
        self._limit = self.timeout if timeout is None else timeout
        self._error = None
        client = self._client
        try:
            await client.async_execute_cell(
                self.nb.cells[index], index, execution_count=client.code_cells_executed + 1
            )
        except CellTimeoutError:
            client.output_reader.cancel()
            raise CellTimedOut(_where(self.nb, index), index, self._limit) from None
        except DeadKernelError:
            raise KernelDied(_where(self.nb, index), index) from None
        if self._error is not None:
            ename, evalue = self._error.get("ename", "Error"), self._error.get("evalue", "")
            raise CellFailed(_where(self.nb, index), index, ename, evalue)

    async def interrupt(self) -> None:
        """Interrupt the kernel (``KeyboardInterrupt`` in the running cell)."""
        await self._km.interrupt_kernel()

    def _on_cell_error(self, cell, cell_index: int, execute_reply: dict) -> None:
        if "raises-exception" not in cell.metadata.get("tags", []):
            self._error = execute_reply["content"]

    async def _connect(self) -> None:
        kc = await self._client.async_start_new_kernel_client()
        reply = await kc.kernel_info(reply=True, timeout=STARTUP_TIMEOUT)
        self.nb.metadata["language_info"] = reply["content"]["language_info"]

    async def _shutdown(self) -> None:
        try:
            if self._client.kc is not None:
                self._client.kc.stop_channels()
            if self._km.has_kernel:
                await self._km.shutdown_kernel(now=True)
        except Exception:  # the kernel may already be gone; nothing else to clean up
            await self._km.cleanup_resources()


def _kernel_manager(
    kernel: str | os.PathLike, ipc_dir: str | os.PathLike | None
) -> AsyncKernelManager:
    channels = {}
    if ipc_dir is not None:  # the connection file and its sockets (kernel-ipc-N) in ipc_dir
        channels = {"transport": "ipc", "connection_file": str(Path(ipc_dir) / "kernel.json")}
    if isinstance(kernel, os.PathLike):
        spec_dir = Path(kernel)
        specs = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
        return AsyncKernelManager(kernel_name=spec_dir.name, kernel_spec_manager=specs, **channels)
    return AsyncKernelManager(kernel_name=kernel, **channels)


@asynccontextmanager
async def kernel_session(
    nb: NotebookNode,
    *,
    cwd: str | os.PathLike,
    timeout: float | None = DEFAULT_TIMEOUT,
    kernel: str | os.PathLike = "python3",
    ipc_dir: str | os.PathLike | None = None,
) -> AsyncIterator[KernelSession]:
    """Start a fresh kernel for ``nb``, yield its :class:`KernelSession`, then shut it down.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook whose cells :meth:`KernelSession.run_cell` runs (its ``language_info`` is
        set from the kernel).
    cwd : path
        The kernel's working directory.
    timeout : float or None
        Seconds each cell may run (``None``: no limit).
    kernel : str or path
        A kernel name, or the directory of a kernelspec (a ``kernel.json``) as a ``Path``.
    ipc_dir : path or None
        ``None``: the kernel listens on loopback TCP ports. A directory: it talks over ZMQ IPC
        (Unix) sockets created there, with its connection file (a sandboxed kernel has no
        network; the grader binds this directory into its sandbox).

    Raises :class:`KernelStartFailed` when the kernel does not start.

    Example
    -------
    >>> async def first_cell(nb):  # doctest: +SKIP
    ...     async with kernel_session(nb, cwd=".") as session:
    ...         await session.run_cell(0)
    >>> run_sync(first_cell(nb))  # doctest: +SKIP
    """
    km = _kernel_manager(kernel, ipc_dir)
    session = KernelSession(nb, km, timeout)
    with tempfile.TemporaryFile() as log:
        try:
            await km.start_kernel(
                extra_arguments=list(KERNEL_ARGS),
                cwd=str(cwd),
                env={**os.environ, **KERNEL_ENV},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            await session._connect()
        except Exception as exc:
            await session._shutdown()
            log.seek(0)
            said = log.read().decode(errors="replace").strip().splitlines()
            last = f" (the kernel said: {said[-1].strip()})" if said else ""
            raise KernelStartFailed(
                f"the kernel could not start: {type(exc).__name__}: {exc}{last}"
            ) from exc
        try:
            yield session
        finally:
            await session._shutdown()


def execute(
    nb: NotebookNode,
    *,
    cwd: str | os.PathLike,
    timeout: float | None = DEFAULT_TIMEOUT,
    kernel: str | os.PathLike = "python3",
    on_cell: Callable[[int], None] | None = None,
) -> NotebookNode:
    """Run every code cell of ``nb`` in a fresh kernel, outputs in place; return ``nb``.

    Stops at the first cell that fails, raising :class:`CellFailed`, :class:`CellTimedOut` or
    :class:`KernelDied` (:class:`KernelStartFailed` if the kernel does not start).
    ``on_cell(index)`` is called after each cell that ran; the other parameters are those of
    :func:`kernel_session`.

    Example
    -------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    >>> execute(nb, cwd=".")  # doctest: +SKIP
    Traceback (most recent call last):
    CellFailed: code cell 1 (notebook cell 1: '1 / 0') failed: ZeroDivisionError: division by zero
    """

    async def run_all() -> None:
        async with kernel_session(nb, cwd=cwd, timeout=timeout, kernel=kernel) as session:
            for index in code_cells(nb):
                await session.run_cell(index)
                if on_cell is not None:
                    on_cell(index)

    run_sync(run_all())
    return nb


def run_sync(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` (which uses :func:`kernel_session`) to completion in a new event loop.

    From a thread that already runs a loop (a Jupyter cell), the loop runs in a worker thread.
    Exceptions of nbclient's output-polling tasks left behind by a timed-out cell or a dead
    kernel are not reported: the cell's :class:`ExecutionError` already says what happened.

    Example
    -------
    >>> async def answer():
    ...     return 42
    >>> run_sync(answer())
    42
    """

    async def quietly() -> T:
        asyncio.get_running_loop().set_exception_handler(_ignore_nbclient_tasks)
        return await main

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(quietly())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, quietly()).result()


def _ignore_nbclient_tasks(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    task = context.get("future")
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    if getattr(coro, "__qualname__", "").startswith("NotebookClient."):
        return
    loop.default_exception_handler(context)
