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
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``labkit`` console script."""
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
