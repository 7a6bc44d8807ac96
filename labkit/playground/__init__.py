"""A TensorFlow-Playground-style network you can train live, with real gradient diagnostics.

Example
-------
>>> from labkit.playground import Playground
>>> pg = Playground(preset="vanishing").run(steps=200)  # doctest: +SKIP
>>> [f.kind for f in pg.findings]  # doctest: +SKIP
['vanishing']
>>> pg.show()  # the live app in Jupyter and Colab  # doctest: +SKIP
"""

from labkit.playground._app import interactive
from labkit.playground._core import (
    CONTROLS,
    PRESETS,
    Playground,
    make_data,
    preset_controls,
    validated,
)

__all__ = [
    "CONTROLS",
    "PRESETS",
    "Playground",
    "interactive",
    "make_data",
    "preset_controls",
    "validated",
]
