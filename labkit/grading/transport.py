"""Answer data on disk: JSON for structure, ``.npz`` for arrays, ``.keras`` for models. No pickle.

The grader and a submission's kernel exchange only plain data (see
:mod:`labkit.exercises.core`). One value is stored under a *stem* in a directory:

* ``STEM.json`` — the structure; arrays, models and markers appear as tagged objects
  (``{"$array": 0}``, ``{"$model": 0}``, ``{"$not_attempted": true}``, ...);
* ``STEM.npz`` — the arrays, read back with ``allow_pickle=False`` and numeric dtypes only;
* ``STEM_N.keras`` — model files, loaded later with ``safe_mode=True``.

This module imports nothing from ``labkit``: the kernel side loads a private copy of it (and of
``core.py``) by file path, so a submission that patched ``labkit`` cannot change how its answers
are written. Functions take the ``core`` module whose marker classes to use.

Example
-------
>>> import tempfile
>>> from labkit.exercises import core
>>> d = tempfile.mkdtemp()
>>> pack({"w": np.eye(2), "ok": True}, d, "answer_0", core)
>>> unpack(d, "answer_0", core)["ok"]
True
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

__all__ = ["MISSING", "FunctionRef", "TransportError", "pack", "unpack"]

MAX_JSON_BYTES = 20 * 2**20
MAX_ARRAY_BYTES = 512 * 2**20
MAX_MODEL_BYTES = 100 * 2**20
_MAX_DEPTH = 12


class TransportError(ValueError):
    """Stored answer data that is malformed, too large or not plain data."""


@dataclass(frozen=True)
class FunctionRef:
    """A module-level function passed as a grader-chosen input, by ``module`` and ``qualname``.

    Only inputs may hold one (``unpack(..., functions=True)`` imports it); answer data never does.
    """

    module: str
    qualname: str

    def resolve(self):
        target = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            target = getattr(target, part)
        return target


class _Missing:
    """The notebook has no variable of the answer's name."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def pack(data, directory: str | os.PathLike, stem: str, core: ModuleType) -> None:
    """Write ``data`` (answer data, or :data:`MISSING`) under ``stem`` in ``directory``.

    The JSON file is written last and renamed into place, so a reader that finds it finds the
    arrays and models too.
    """
    directory = Path(directory)
    arrays: list[np.ndarray] = []
    models: list[bytes] = []

    def encode(value, depth: int):
        if depth > _MAX_DEPTH:
            raise TransportError("answer data is nested too deeply")
        if value is MISSING:
            return {"$missing": True}
        if value is core.NOT_ATTEMPTED:
            return {"$not_attempted": True}
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            arrays.append(value)
            return {"$array": len(arrays) - 1}
        if type(value) is list:
            return [encode(v, depth + 1) for v in value]
        if type(value) is dict:
            return {"$dict": {str(k): encode(v, depth + 1) for k, v in value.items()}}
        if isinstance(value, core.Unsupported):
            return {"$unsupported": str(value.type_name)}
        if isinstance(value, core.CallFailed):
            return {"$call_failed": [str(value.reason), str(value.detail)]}
        if isinstance(value, core.KerasModelBytes):
            models.append(bytes(value.data))
            return {"$model": len(models) - 1}
        if type(value) is FunctionRef:
            return {"$function": [value.module, value.qualname]}
        raise TransportError(f"not answer data: {type(value).__name__}")

    tree = encode(data, 0)
    if arrays:
        with open(directory / f"{stem}.npz", "wb") as f:
            np.savez(f, **{f"a{i}": a for i, a in enumerate(arrays)})
    for i, blob in enumerate(models):
        (directory / f"{stem}_{i}.keras").write_bytes(blob)
    partial = directory / f"{stem}.json.part"
    partial.write_text(json.dumps(tree))
    partial.replace(directory / f"{stem}.json")


def exists(directory: str | os.PathLike, stem: str) -> bool:
    """Whether a value was written under ``stem``."""
    return (Path(directory) / f"{stem}.json").is_file()


def unpack(directory: str | os.PathLike, stem: str, core: ModuleType, functions: bool = False):
    """Read the value stored under ``stem``; :class:`TransportError` if it is not answer data.

    ``functions=True`` (grader-chosen inputs only) imports :class:`FunctionRef` functions.
    """
    directory = Path(directory)
    tree = json.loads(_read_limited(directory / f"{stem}.json", MAX_JSON_BYTES))
    npz_path = directory / f"{stem}.npz"
    arrays = None
    if npz_path.is_file():
        if npz_path.stat().st_size > MAX_ARRAY_BYTES:
            raise TransportError(f"arrays larger than {MAX_ARRAY_BYTES // 2**20} MB")
        try:
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except ValueError as exc:
            raise TransportError(f"unreadable arrays: {exc}") from None

    def decode(node, depth: int):
        if depth > _MAX_DEPTH:
            raise TransportError("answer data is nested too deeply")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [decode(v, depth + 1) for v in node]
        if type(node) is not dict or len(node) != 1:
            raise TransportError("malformed answer data")
        ((tag, body),) = node.items()
        if tag == "$missing" and body is True:
            return MISSING
        if tag == "$not_attempted" and body is True:
            return core.NOT_ATTEMPTED
        if tag == "$dict" and type(body) is dict:
            return {k: decode(v, depth + 1) for k, v in body.items()}
        if tag == "$unsupported" and type(body) is str:
            return core.Unsupported(body)
        if tag == "$call_failed" and _is_str_pair(body):
            return core.CallFailed(body[0], body[1])
        if tag == "$array" and type(body) is int:
            if arrays is None or f"a{body}" not in arrays:
                raise TransportError(f"array {body} is missing")
            array = arrays[f"a{body}"]
            if type(array) is not np.ndarray or array.dtype.kind not in "biuf":
                raise TransportError("arrays must be numeric")
            return array
        if tag == "$model" and type(body) is int and body >= 0:
            blob = _read_limited(directory / f"{stem}_{body}.keras", MAX_MODEL_BYTES, binary=True)
            return core.KerasModelBytes(blob)
        if tag == "$function" and functions and _is_str_pair(body):
            return FunctionRef(body[0], body[1]).resolve()
        raise TransportError(f"malformed answer data (tag {tag!r})")

    return decode(tree, 0)


def _is_str_pair(body) -> bool:
    return type(body) is list and len(body) == 2 and all(type(s) is str for s in body)


def _read_limited(path: Path, limit: int, binary: bool = False):
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TransportError(f"{path.name} is missing") from None
    if size > limit:
        raise TransportError(f"{path.name} is larger than {limit // 2**20} MB")
    return path.read_bytes() if binary else path.read_text()
