"""Which cells of a lesson cost the time? Wall and CPU seconds of every code cell.

Runs one notebook's code cells in this process, in order, with an IPython shell (figures go to
matplotlib's Agg backend, printed output is swallowed), and prints each cell's wall and CPU time
(CPU summed over all threads) and the totals. CPU time is the figure to compare when the machine
is busy::

    python benchmarks/lesson_cells.py lessons/solutions/02_vanishing_gradients.ipynb
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import sys
import time
from pathlib import Path


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(path: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import matplotlib

    matplotlib.use("Agg")
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    notebook = Path(path).resolve()
    os.chdir(notebook.parent)  # lessons read nothing relative, but a kernel would start here
    shell = InteractiveShell.instance()
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    wall_total = cpu_total = 0.0
    print(f"{'cell':>4} {'wall s':>7} {'cpu s':>7}  first line")
    for i, cell in enumerate(cells):
        wall, cpu = time.perf_counter(), cpu_seconds()
        with contextlib.redirect_stdout(io.StringIO()):
            result = shell.run_cell(cell.source, silent=True)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        wall_total, cpu_total = wall_total + wall, cpu_total + cpu
        first = cell.source.splitlines()[0][:60] if cell.source else ""
        print(f"{i:>4} {wall:>7.2f} {cpu:>7.2f}  {first}", flush=True)
        if result.error_in_exec is not None:
            sys.exit(f"cell {i} raised {result.error_in_exec!r}")
    print(f"{'all':>4} {wall_total:>7.2f} {cpu_total:>7.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/lesson_cells.py NOTEBOOK.ipynb")
    main(sys.argv[1])
