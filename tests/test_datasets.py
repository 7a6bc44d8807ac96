"""Tests for labkit.datasets: shapes, dtypes, stratified deterministic splits, shipped files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from labkit import datasets

DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"

# name: (rows load returns, feature shape, number of classes); digits holds back 269 of 1797.
EXPECTED = {
    "digits": (1528, (64,), 10),
    "breast_cancer": (569, (30,), 2),
    "spiral": (900, (2,), 3),
}


def test_names_lists_every_dataset():
    assert set(datasets.names()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_dtypes_and_classes(name):
    total, feature_shape, n_classes = EXPECTED[name]
    (x_train, y_train), (x_test, y_test) = datasets.load(name)

    assert x_train.shape == (len(y_train), *feature_shape)
    assert x_test.shape == (len(y_test), *feature_shape)
    assert len(y_train) + len(y_test) == total
    assert len(y_test) == pytest.approx(0.25 * total, abs=n_classes)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int32
    assert np.isfinite(x_train).all() and np.isfinite(x_test).all()
    for y in (y_train, y_test):
        np.testing.assert_array_equal(np.unique(y), np.arange(n_classes))


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("test_size", [0.1, 0.25, 0.5])
def test_split_is_stratified(name, test_size):
    (_, y_train), (_, y_test) = datasets.load(name, test_size=test_size)
    per_class = np.bincount(np.concatenate([y_train, y_test]))
    # Each class contributes round(test_size * its size) rows to the test split.
    np.testing.assert_array_equal(np.bincount(y_test), np.round(test_size * per_class))


def test_split_partitions_the_rows():
    (x_train, _), (x_test, _) = datasets.load("spiral")
    split = np.concatenate([x_train, x_test])
    full = datasets._spiral()[0].astype(np.float32)
    # Same multiset of rows: every point lands in exactly one of the two splits.
    np.testing.assert_array_equal(split[np.lexsort(split.T)], full[np.lexsort(full.T)])


def test_split_is_shuffled_not_grouped_by_class():
    (_, y_train), _ = datasets.load("spiral")
    assert (np.diff(y_train) != 0).sum() > 100


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_is_deterministic(name):
    first, second = datasets.load(name), datasets.load(name)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_seed_changes_the_split_but_not_the_data():
    (x_a, y_a), (x_test_a, _) = datasets.load("digits", seed=0)
    (x_b, y_b), (x_test_b, _) = datasets.load("digits", seed=1)
    assert not np.array_equal(y_a, y_b)
    pool_a = np.concatenate([x_a, x_test_a])
    pool_b = np.concatenate([x_b, x_test_b])
    np.testing.assert_array_equal(np.unique(pool_a, axis=0), np.unique(pool_b, axis=0))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_returned_arrays_are_copies(name):
    (x_train, y_train), (x_test, y_test) = datasets.load(name)
    expected = [a.copy() for a in (x_train, y_train, x_test, y_test)]
    for array in (x_train, y_train, x_test, y_test):
        array[...] = 7

    (x_train, y_train), (x_test, y_test) = datasets.load(name)
    for got, want in zip((x_train, y_train, x_test, y_test), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_digits_pixels_are_scaled_to_unit_interval():
    (x_train, _), (x_test, _) = datasets.load("digits")
    pixels = np.concatenate([x_train, x_test])
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    # The raw values were integers 0..16.
    np.testing.assert_array_equal(pixels * 16, np.round(pixels * 16))


def test_digits_images_match_flat_vectors():
    (flat_train, y_flat), (flat_test, _) = datasets.load("digits")
    (img_train, y_img), (img_test, _) = datasets.load("digits", flat=False)
    assert img_train.shape == (len(flat_train), 8, 8, 1)
    assert img_test.shape == (len(flat_test), 8, 8, 1)
    assert img_train.dtype == np.float32
    np.testing.assert_array_equal(img_train.reshape(len(img_train), -1), flat_train)
    np.testing.assert_array_equal(y_img, y_flat)


def test_breast_cancer_is_standardized_with_train_statistics():
    (x_train, _), (x_test, _) = datasets.load("breast_cancer")
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1.0, atol=1e-5)
    # The test split is scaled with the train statistics, so it is only close to standard.
    assert np.abs(x_test.mean(axis=0)).max() > 1e-3
    assert np.abs(x_test.mean(axis=0)).max() < 0.5


def test_spiral_is_the_three_arm_spiral():
    (x_train, y_train), (x_test, y_test) = datasets.load("spiral")
    x = np.concatenate([x_train, x_test])
    radius = np.linalg.norm(x, axis=1)
    assert radius.min() == 0.0 and radius.max() == pytest.approx(1.0)
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [300, 300, 300]


def test_unknown_name_lists_available_names():
    with pytest.raises(ValueError, match="mnist") as excinfo:
        datasets.load("mnist")
    for name in EXPECTED:
        assert name in str(excinfo.value)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1, 1.5])
def test_test_size_must_be_a_fraction(test_size):
    with pytest.raises(ValueError, match="test_size"):
        datasets.load("spiral", test_size=test_size)


def test_flat_false_rejected_for_tables():
    with pytest.raises(ValueError, match="image datasets"):
        datasets.load("breast_cancer", flat=False)


def test_checksums_match_shipped_files():
    lines = (DATASETS_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = dict(reversed(line.split()) for line in lines)
    assert set(listed) == {"digits.csv", "breast_cancer.csv"}
    for file, digest in listed.items():
        assert hashlib.sha256((DATASETS_DIR / file).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("name", ["digits", "breast_cancer"])
def test_csv_matches_scikit_learn(name):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = getattr(sklearn_datasets, f"load_{name}")()
    table = np.loadtxt(DATASETS_DIR / f"{name}.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, :-1], bunch.data)
    np.testing.assert_array_equal(table[:, -1], bunch.target)
    header = (DATASETS_DIR / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == [*bunch.feature_names, "target"]


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """Point the loader at a scratch copy of the shipped files, with a fresh cache."""
    for file in ("digits.csv", "breast_cancer.csv", "SHA256SUMS"):
        (tmp_path / file).write_bytes((DATASETS_DIR / file).read_bytes())
    monkeypatch.setattr(datasets, "_data_dir", lambda: tmp_path)
    datasets._read_csv.cache_clear()
    yield tmp_path
    datasets._read_csv.cache_clear()


def test_missing_file_says_how_to_fix(data_copy):
    (data_copy / "digits.csv").unlink()
    with pytest.raises(FileNotFoundError, match="make_datasets.py"):
        datasets.load("digits")


def test_corrupt_file_says_how_to_fix(data_copy):
    path = data_copy / "breast_cancer.csv"
    path.write_bytes(path.read_bytes().replace(b"17.99", b"71.99", 1))
    with pytest.raises(ValueError, match="checksum.*make_datasets.py"):
        datasets.load("breast_cancer")
    # The untouched file still loads from the same directory.
    (x_train, _), _ = datasets.load("digits")
    assert x_train.shape == (1146, 64)


def _rows(*arrays) -> set[bytes]:
    return {row.tobytes() for array in arrays for row in array}


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("test_size", [0.1, 0.25, 0.5])
def test_hidden_digits_are_never_loaded(seed, test_size):
    (x_train, _), (x_test, _) = datasets.load("digits", test_size=test_size, seed=seed)
    x_hidden, _ = datasets.hidden("digits")
    # No hidden image appears in either split (duplicate images in the raw data aside).
    loaded = _rows(x_train, x_test)
    assert sum(row.tobytes() in loaded for row in x_hidden) <= 3


def test_hidden_and_loaded_digits_partition_the_csv():
    (x_train, y_train), (x_test, y_test) = datasets.load("digits")
    x_hidden, y_hidden = datasets.hidden("digits")
    assert len(y_train) + len(y_test) + len(y_hidden) == 1797
    x_all, y_all = datasets._read_csv("digits")
    np.testing.assert_array_equal(
        np.bincount(np.concatenate([y_train, y_test, y_hidden])), np.bincount(y_all)
    )
    pooled = np.concatenate([x_train, x_test, x_hidden])
    full = (x_all / 16.0).astype(np.float32)
    np.testing.assert_array_equal(pooled[np.lexsort(pooled.T)], full[np.lexsort(full.T)])


def test_hidden_digits_are_stratified_fixed_and_scaled():
    x, y = datasets.hidden("digits")
    assert x.shape == (269, 64) and x.dtype == np.float32 and y.dtype == np.int32
    assert set(np.bincount(y).tolist()) == {26, 27}
    assert 0.0 == x.min() and x.max() == 1.0
    again, _ = datasets.hidden("digits")
    np.testing.assert_array_equal(x, again)
    again[...] = 7
    np.testing.assert_array_equal(datasets.hidden("digits")[0], x)
    images, _ = datasets.hidden("digits", flat=False)
    np.testing.assert_array_equal(images.reshape(len(images), -1), x)


def test_hidden_is_only_for_digits():
    with pytest.raises(ValueError, match="no hidden split"):
        datasets.hidden("spiral")


# --- epoch_batches -------------------------------------------------------------------------------
def _fitted_weights(feed, seed: int = 0) -> list[np.ndarray]:
    """Train a small dropout MLP for 3 epochs, fed by ``feed(model)``; return its weights."""
    import keras

    from labkit.models import build_mlp, reinitialize

    # On PyTorch an unseeded Dropout draws its masks from torch's global generator, which the
    # DataLoader Keras sets up for every epoch of array data also draws from: the batches are
    # the same, the masks after the first epoch are not. So dropout only where masks can match.
    dropout = 0.0 if keras.backend.backend() == "torch" else 0.3
    keras.utils.set_random_seed(seed)
    model = reinitialize(build_mlp(4, depth=2, width=8, dropout=dropout, output_units=3), seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    feed(model)
    return model.get_weights()


def _stream_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(50, 4)).astype("float32"), rng.integers(0, 3, size=50)


@pytest.mark.backends
def test_epoch_batches_train_as_fit_without_shuffling():
    x, y = _stream_data()

    def stream(model):
        batches, steps = datasets.epoch_batches(x, y, batch_size=16)
        model.fit(batches, steps_per_epoch=steps, epochs=3, shuffle=False, verbose=0)

    def arrays(model):
        model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)

    for got, want in zip(_fitted_weights(stream), _fitted_weights(arrays), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.backends
def test_epoch_batches_with_a_seed_reshuffle_every_epoch_as_numpy_draws():
    x, y = _stream_data()

    def stream(model):
        batches, steps = datasets.epoch_batches(x, y, batch_size=16, shuffle_seed=5)
        model.fit(batches, steps_per_epoch=steps, epochs=3, shuffle=False, verbose=0)

    def per_epoch(model):
        order = np.random.default_rng(5)
        for _ in range(3):
            perm = order.permutation(len(x))
            model.fit(x[perm], y[perm], batch_size=16, epochs=1, shuffle=False, verbose=0)

    shuffled = _fitted_weights(stream)
    for got, want in zip(shuffled, _fitted_weights(per_epoch), strict=True):
        np.testing.assert_array_equal(got, want)
    plain = _fitted_weights(
        lambda m: m.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    )
    assert not np.array_equal(shuffled[0], plain[0])


def test_epoch_batches_cover_every_example_once_per_epoch_and_reject_bad_input():
    x, y = np.arange(14.0).reshape(7, 2), np.arange(7)
    batches, steps = datasets.epoch_batches(x, y, batch_size=3, shuffle_seed=1)
    assert steps == 3
    for _ in range(2):  # two epochs: each a permutation of the 7 examples
        epoch = np.concatenate([next(batches)[1] for _ in range(steps)])
        assert sorted(epoch.tolist()) == list(range(7))
    with pytest.raises(ValueError, match="as many targets as inputs"):
        datasets.epoch_batches(x, y[:3], batch_size=3)
