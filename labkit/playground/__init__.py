"""A TensorFlow-Playground-style network you can train live, with real gradient diagnostics.

The controls (:mod:`labkit.playground.controls`) import without Keras; ``Playground``,
``make_data`` and ``interactive`` load the network and the app on first use.

Example
-------
>>> from labkit.playground import Playground
>>> pg = Playground(preset="vanishing").run(steps=200)  # doctest: +SKIP
>>> [f.kind for f in pg.findings]  # doctest: +SKIP
['vanishing']
>>> pg.show()  # the live app in Jupyter and Colab  # doctest: +SKIP
"""

from labkit.playground.controls import CONTROLS, PRESETS, preset_controls, validated

__all__ = [
    "CONTROLS",
    "PRESETS",
    "Playground",
    "interactive",
    "make_data",
    "preset_controls",
    "validated",
]


def __getattr__(name: str):
    if name in ("Playground", "make_data"):
        from labkit.playground import _core

        return getattr(_core, name)
    if name == "interactive":
        from labkit.playground import _app

        return _app.interactive
    raise AttributeError(f"module 'labkit.playground' has no attribute {name!r}")
