"""The one notebook executor: a fresh kernel, its environment, readable failures, ``labkit build``.

Each test starts one real kernel (a few seconds each), so each covers several behaviours.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from pathlib import Path

import nbformat
import pytest

from labkit import authoring, cli, executor
from labkit._setup import KERNEL_ENV

v4 = nbformat.v4


def test_kernel_gets_kernel_env_and_cwd_and_os_environ_is_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the caller's own choice
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.setenv("LABKIT_TEST_CALLER", "kept")
    names = [*KERNEL_ENV, "LABKIT_TEST_CALLER"]
    code = f"import json, os\nprint(json.dumps({{n: os.environ.get(n) for n in {names!r}}}))"
    nb = v4.new_notebook(cells=[v4.new_code_cell(code), v4.new_code_cell("print(os.getcwd())")])
    before = dict(os.environ)

    async def from_a_running_loop():  # as from a Jupyter cell
        return executor.execute(nb, cwd=tmp_path)

    assert asyncio.run(from_a_running_loop()) is nb
    assert dict(os.environ) == before
    seen = json.loads(nb.cells[0].outputs[0]["text"])
    assert seen == {**KERNEL_ENV, "LABKIT_TEST_CALLER": "kept"}
    assert Path(nb.cells[1].outputs[0]["text"].strip()).resolve() == tmp_path.resolve()
    assert [c.execution_count for c in nb.cells] == [1, 2]
    assert nb.metadata.language_info["name"] == "python"


def test_session_turns_errors_timeouts_and_dead_kernels_into_one_line(tmp_path):
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# Demo"),
            v4.new_code_cell("ratio = 1.0\nratio / 0"),
            v4.new_code_cell("raise KeyError('shown')", metadata={"tags": ["raises-exception"]}),
            v4.new_code_cell(""),
            v4.new_code_cell("\nimport time\ntime.sleep(60)"),
            v4.new_code_cell("print('still here')"),
            v4.new_code_cell("import os\nos._exit(3)"),
        ]
    )

    async def scenario():
        async with executor.kernel_session(nb, cwd=tmp_path, timeout=30) as session:
            with pytest.raises(executor.CellFailed) as failed:
                await session.run_cell(1)
            await session.run_cell(2)  # tagged: it may raise
            with pytest.raises(executor.CellTimedOut) as timed_out:
                await session.run_cell(4, timeout=1.5)
            await session.interrupt()
            await session.run_cell(5)
            with pytest.raises(executor.KernelDied) as died:
                await session.run_cell(6)
        return failed.value, timed_out.value, died.value

    failed, timed_out, died = executor.run_sync(scenario())
    assert str(failed) == (
        "code cell 1 (notebook cell 2: 'ratio = 1.0') failed: "
        "ZeroDivisionError: float division by zero"
    )
    assert (failed.index, failed.ename) == (1, "ZeroDivisionError")
    assert nb.cells[2].outputs[0]["ename"] == "KeyError"
    assert str(timed_out) == (
        "code cell 3 (notebook cell 5: 'import time') failed: "
        "TimeoutError: the cell ran longer than 1.5 s"
    )
    assert nb.cells[5].outputs[0]["text"] == "still here\n"
    assert str(died).startswith(
        "code cell 5 (notebook cell 7: 'import os') failed: the kernel died"
    )


def test_labkit_build_of_a_broken_source_exits_1_with_one_line(tmp_path, monkeypatch, capsys):
    sources, out = tmp_path / "source", tmp_path / "lessons"
    sources.mkdir()
    source = sources / "99_broken.py"
    source.write_text(
        "# %% [markdown]\n# # Broken\n\n"
        "# %%\nx = 1  # SOLUTION q1\n\n"
        "# %%\nratio = 1.0\nratio / 0\n"
    )
    monkeypatch.setattr(authoring, "SOURCE_DIR", sources)
    monkeypatch.setattr(
        authoring, "build_lesson", functools.partial(authoring.build_lesson, out_dir=out)
    )
    assert cli.main(["build", "99", "--no-execute"]) == 0
    written = [out / "99_broken.ipynb", out / "solutions" / "99_broken.ipynb"]
    assert all(path.is_file() for path in written)
    assert json.loads((out / "solutions" / "99_broken.json").read_text()) == {"q1": "x = 1"}
    unexecuted = [path.read_text() for path in written]
    capsys.readouterr()

    assert cli.main(["build", "99"]) == 1

    err = capsys.readouterr().err
    assert err == (
        "labkit build: 99_broken.py: code cell 3 (notebook cell 5: 'ratio = 1.0') failed: "
        "ZeroDivisionError: float division by zero\n"
    )
    assert [path.read_text() for path in written] == unexecuted, "a failed build writes nothing"
