"""The limits ``labkit grade`` puts on each submission unless told otherwise.

A module of its own, importing nothing, so the command line can state them in its ``--help``
without importing the grading machinery (the runner loads the notebook executor).

Example
-------
>>> from labkit.grading.defaults import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT
>>> DEFAULT_TIMEOUT, DEFAULT_MEMORY_GB
(120.0, 8.0)
"""

__all__ = ["DEFAULT_MEMORY_GB", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 120.0
"""Seconds each cell of a submission may run (``labkit grade --timeout``)."""
DEFAULT_MEMORY_GB = 8.0
"""Address-space cap per kernel in GB (``labkit grade --memory``)."""
