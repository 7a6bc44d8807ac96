"""Regenerate the CSV files shipped in ``datasets/`` and their ``SHA256SUMS``.

The data come from the copies bundled with scikit-learn (no download), which is a
development-time dependency only. Run from anywhere::

    python datasets/make_datasets.py
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits

HERE = Path(__file__).resolve().parent


def write_csv(path: Path, feature_names: Sequence[str], rows: list[list[str]]) -> None:
    """Write a header (feature names + ``target``) and the rows, with LF line endings."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*feature_names, "target"])
        writer.writerows(rows)


def digits_rows() -> tuple[list[str], list[list[str]]]:
    """Pixel intensities as integers 0..16, then the digit."""
    bunch = load_digits()
    pixels = bunch.data.astype(np.int64)
    rows = [
        [str(v) for v in (*x, t)]
        for x, t in zip(pixels.tolist(), bunch.target.tolist(), strict=True)
    ]
    return list(bunch.feature_names), rows


def breast_cancer_rows() -> tuple[list[str], list[list[str]]]:
    """Features with full float precision (shortest round-trip repr), then 0/1."""
    bunch = load_breast_cancer()
    rows = [
        [*(repr(v) for v in x), str(t)]
        for x, t in zip(bunch.data.tolist(), bunch.target.tolist(), strict=True)
    ]
    return [str(name) for name in bunch.feature_names], rows


def main() -> None:
    """Write ``digits.csv``, ``breast_cancer.csv`` and ``SHA256SUMS`` next to this script."""
    sums = []
    for name, make in (("breast_cancer", breast_cancer_rows), ("digits", digits_rows)):
        path = HERE / f"{name}.csv"
        write_csv(path, *make())
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
        print(f"wrote {path}")
    (HERE / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    print(f"wrote {HERE / 'SHA256SUMS'}")


if __name__ == "__main__":
    main()
