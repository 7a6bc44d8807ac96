"""Lesson source → student and solution notebooks, executed with outputs stored.

One file per lesson, ``lessons/source/NN_topic.py`` in jupytext's percent format, holds both
versions. Solution code is marked in code cells:

* a block between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines becomes ``...`` (indented
  like the block) in the student version — use it for function bodies, so the function returns
  ``None`` until the student writes it;
* a line ending in ``# SOLUTION`` (``name = expr`` or ``return expr``) keeps its left-hand side
  and becomes ``name = ...`` / ``return ...``.

The build stamps an "Open in Colab" badge and a Colab-only install cell at the top (URLs from
``[project.urls] Repository`` in ``pyproject.toml``), names the lesson in
``metadata.labkit.lesson``, executes each version in a fresh kernel and writes
``lessons/NN_topic.ipynb`` and ``lessons/solutions/NN_topic.ipynb``.

Example
-------
>>> from labkit.authoring import build_lesson  # doctest: +SKIP
>>> build_lesson(Path("lessons/source/02_vanishing_gradients.py"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labkit._setup import KERNEL_ENV

__all__ = [
    "MarkerError",
    "build_lesson",
    "lesson_sources",
    "out_of_sync",
    "render",
    "strip_solutions",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO_ROOT / "lessons"
SOURCE_DIR = LESSONS_DIR / "source"
PLACEHOLDER_COMMENT = "  # YOUR CODE HERE"
VARIANTS = ("student", "solution")

_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_ONE_LINE = re.compile(r"^(\s*)(return\b|[\w.\[\]'\", ]+?=(?!=))\s*(.+?)\s*# SOLUTION\s*$")


class MarkerError(ValueError):
    """A solution marker that does not pair up or cannot be turned into a placeholder."""


def strip_solutions(code: str, where: str = "cell") -> str:
    """The student version of one code cell: solution regions replaced by ``...``.

    Raises :class:`MarkerError` naming the line for nested, unterminated or stray markers.

    Example
    -------
    >>> print(strip_solutions("ratio = a / b  # SOLUTION"))
    ratio = ...  # YOUR CODE HERE
    >>> cell = "def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION"
    >>> print(strip_solutions(cell))
    def f(x):
        ...  # YOUR CODE HERE
    """
    out: list[str] = []
    begin_line = None
    for number, line in enumerate(code.splitlines(), start=1):
        begin = _BEGIN.match(line)
        if begin:
            if begin_line is not None:
                raise MarkerError(
                    f"{where}, line {number}: '# BEGIN SOLUTION' inside the block opened at line "
                    f"{begin_line}; close it with '# END SOLUTION' first"
                )
            begin_line = number
            out.append(f"{begin.group(1)}...{PLACEHOLDER_COMMENT}")
            continue
        if _END.match(line):
            if begin_line is None:
                raise MarkerError(f"{where}, line {number}: '# END SOLUTION' without a BEGIN")
            begin_line = None
            continue
        if begin_line is not None:
            continue
        if re.search(r"#\s*SOLUTION\s*$", line):
            one = _ONE_LINE.match(line)
            if not one:
                raise MarkerError(
                    f"{where}, line {number}: '# SOLUTION' must end a line of the form "
                    f"'name = expression' or 'return expression', got: {line.strip()!r}"
                )
            out.append(f"{one.group(1)}{one.group(2)} ...{PLACEHOLDER_COMMENT}")
            continue
        out.append(line)
    if begin_line is not None:
        raise MarkerError(f"{where}, line {begin_line}: '# BEGIN SOLUTION' is never closed")
    return "\n".join(out)


def keep_solutions(code: str) -> str:
    """The solution version of one code cell: marker lines and comments removed."""
    lines = [line for line in code.splitlines() if not (_BEGIN.match(line) or _END.match(line))]
    return "\n".join(re.sub(r"\s*#\s*SOLUTION\s*$", "", line) for line in lines)


def repository_url() -> str:
    """``[project.urls] Repository`` from ``pyproject.toml`` (the one place the URL lives)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"]
    return url.rstrip("/").removesuffix(".git")


