"""Shared pytest setup for the unit tests.

The repository-wide setup — quiet, deterministic TensorFlow (``TF_CPP_MIN_LOG_LEVEL``,
``TF_ENABLE_ONEDNN_OPTS`` set before Keras is imported), the Agg matplotlib backend and nbval
ignoring stderr streams — lives in the root ``conftest.py``, which pytest loads first, so it
covers both ``pytest tests/`` and ``pytest --nbval lessons/``.
"""
