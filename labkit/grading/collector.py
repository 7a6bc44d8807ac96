"""The grader's kernel side: a submission's answers collected as data and written to disk.

``labkit grade`` runs a submission's cells in a fresh kernel, then one short shim cell
(:data:`labkit.grading.runner.SHIM`) that loads *this file* by path under a private module name
and calls :func:`collect_answers` with the notebook's globals. This module imports nothing from
``labkit``: it loads its own private copies of ``labkit/exercises/core.py`` and
``labkit/grading/transport.py`` by file path, so nothing the submission did to the ``labkit`` it
imported (a patched ``to_data``, a replaced ``collect``) changes what is collected. None of these
private modules stays in ``sys.modules``.

The grader's plan, ``plan.json`` in the plan folder (read-only inside the sandbox), lists one
item per exercise: ``answer`` (the variable's name), ``kind`` (a key of ``core.COLLECTORS``),
``time_budget`` (seconds), ``stem`` (where its data goes in the answers folder) and, for
functions, ``inputs`` (the stem of the grader-chosen inputs, beside the plan). Each answer is
written with ``transport.pack``: its data; ``MISSING`` when the notebook has no such variable;
``CallFailed`` when collecting it raised.

Example
-------
>>> collect_answers({"ratio": 0.5}, "answers")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

__all__ = ["collect_answers"]

_HERE = Path(__file__).resolve().parent
_CORE_PATH = _HERE.parent / "exercises" / "core.py"
_TRANSPORT_PATH = _HERE / "transport.py"
_MAX_DETAIL = 500


def collect_answers(
    user: Mapping[str, object], out: str | os.PathLike, plan: str | os.PathLike | None = None
) -> None:
    """Collect each answer the plan in ``plan`` (default: ``out``) names from ``user`` (a
    notebook's globals) into ``out``.

    Example
    -------
    >>> import json, tempfile
    >>> out = tempfile.mkdtemp()
    >>> plan = [{"answer": "ratio", "kind": "value", "time_budget": 1.0, "stem": "answer_0"}]
    >>> _ = Path(out, "plan.json").write_text(json.dumps(plan))
    >>> collect_answers({"ratio": 0.5}, out)
    >>> json.loads(Path(out, "answer_0.json").read_text())
    0.5
    """
    core, transport = _load_private(_CORE_PATH), _load_private(_TRANSPORT_PATH)
    plan = Path(out if plan is None else plan)
    for item in json.loads((plan / "plan.json").read_text()):
        stem = item["stem"]
        if item["answer"] not in user:
            transport.pack(transport.MISSING, out, stem, core)
            continue
        inputs = None
        if "inputs" in item:
            inputs = transport.unpack(plan, item["inputs"], core, functions=True)
        collect = core.COLLECTORS[item["kind"]]
        try:
            data = collect(user[item["answer"]], inputs=inputs, time_budget=item["time_budget"])
            transport.pack(data, out, stem, core)
        except Exception as exc:  # an answer that defeats collection is recorded, not fatal
            failed = core.CallFailed("raised", f"{type(exc).__name__}: {exc}"[:_MAX_DETAIL])
            transport.pack(failed, out, stem, core)


def _load_private(path: str | os.PathLike) -> ModuleType:
    """A fresh copy of the module at ``path``, under a unique name, not left in ``sys.modules``.

    It is registered only while it runs (dataclasses look their module up there).

    Example
    -------
    >>> _load_private(_TRANSPORT_PATH).__name__.startswith("_labkit_grader_")
    True
    """
    name = f"_labkit_grader_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module
