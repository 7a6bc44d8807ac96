"""The ``labkit`` command: ``labkit build`` (maintainers), ``labkit run`` (students),
``labkit grade`` (instructors).

Example
-------
    labkit build 02          # rebuild lesson 02's student and solution notebooks
    labkit build --check     # fail if any notebook is out of sync with its source
"""

from __future__ import annotations

import argparse
import sys

from labkit import __version__


def _build(args: argparse.Namespace) -> int:
    from labkit.authoring import MarkerError, build_lesson, lesson_sources, out_of_sync
    from labkit.executor import ExecutionError

    try:
        sources = lesson_sources(args.lessons)
    except ValueError as exc:
        print(f"labkit build: {exc}", file=sys.stderr)
        return 2
    if args.check:
        problems = [p for source in sources for p in out_of_sync(source)]
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    for source in sources:
        print(f"building {source.stem} ...", flush=True)
        try:
            built = build_lesson(source, run=not args.no_execute)
        except MarkerError as exc:
            print(f"labkit build: {exc}", file=sys.stderr)
            return 1
        except ExecutionError as exc:
            print(f"labkit build: {source.name}: {exc}", file=sys.stderr)
            return 1
        for path in built.paths:
            print(f"  wrote {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from labkit.runner import LessonNotFound, resolve, run_notebook, summary_table

    try:
        notebooks = resolve(args.lessons, solutions=args.solutions)
    except LessonNotFound as exc:
        print(f"labkit run: {exc}", file=sys.stderr)
        return 2
    results = []
    for path in notebooks:
        result = run_notebook(path, timeout=args.timeout)
        if not result.ok:
            print(f"labkit run: {path}: {result.error}", file=sys.stderr, flush=True)
        results.append(result)
    print(summary_table(results))
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"labkit run: {len(failed)} of {len(results)} failed: {', '.join(failed)}")
    return 1 if failed else 0


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
        return value

    return parse


def _submissions(paths: list[str]) -> list:
    """Notebook files from files and folders (folders: every ``*.ipynb`` below, sorted)."""
    from pathlib import Path

    found = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not inside:
                raise ValueError(f"{path} holds no .ipynb files")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"{path} does not exist")
    return list(dict.fromkeys(found))


def _grade(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from labkit.grading import grade_paths, report

    try:
        paths = _submissions(args.paths)
    except ValueError as exc:
        print(f"labkit grade: {exc}", file=sys.stderr)
        return 2
    if args.gradescope and len(paths) != 1:
        print(
            f"labkit grade: --gradescope writes one student's results.json; pass exactly one "
            f"notebook (got {len(paths)})",
            file=sys.stderr,
        )
        return 2
    done = []

    def progress(result) -> None:
        done.append(result)
        status = "error" if result.status == "error" else f"{result.score:g}/{result.max_score:g}"
        print(f"[{len(done)}/{len(paths)}] {result.file}: {status}", file=sys.stderr, flush=True)

    results = grade_paths(
        paths, timeout=args.timeout, jobs=args.jobs, memory_gb=args.memory, on_done=progress
    )
    print(report.table(results))
    if args.json:
        Path(args.json).write_text(report.json_text(results), encoding="utf-8")
    if args.csv:
        Path(args.csv).write_text(report.csv_text(results), encoding="utf-8")
    if args.gradescope:
        Path(args.gradescope).write_text(json.dumps(report.gradescope(results[0]), indent=2))
    failed = [r for r in results if r.status == "error"]
    if failed:
        print(f"labkit grade: {len(failed)} of {len(results)} could not be graded", file=sys.stderr)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per task)."""
    p = argparse.ArgumentParser(prog="labkit", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build student + solution notebooks from lessons/source")
    build.add_argument("lessons", nargs="*", help="lesson names or numbers (default: all)")
    build.add_argument("--check", action="store_true", help="only check notebooks are in sync")
    build.add_argument("--no-execute", action="store_true", help="write notebooks without running")
    build.set_defaults(func=_build)
    run = sub.add_parser(
        "run", help="run lessons headless in fresh kernels, then print a summary table"
    )
    run.add_argument(
        "lessons", nargs="*", help="lesson numbers, names or .ipynb paths (default: all lessons)"
    )
    run.add_argument(
        "--solutions", action="store_true", help="run lessons/solutions/ instead of the lessons"
    )
    run.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    run.set_defaults(func=_run)
    grade = sub.add_parser(
        "grade", help="grade submitted notebooks in fresh kernels (answers re-checked as data)"
    )
    grade.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of them")
    grade.add_argument("--json", metavar="FILE", help="write a JSON report")
    grade.add_argument("--csv", metavar="FILE", help="write a CSV gradebook")
    grade.add_argument(
        "--gradescope", metavar="FILE", help="write Gradescope's results.json (one notebook)"
    )
    grade.add_argument(
        "--timeout",
        type=_positive(float),
        default=120.0,
        metavar="SECONDS",
        help="seconds allowed per cell (default: 120)",
    )
    grade.add_argument(
        "--jobs",
        type=_positive(int),
        default=None,
        metavar="N",
        help="submissions graded at once (default: number of cores)",
    )
    grade.add_argument(
        "--memory",
        type=_positive(float),
        default=8.0,
        metavar="GB",
        help="address-space cap per kernel in GB (default: 8)",
    )
    grade.set_defaults(func=_grade)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``labkit`` console script."""
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
