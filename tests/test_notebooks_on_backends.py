"""Every solution notebook runs on the current Keras backend with every check correct.

Stored outputs are TensorFlow's, so on JAX and PyTorch the notebooks are executed (not compared)
and the checks' results read from the outputs. ``make test`` runs this module only in its JAX and
PyTorch passes (marker ``backend_notebooks``); on TensorFlow nbval already covers the notebooks.
"""

import io

import keras
import pytest

from labkit.authoring import notebook_path
from labkit.exercises import LESSON_MODULES, lesson_for
from labkit.runner import run_notebook

pytestmark = pytest.mark.backend_notebooks


@pytest.mark.parametrize("lesson", list(LESSON_MODULES))
def test_solution_notebook_is_all_correct_on_this_backend(lesson):
    progress = io.StringIO()
    result = run_notebook(notebook_path(lesson, "solution"), stream=progress)
    assert result.ok, f"{lesson} failed on {keras.backend.backend()}: {result.error}"
    expected = {exercise.id: "correct" for exercise in lesson_for(lesson)}
    assert result.exercises == expected, f"{lesson} on {keras.backend.backend()}"
