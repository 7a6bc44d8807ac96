"""Every built notebook opens in Colab: badge to its own path, guarded install, no local paths."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from labkit import authoring

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(REPO.glob("lessons/[0-9][0-9]_*.ipynb")) + sorted(
    REPO.glob("lessons/solutions/[0-9][0-9]_*.ipynb")
)
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_PATHS = ("/work/", "/home/", "/root/", "/tmp/", "/Users/", "site-packages", str(REPO))


def _id(path: Path) -> str:
    return path.relative_to(REPO / "lessons").as_posix()


def _expected_badge(path: Path, url: str) -> str:
    repo = url.removeprefix("https://github.com/")
    target = f"https://colab.research.google.com/github/{repo}/blob/main/{path.relative_to(REPO)}"
    return f"[![Open In Colab]({BADGE_IMAGE})]({target})"


def _run_install_cell(source: str, in_colab: bool, monkeypatch) -> list[tuple[str, str]]:
    """Execute the install cell as IPython would; return the magics it ran."""
    calls: list[tuple[str, str]] = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<install cell>", "exec"), {"get_ipython": lambda: shell})
    return calls


def test_there_are_built_notebooks_to_check():
    assert NOTEBOOKS, "no built lesson notebooks: run `make lessons`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_badge_is_first_and_points_at_this_notebook(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source == _expected_badge(path, authoring.repository_url())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_install_cell_installs_only_in_colab_and_never_the_backend(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    install = next(c for c in nb.cells if c.cell_type == "code")
    assert install is nb.cells[1], "the install cell must be the first code cell, after the badge"
    assert install.outputs == [], "outside Colab the install cell must print nothing"
    assert _run_install_cell(install.source, in_colab=False, monkeypatch=monkeypatch) == []
    calls = _run_install_cell(install.source, in_colab=True, monkeypatch=monkeypatch)
    assert calls == [("pip", f'install -q "backprop-lab @ git+{authoring.repository_url()}"')]
    assert not {"tensorflow", "keras", "jax", "torch"} & set(calls[0][1].replace('"', " ").split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_metadata_is_portable(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.labkit.lesson == path.stem
    assert nb.metadata.labkit.variant == (
        "solution" if path.parent.name == "solutions" else "student"
    )
    text = path.read_text()
    leaks = [p for p in LOCAL_PATHS if p in text]
    assert not leaks, f"{_id(path)} contains local paths {leaks}: rebuild it with `make lessons`"


def test_repository_url_comes_from_pyproject():
    import tomllib

    with open(REPO / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"]
    assert authoring.repository_url() == url.rstrip("/").removesuffix(".git")


def test_changing_the_url_restamps_every_notebook(monkeypatch):
    sources = authoring.lesson_sources()
    assert sources, "no lesson sources in lessons/source"
    original, fork = authoring.repository_url(), "https://github.com/a-teacher/backprop-lab-fork"
    monkeypatch.setattr(authoring, "repository_url", lambda: fork)
    for source in sources:
        for variant in authoring.VARIANTS:
            nb = authoring.render(source, variant)
            badge, install = nb.cells[0].source, nb.cells[1].source
            assert badge == _expected_badge(authoring.notebook_path(source.stem, variant), fork)
            assert "/a-teacher/backprop-lab-fork/blob/main/lessons/" in badge
            assert f'"backprop-lab @ git+{fork}"' in install
            assert original not in badge + install


def test_readme_lists_every_lesson_with_its_colab_badge():
    readme = (REPO / "README.md").read_text()
    url = authoring.repository_url()
    for source in authoring.lesson_sources():
        student = REPO / "lessons" / f"{source.stem}.ipynb"
        assert _expected_badge(student, url) in readme, f"README has no badge for {source.stem}"
