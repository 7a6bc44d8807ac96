"""Shared pytest setup for the unit tests.

The repository-wide setup — quiet, deterministic TensorFlow (``TF_CPP_MIN_LOG_LEVEL``,
``TF_ENABLE_ONEDNN_OPTS`` set before Keras is imported), the Agg matplotlib backend and nbval
ignoring stderr streams — lives in the root ``conftest.py``, which pytest loads first, so it
covers both ``pytest tests/`` and ``pytest --nbval lessons/``.

The fixtures below are what every lesson's exercise tests share: the answer of an exercise's own
solution cell (``solution``), an untouched placeholder function, an always-equal cheat and a
status assertion.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _unshared_probe_functions():
    """Each test traces its own probe functions: none reused from an earlier test's models of
    the same architecture (``labkit.backend`` shares them), so trace counts do not depend on
    the order tests run in."""
    backend = sys.modules.get("labkit.backend")
    if backend is not None:
        backend._SHARED.clear()


def _run_solution(q, **names):
    """The answer exercise ``q``'s solution cell defines (the code ``labkit build`` extracted from
    the lesson), run in a fresh namespace holding NumPy, Keras, ``build_mlp`` and ``names`` (the
    lesson's own variables that the cell uses)."""
    import keras

    from labkit.models import build_mlp

    namespace = {"np": np, "keras": keras, "build_mlp": build_mlp, **names}
    exec(q.solution().code, namespace)
    return namespace[q.answer]


def _placeholder_function(*args):
    """A student's untouched function: its body is ``...``, so it returns None."""


class AlwaysEqual:
    """An answer that claims to equal anything: a check must never be fooled by it."""

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def _assert_status(result, status: str, *words: str) -> None:
    """``result`` has ``status`` and a message containing every one of ``words``."""
    assert result.status == status, str(result)
    assert result.message, "every result needs a message"
    for word in words:
        assert word.lower() in result.message.lower(), (word, result.message)


@pytest.fixture(scope="session")
def solution():
    """``solution(q, **names)``: the answer of ``q``'s own solution cell (see ``_run_solution``)."""
    return _run_solution


@pytest.fixture(scope="session")
def placeholder():
    """A function as a student leaves it: the body is ``...``, so it returns None."""
    return _placeholder_function


@pytest.fixture(scope="session")
def always_equal():
    """An object whose ``__eq__`` always says yes."""
    return AlwaysEqual()


@pytest.fixture(scope="session")
def assert_status():
    """``assert_status(result, status, *words)``: status and words in the message."""
    return _assert_status


def pytest_report_header(config) -> str:
    """Which Keras the run imports (``make test``'s floor pass puts an older one first)."""
    import keras

    return f"keras {keras.__version__} ({keras.__file__}), backend {keras.backend.backend()}"