def notebook_path(name: str, variant: str) -> Path:
    """Where a lesson's student or solution notebook lives."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    base = LESSONS_DIR if variant == "student" else LESSONS_DIR / "solutions"
    return base / f"{name}.ipynb"


def stamp_cells(name: str, variant: str) -> list:
    """The Colab badge (first cell) and the Colab-only install cell for one notebook."""
    url = repository_url()
    repo = url.removeprefix("https://github.com/")
    rel = notebook_path(name, variant).relative_to(REPO_ROOT).as_posix()
    badge = (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{repo}/blob/main/{rel})"
    )
    install = (
        "# In Google Colab, install labkit (Colab already has TensorFlow and Keras).\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "backprop-lab @ git+{url}"'
    )
    return [nbformat.v4.new_markdown_cell(badge), nbformat.v4.new_code_cell(install)]


def render(source: Path, variant: str):
    """The (unexecuted) notebook of one variant built from a lesson source file."""
    import jupytext

    name = source.stem
    text = source.read_text()
    nb = jupytext.reads(text, fmt="py:percent")
    cells = stamp_cells(name, variant)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            where = f"{source.name}, cell {index + 1}"
            code = strip_solutions(cell.source, where) if variant == "student" else None
            if variant == "solution":
                strip_solutions(cell.source, where)  # validate markers in both variants
                code = keep_solutions(cell.source)
            cells.append(nbformat.v4.new_code_cell(code))
        elif cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(cell.source))
    for i, cell in enumerate(cells):
        cell.id = f"{name[:2]}-{variant[:3]}-{i:02d}"
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "labkit": {"lesson": name, "variant": variant},
        "colab": {"provenance": []},
    }
    return out


def execute(nb, timeout: int = 600):
    """Run a notebook top to bottom in a fresh kernel (cwd ``lessons/``), outputs in place."""
    from nbclient import NotebookClient

    os.environ.update(KERNEL_ENV)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(LESSONS_DIR)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    return nb


def _merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks: ipykernel splits them at random points."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == out.get("name")
        ):
            last["text"] += out["text"]
        else:
            merged.append(out)
    return merged


@dataclass
class Built:
    """What :func:`build_lesson` wrote."""

    name: str
    paths: list[Path]


def build_lesson(source: Path, run: bool = True) -> Built:
    """Render, execute and write the student and solution notebooks of one lesson."""
    paths = []
    for variant in VARIANTS:
        nb = render(source, variant)
        if run:
            execute(nb)
        path = notebook_path(source.stem, variant)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        paths.append(path)
    return Built(source.stem, paths)


def lesson_sources(names: list[str] | None = None) -> list[Path]:
    """Lesson source files, all or those whose name (or number prefix) is given."""
    sources = sorted(SOURCE_DIR.glob("[0-9][0-9]_*.py"))
    if not names:
        return sources
    chosen = []
    for wanted in names:
        match = [s for s in sources if s.stem == wanted or s.stem.startswith(f"{wanted}_")]
        if not match:
            known = ", ".join(s.stem for s in sources)
            raise ValueError(f"no lesson {wanted!r}; lessons are: {known}")
        chosen.extend(match)
    return chosen


def out_of_sync(source: Path) -> list[str]:
    """Differences between a lesson's notebooks and its source (cell types and sources)."""
    problems = []
    for variant in VARIANTS:
        path = notebook_path(source.stem, variant)
        if not path.exists():
            problems.append(f"{path.relative_to(REPO_ROOT)} is missing; run `make lessons`")
            continue
        stored = nbformat.read(path, as_version=4)
        expected = render(source, variant)
        got = [(c.cell_type, c.source) for c in stored.cells]
        want = [(c.cell_type, c.source) for c in expected.cells]
        if got != want:
            first = next(
                (i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want))
            )
            problems.append(
                f"{path.relative_to(REPO_ROOT)} differs from {source.name} at cell {first + 1}; "
                "run `make lessons`"
            )
    return problems
