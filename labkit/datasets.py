"""Small datasets for the lessons, with a deterministic stratified train/test split.

``digits`` and ``breast_cancer`` are read from the CSV files shipped with the package
(see ``datasets/README.md`` for their source and licence); ``spiral`` is generated in
code. Only NumPy and the standard library are used.

**Hidden split.** A fixed stratified 15 % of ``digits`` (269 images, 26 or 27 per class) is held
back: :func:`load` never returns it, whatever its ``test_size`` or ``seed``, and only
:func:`hidden` does. Checks that judge a student's model (the capstone) score it there, on
data no notebook has loaded; lessons make their choices on a validation part of the train
split and report the test split.

Examples
--------
>>> from labkit import datasets
>>> datasets.names()
('breast_cancer', 'digits', 'spiral')
>>> (x_train, y_train), (x_test, y_test) = datasets.load("digits")
>>> x_train.shape, x_test.shape
((1146, 64), (382, 64))
>>> datasets.hidden("digits")[0].shape
(269, 64)
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

__all__ = ["epoch_batches", "hidden", "load", "names"]

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_CSV_DATASETS = ("breast_cancer", "digits")
_NAMES = (*_CSV_DATASETS, "spiral")
_IMAGE_SHAPES = {"digits": (8, 8, 1)}
_HIDDEN_FRACTION = {"digits": 0.15}
_HIDDEN_SEED = 20_240_606
_SPIRAL_SEED = 0
_SPIRAL_POINTS_PER_CLASS = 300
_SPIRAL_CLASSES = 3
_REGENERATE = (
    "Reinstall the package (pip install --force-reinstall backprop-lab) or, in a "
    "source checkout, run `python datasets/make_datasets.py`."
)


def names() -> tuple[str, ...]:
    """Return the names accepted by :func:`load`.

    Examples
    --------
    >>> "spiral" in names()
    True
    """
    return _NAMES


def load(name: str, *, test_size: float = 0.25, seed: int = 0, flat: bool = True) -> Split:
    """Load a dataset split into train and test parts.

    Parameters
    ----------
    name : str
        One of :func:`names`:

        - ``"digits"``: 1,528 handwritten digits (of 1,797; the rest is the :func:`hidden`
          split), 8x8 pixels scaled to [0, 1], 10 classes.
        - ``"breast_cancer"``: 569 tumours, 30 features standardized with the train
          split's mean and standard deviation; 0 = malignant, 1 = benign.
        - ``"spiral"``: the CS231n toy problem, 300 2-D points in each of 3 interleaved
          spiral arms (generated from a fixed seed).
    test_size : float, default 0.25
        Fraction of each class put in the test split, strictly between 0 and 1.
    seed : int, default 0
        Seed of the split. The same arguments always give the same arrays.
    flat : bool, default True
        ``False`` returns image datasets (``"digits"``) as ``(n, 8, 8, 1)`` images
        instead of flat ``(n, 64)`` vectors.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Features as float32, labels as int32 class indices. Every class appears in
        both splits in (rounded) proportion to its size. The arrays are fresh copies.

    Raises
    ------
    ValueError
        For an unknown name, a ``test_size`` outside (0, 1), ``flat=False`` on a
        non-image dataset, or a corrupt data file.
    FileNotFoundError
        When a shipped data file is missing.

    Examples
    --------
    >>> (x_train, y_train), (x_test, y_test) = load("spiral")
    >>> x_train.shape, y_train.dtype
    ((675, 2), dtype('int32'))
    >>> load("digits", flat=False)[0][0].shape
    (1146, 8, 8, 1)
    """
    if name not in _NAMES:
        raise ValueError(f"Unknown dataset {name!r}. Available datasets: {', '.join(_NAMES)}.")
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}."
        )
    if not flat and name not in _IMAGE_SHAPES:
        raise ValueError(
            f"flat=False is only available for image datasets ({', '.join(_IMAGE_SHAPES)}); "
            f"{name!r} is already a table of features."
        )

    x, y = _spiral() if name == "spiral" else _read_csv(name)
    if name in _HIDDEN_FRACTION:
        visible = _hidden_partition(name)[0]
        x, y = x[visible], y[visible]
    train, test = _stratified_split(y, test_size, seed)
    x_train, x_test = x[train], x[test]

    if name == "digits":
        x_train, x_test = x_train / 16.0, x_test / 16.0
    elif name == "breast_cancer":
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    if not flat:
        x_train = x_train.reshape(-1, *_IMAGE_SHAPES[name])
        x_test = x_test.reshape(-1, *_IMAGE_SHAPES[name])

    return (
        (x_train.astype(np.float32), y[train].astype(np.int32)),
        (x_test.astype(np.float32), y[test].astype(np.int32)),
    )


def hidden(name: str = "digits", *, flat: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The held-back split of ``name`` that :func:`load` never returns, for graded checks.

    A fixed stratified part of the dataset (15 % of ``digits``, drawn once from a constant
    seed), scaled like :func:`load`'s splits. Lessons do not call it: a model judged here is
    judged on images its author never saw.

    Examples
    --------
    >>> x, y = hidden("digits")
    >>> x.shape, np.bincount(y).tolist()[:3]
    ((269, 64), [27, 27, 27])
    """
    if name not in _HIDDEN_FRACTION:
        raise ValueError(f"{name!r} has no hidden split; only {', '.join(_HIDDEN_FRACTION)} does.")
    x, y = _read_csv(name)
    held = _hidden_partition(name)[1]
    x, y = x[held] / 16.0, y[held]
    if not flat:
        x = x.reshape(-1, *_IMAGE_SHAPES[name])
    return x.astype(np.float32), y.astype(np.int32)


