"""The installed distribution's version (falls back to the source tree's)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("backprop-lab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
