"""Lesson source → student and solution notebooks, executed with outputs stored.

One file per lesson, ``lessons/source/NN_topic.py`` in jupytext's percent format, holds both
versions. Solution code is marked in code cells:

* a block between ``# BEGIN SOLUTION q2`` and ``# END SOLUTION`` lines becomes ``...``
  (indented like the block) in the student version — use it for function bodies, so the
  function returns ``None`` until the student writes it;
* a line ending in ``# SOLUTION q3`` (``name = expr`` or ``return expr``) keeps its left-hand
  side and becomes ``name = ...`` / ``return ...``.

Every marker names its exercise. The solution version of each marked cell is extracted into
``labkit/exercises/solutions/NN_topic.json`` (:func:`write_solutions`), which is what
``ex.q2.solution()`` shows: the solution lives once, in the lesson. Markdown may state a check's
numbers as ``{{q2.epochs}}`` (or ``{{q2.target:.0%}}``); the build stamps in the exercise's
``constants`` (:func:`stamp_constants`), so the prose cannot drift from the check.

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

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labkit import executor

__all__ = [
    "MarkerError",
    "build_lesson",
    "lesson_sources",
    "out_of_sync",
    "render",
    "solution_blocks",
    "stamp_constants",
    "strip_solutions",
    "write_solutions",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = REPO_ROOT / "lessons"
SOURCE_DIR = LESSONS_DIR / "source"
PLACEHOLDER_COMMENT = "  # YOUR CODE HERE"
VARIANTS = ("student", "solution")

_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\b(.*)$")
_END = re.compile(r"^\s*# END SOLUTION\b.*$")
_ONE_LINE_MARK = re.compile(r"#\s*SOLUTION\b(.*)$")
_ONE_LINE = re.compile(r"^(\s*)(return\b|[\w.\[\]'\", ]+?=(?!=))\s*(.+?)\s*# SOLUTION\s+\w+\s*$")
_EXERCISE_ID = re.compile(r"^\s+([A-Za-z_]\w*)\s*$")
_STAMP = re.compile(r"\{\{\s*(\w+)\.(\w+)\s*(?::([^}]*))?\}\}")


class MarkerError(ValueError):
    """A solution marker or a stamp that is malformed or names no exercise."""


def _marker_id(rest: str, where: str, number: int, marker: str) -> str:
    """The exercise id after a marker (``# BEGIN SOLUTION q2``), or a :class:`MarkerError`."""
    found = _EXERCISE_ID.match(rest)
    if not found:
        raise MarkerError(
            f"{where}, line {number}: '{marker}' must name its exercise, e.g. '{marker} q2'"
        )
    return found.group(1)


def marked_exercises(code: str, where: str = "cell") -> list[str]:
    """The exercise ids named by one code cell's solution markers, validated, in order.

    Raises :class:`MarkerError` naming the line for nested, unterminated, stray or unnamed
    markers.

    Example
    -------
    >>> marked_exercises("ratio = a / b  # SOLUTION q1")
    ['q1']
    """
    ids: list[str] = []
    open_at = None
    for number, line in enumerate(code.splitlines(), start=1):
        begin = _BEGIN.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(
                    f"{where}, line {number}: '# BEGIN SOLUTION' inside the block opened at line "
                    f"{open_at}; close it with '# END SOLUTION' first"
                )
            open_at = number
            ids.append(_marker_id(begin.group(2), where, number, "# BEGIN SOLUTION"))
        elif _END.match(line):
            if open_at is None:
                raise MarkerError(f"{where}, line {number}: '# END SOLUTION' without a BEGIN")
            open_at = None
        elif open_at is None and (one := _ONE_LINE_MARK.search(line)):
            ids.append(_marker_id(one.group(1), where, number, "# SOLUTION"))
            if not _ONE_LINE.match(line):
                raise MarkerError(
                    f"{where}, line {number}: '# SOLUTION' must end a line of the form "
                    f"'name = expression' or 'return expression', got: {line.strip()!r}"
                )
    if open_at is not None:
        raise MarkerError(f"{where}, line {open_at}: '# BEGIN SOLUTION' is never closed")
    if len(set(ids)) > 1:
        raise MarkerError(
            f"{where}: one cell holds the solutions of {', '.join(sorted(set(ids)))}; give each "
            "exercise its own cell"
        )
    return ids


def strip_solutions(code: str, where: str = "cell") -> str:
    """The student version of one code cell: solution regions replaced by ``...``.

    Example
    -------
    >>> print(strip_solutions("ratio = a / b  # SOLUTION q1"))
    ratio = ...  # YOUR CODE HERE
    >>> cell = "def f(x):\\n    # BEGIN SOLUTION q2\\n    return 2 * x\\n    # END SOLUTION"
    >>> print(strip_solutions(cell))
    def f(x):
        ...  # YOUR CODE HERE
    """
    marked_exercises(code, where)
    out: list[str] = []
    inside = False
    for line in code.splitlines():
        begin = _BEGIN.match(line)
        if begin:
            inside = True
            out.append(f"{begin.group(1)}...{PLACEHOLDER_COMMENT}")
        elif _END.match(line):
            inside = False
        elif not inside:
            one = _ONE_LINE.match(line)
            out.append(f"{one.group(1)}{one.group(2)} ...{PLACEHOLDER_COMMENT}" if one else line)
    return "\n".join(out)


def keep_solutions(code: str) -> str:
    """The solution version of one code cell: marker lines and marker comments removed.

    Example
    -------
    >>> keep_solutions("ratio = a / b  # SOLUTION q1")
    'ratio = a / b'
    """
    lines = [line for line in code.splitlines() if not (_BEGIN.match(line) or _END.match(line))]
    return "\n".join(_ONE_LINE_MARK.sub("", line).rstrip() for line in lines)


def lesson_recipes(name: str) -> list:
    """The runs a lesson's diagnosis exercises show (its exercise module's ``RUNS``), or ``[]``.

    Example
    -------
    >>> [r.failure for r in lesson_recipes("03_exploding_gradients")]  # doctest: +SKIP
    ['lr_too_high', 'healthy', 'exploding']
    """
    import importlib

    from labkit.exercises import LESSON_MODULES

    if name not in LESSON_MODULES:
        return []
    return list(
        getattr(importlib.import_module(f"labkit.exercises.{LESSON_MODULES[name]}"), "RUNS", [])
    )


def _lesson(name: str):
    """The lesson's exercises, or ``None`` for a notebook that is not one of the course's."""
    from labkit.exercises import LESSON_MODULES, lesson_for

    return lesson_for(name) if name in LESSON_MODULES else None


def solution_blocks(source: Path) -> dict[str, str]:
    """Exercise id → the solution version of the code cell that marks it, for one lesson.

    Checks the markers against the lesson's exercises: every exercise needs exactly one marked
    cell and every marker must name an exercise (:class:`MarkerError` otherwise).

    Example
    -------
    >>> solution_blocks(SOURCE_DIR / "02_vanishing_gradients.py")["q3"]  # doctest: +SKIP
    'bound = 0.25**12'
    """
    import jupytext

    nb = jupytext.reads(source.read_text(), fmt="py:percent")
    blocks: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{source.name}, cell {index + 1}"
        for exercise_id in set(marked_exercises(cell.source, where)):
            if exercise_id in blocks:
                raise MarkerError(f"{where}: a second solution cell for {exercise_id}")
            blocks[exercise_id] = keep_solutions(cell.source).strip()
    lesson = _lesson(source.stem)
    if lesson is not None:
        declared = [e.id for e in lesson]
        unknown = sorted(set(blocks) - set(declared))
        missing = [i for i in declared if i not in blocks]
        if unknown:
            raise MarkerError(
                f"{source.name}: solution markers name {', '.join(unknown)}, which "
                f"{lesson.name}'s exercises do not declare (they are {', '.join(declared)})"
            )
        if missing:
            raise MarkerError(
                f"{source.name}: no solution cell for {', '.join(missing)}; mark one with "
                f"'# BEGIN SOLUTION {missing[0]}' ... '# END SOLUTION' or '... # SOLUTION "
                f"{missing[0]}'"
            )
    return blocks


def write_solutions(source: Path, directory: Path | None = None) -> Path:
    """Write a lesson's :func:`solution_blocks` as ``{directory}/{lesson}.json``.

    ``directory`` defaults to the package data folder exercises read
    (:data:`labkit.exercises.core.SOLUTIONS_DIR`).
    """
    from labkit.exercises.core import SOLUTIONS_DIR

    path = (directory or SOLUTIONS_DIR) / f"{source.stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(solution_blocks(source), indent=1, sort_keys=True) + "\n")
    return path


def stamp_constants(text: str, name: str, where: str = "cell") -> str:
    """Replace ``{{q2.epochs}}`` / ``{{q2.target:.0%}}`` with the exercise's constants.

    The numbers a lesson states about a check live once, in the exercise's ``constants``.

    Example
    -------
    >>> stamp_constants("{{q3.n_layers}} layers", "02_vanishing_gradients")  # doctest: +SKIP
    '12 layers'
    """
    lesson = _lesson(name)

    def value(match: re.Match) -> str:
        exercise_id, constant, spec = match.group(1), match.group(2), match.group(3) or ""
        ids = [e.id for e in lesson] if lesson is not None else []
        constants = lesson[exercise_id].constants if exercise_id in ids else {}
        if constant not in constants:
            raise MarkerError(
                f"{where}: {match.group(0)} names no constant of {name}'s exercises "
                f"({exercise_id} declares: {', '.join(sorted(constants)) or 'none'})"
            )
        return format(constants[constant], spec.strip())

    return _STAMP.sub(value, text)


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
        where = f"{source.name}, cell {index + 1}"
        if cell.cell_type == "code":
            code = strip_solutions(cell.source, where)  # validates the markers in both variants
            if variant == "solution":
                code = keep_solutions(cell.source)
            # Tags pass through: "nbval-ignore-output" marks a check that trains, whose numbers
            # follow the CPU's rounding (its status is tested in tests/test_lessonNN.py).
            tags = list(cell.metadata.get("tags", []))
            cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": tags} if tags else {}))
        elif cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(stamp_constants(cell.source, name, where)))
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