def epoch_batches(x, y, batch_size: int, *, shuffle_seed: int | None = None):
    """The batches ``model.fit(x, y, batch_size=batch_size, shuffle=False)`` trains on, epoch
    after epoch without end, and the number of steps in one epoch.

    Pass them as ``model.fit(stream, steps_per_epoch=steps, epochs=n, shuffle=False)``: the same
    batches in the same order (so the same weights, except on PyTorch with dropout, whose masks
    come from torch's global generator that Keras's per-epoch loader also draws from), while
    Keras sets up one pass over the data for the whole run instead of one per epoch, a fixed
    cost that dominates epochs of a few steps. With
    ``shuffle_seed``, each epoch takes the examples in a new order drawn by NumPy's
    ``default_rng(shuffle_seed).permutation``, one per epoch.

    Example
    -------
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> stream, steps = epoch_batches(x, y, batch_size=2)
    >>> steps, [len(next(stream)[1]) for _ in range(4)]
    (3, [2, 2, 1, 2])
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0 or batch_size < 1:
        raise ValueError(
            f"epoch_batches needs as many targets as inputs (got {len(x)} and {len(y)}), at least "
            f"one example and a batch_size of at least 1 (got {batch_size})"
        )
    steps = -(-len(x) // batch_size)

    def stream():
        order = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        while True:
            taken = slice(None) if order is None else order.permutation(len(x))
            xs, ys = x[taken], y[taken]
            for start in range(0, len(x), batch_size):
                yield xs[start : start + batch_size], ys[start : start + batch_size]

    return stream(), steps


@functools.cache
def _hidden_partition(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of the rows :func:`load` may use, and of the held-back rows."""
    y = _read_csv(name)[1]
    visible, held = _stratified_split(y, _HIDDEN_FRACTION[name], _HIDDEN_SEED)
    return _read_only(np.sort(visible)), _read_only(np.sort(held))


def _stratified_split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test indices holding each class in both splits."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_test = min(max(round(test_size * len(members)), 1), len(members) - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


@functools.cache
def _spiral() -> tuple[np.ndarray, np.ndarray]:
    """The CS231n spiral: each arm turns 4 radians, with Gaussian noise on the angle."""
    rng = np.random.default_rng(_SPIRAL_SEED)
    n = _SPIRAL_POINTS_PER_CLASS
    radius = np.linspace(0.0, 1.0, n)
    x, y = [], []
    for label in range(_SPIRAL_CLASSES):
        theta = np.linspace(label * 4.0, (label + 1) * 4.0, n) + rng.normal(scale=0.2, size=n)
        x.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        y.append(np.full(n, label))
    return _read_only(np.concatenate(x)), _read_only(np.concatenate(y))


def _data_dir() -> Path:
    """``labkit/_data`` in an installed wheel, else ``datasets/`` of a source checkout."""
    installed = Path(__file__).resolve().parent / "_data"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "datasets"


@functools.cache
def _read_csv(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (float64) and integer labels of a shipped CSV, checksum verified."""
    directory = _data_dir()
    path, sums = directory / f"{name}.csv", directory / "SHA256SUMS"
    for required in (path, sums):
        if not required.is_file():
            raise FileNotFoundError(f"Data file {required} is missing. {_REGENERATE}")

    expected = _expected_sha256(sums).get(path.name)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise ValueError(
            f"Data file {path} does not match its checksum in {sums} (corrupt or "
            f"modified). {_REGENERATE}"
        )

    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return _read_only(table[:, :-1]), _read_only(table[:, -1].astype(np.int64))


def _expected_sha256(sums: Path) -> dict[str, str]:
    """Map file name to hex digest from a ``sha256sum``-format file."""
    rows = (line.split(maxsplit=1) for line in sums.read_text(encoding="utf-8").splitlines())
    return {row[1].lstrip("*"): row[0] for row in rows if len(row) == 2}


def _read_only(array: np.ndarray) -> np.ndarray:
    """Freeze a cached array so that no caller can change it for the next one."""
    array.flags.writeable = False
    return array
