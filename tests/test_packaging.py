"""The wheel carries labkit and its datasets, nothing else, and works installed alone."""

from __future__ import annotations

import email.parser
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "jax", "torch")


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args], check=True, capture_output=True, timeout=300
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out))
    (path,) = out.glob("backprop_lab-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv outside the repository with only the wheel and NumPy installed."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    _pip(
        "--python",
        str(python),
        "install",
        "-q",
        "--no-deps",
        str(wheel),
        f"numpy=={np.__version__}",
    )
    return env


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(z.read(name).decode())


def test_wheel_carries_labkit_and_its_data_only(wheel):
    names = _names(wheel)
    packaged = {n.removeprefix("labkit/") for n in names if n.startswith("labkit/")}
    sources = {p.relative_to(REPO / "labkit").as_posix() for p in (REPO / "labkit").rglob("*.py")}
    assert sources <= packaged, f"modules missing from the wheel: {sorted(sources - packaged)}"
    assert {"_data/digits.csv", "_data/breast_cancer.csv", "_data/SHA256SUMS"} <= packaged
    solutions = {
        f"exercises/solutions/{p.name}" for p in (REPO / "labkit/exercises/solutions").glob("*")
    }
    assert len(solutions) == 6 and solutions <= packaged, "the extracted solutions must ship"
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"labkit", dist_info}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "lessons/", "datasets/"))]


def test_packaged_checksums_match_packaged_csvs(wheel):
    with zipfile.ZipFile(wheel) as z:
        sums = z.read("labkit/_data/SHA256SUMS").decode().split("\n")
        listed = dict(reversed(line.split(maxsplit=1)) for line in sums if line.strip())
        assert {name.lstrip("*") for name in listed} >= {"digits.csv", "breast_cancer.csv"}
        for name, digest in listed.items():
            data = z.read(f"labkit/_data/{name.lstrip('*')}")
            assert hashlib.sha256(data).hexdigest() == digest, name


def test_core_requirements_have_no_deep_learning_backend(wheel):
    meta = _metadata(wheel)
    with open(REPO / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert meta["Name"] == project["name"] and meta["Version"] == project["version"]
    requires = meta.get_all("Requires-Dist")
    core = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("keras") for r in core)
    assert not [r for r in core if r.lower().startswith(HEAVY)], core
    assert any(r.startswith("tensorflow-cpu") and "extra == 'tf'" in r for r in requires)


def test_installed_wheel_loads_data_outside_the_repository(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    code = (
        "import labkit, labkit.datasets as d\n"
        "(x, y), (xt, yt) = d.load('digits')\n"
        "print(labkit.__file__)\n"
        "print(x.shape, xt.shape, sorted(set(y.tolist())) == list(range(10)))\n"
        "import importlib.util\n"
        "print(importlib.util.find_spec('keras') is None)\n"
        "from labkit.exercises import lesson05 as ex\n"
        "print(ex.q3.solution().code)\n"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where, shapes, no_keras, solution = done.stdout.splitlines()
    assert Path(where).is_relative_to(venv), "imported labkit from the repository, not the wheel"
    assert shapes == "(1146, 64) (382, 64) True"
    assert no_keras == "True", "the fresh environment must not see the repository's packages"
    assert solution == 'rate_one_answer = "b"', "ex.q3.solution() must show the lesson's own cell"


def test_installed_console_script_reports_the_version(venv, tmp_path):
    with open(REPO / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    done = subprocess.run(
        [str(venv / "bin" / "labkit"), "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"labkit {version}"