def execute(nb, timeout: int = executor.DEFAULT_TIMEOUT):
    """Run a notebook top to bottom in a fresh kernel (cwd ``lessons/``), outputs in place.

    Raises :class:`labkit.executor.ExecutionError` naming the cell that failed.
    """
    return executor.execute(nb, cwd=LESSONS_DIR, timeout=timeout)


@dataclass
class Built:
    """What :func:`build_lesson` wrote."""

    name: str
    paths: list[Path]


def build_lesson(source: Path, run: bool = True, out_dir: Path | None = None) -> Built:
    """Extract the solutions, record the diagnosis runs (when executing), then render, execute
    and write both notebooks of one lesson.

    ``out_dir`` replaces ``lessons/`` as the folder everything is written to: the notebooks
    (``out_dir/NN_topic.ipynb``, ``out_dir/solutions/NN_topic.ipynb``) and the extracted
    solutions (``out_dir/solutions/NN_topic.json`` instead of the package data).
    """
    paths = [write_solutions(source, None if out_dir is None else out_dir / "solutions")]
    if run and lesson_recipes(source.stem):
        from labkit.exercises.recording import write_runs

        runs_dir = None if out_dir is None else out_dir / "runs"
        paths.append(write_runs(source.stem, lesson_recipes(source.stem), runs_dir))
    for variant in VARIANTS:
        nb = render(source, variant)
        if run:
            execute(nb)
        path = notebook_path(source.stem, variant)
        if out_dir is not None:
            path = out_dir / path.relative_to(LESSONS_DIR)
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
    problems += _runs_out_of_sync(source)
    from labkit.exercises.core import SOLUTIONS_DIR

    stored = SOLUTIONS_DIR / f"{source.stem}.json"
    if not stored.exists() or json.loads(stored.read_text()) != solution_blocks(source):
        problems.append(
            f"{stored.relative_to(REPO_ROOT)} differs from {source.name}'s solution cells; "
            "run `make lessons`"
        )
    return problems


def _runs_out_of_sync(source: Path) -> list[str]:
    """A problem when the recorded runs do not match the lesson's recipes (ids, failures, texts).

    Their numbers come from training, so only a rebuild can refresh them; this catches a recipe
    edited without one.
    """
    from labkit.exercises.diagnosis import RUNS_DIR

    recipes = lesson_recipes(source.stem)
    if not recipes:
        return []
    path = RUNS_DIR / f"{source.stem}.json"
    try:
        stored = [(r["id"], r["failure"], r["description"]) for r in json.loads(path.read_text())]
    except (OSError, ValueError, KeyError, TypeError):
        stored = None
    wanted = [(r.id, r.failure, r.description) for r in recipes]
    if stored == wanted:
        return []
    return [
        f"{path.relative_to(REPO_ROOT)} does not match {source.name}'s RUNS; run `make lessons`"
    ]
