"""Every example in labkit's docstrings runs and shows what it says (doctest, module by module).

The examples are documentation a student or instructor copies; one that no longer runs, or
prints something else, misleads them.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import labkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(labkit.__path__, "labkit."))


def test_every_module_is_found():
    assert {"labkit.diagnose", "labkit.exercises.quiz", "labkit.playground._core"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_are_true(name, capsys):
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, report=False)
    assert failed == 0, f"{failed} example(s) in {name} fail:\n{capsys.readouterr().out}"
