"""The ``labkit`` command: ``labkit build`` (maintainers), ``labkit run`` (students),
``labkit grade``, ``labkit grade merge`` and ``labkit autograder`` (instructors).

Example
-------
    labkit build 02          # rebuild lesson 02's student and solution notebooks
    labkit build --check     # fail if any notebook is out of sync with its source
    labkit grade submissions/ --shard 0/4 --json part0.json   # one machine of four
    labkit grade merge part*.json --csv grades.csv
    labkit autograder 01 -o autograder.zip                    # Gradescope, lesson 01
"""

from __future__ import annotations

import argparse
import os
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


SHARD_ENV = ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID")


def _shard(text: str) -> tuple[int, int]:
    """``K/N`` (or ``N``, K then from :data:`SHARD_ENV`) as ``(K, N)``, ``0 <= K < N``."""
    k_text, _, n_text = text.rpartition("/")
    if not k_text:
        k_text = next((os.environ[v] for v in SHARD_ENV if os.environ.get(v)), "")
    try:
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected K/N such as 0/4 (shard K of N, counted from 0), or N with K in "
            f"{' or '.join(SHARD_ENV)}; got {text!r}"
        ) from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(
            f"shard K/N needs 0 <= K < N, got {k}/{n} (Slurm: use --array=0-{n - 1})"
        )
    return k, n


def _grade(args: argparse.Namespace) -> int:
    import json
    import threading
    import time
    from pathlib import Path

    from labkit.grading import grade_paths, report, sandbox
    from labkit.grading.runner import find_notebooks

    try:
        paths = find_notebooks(args.paths)
    except ValueError as exc:
        print(f"labkit grade: {exc}", file=sys.stderr)
        return 2
    if args.shard is not None:  # every N-th submission of the same sorted list on each machine
        k, n = args.shard
        paths = paths[k::n]
    if args.gradescope and len(paths) != 1:
        print(
            f"labkit grade: --gradescope writes one student's results.json; pass exactly one "
            f"notebook (got {len(paths)})",
            file=sys.stderr,
        )
        return 2
    try:
        sandboxed, warning = sandbox.choose(args.sandbox)
    except sandbox.SandboxUnavailable as exc:
        print(f"labkit grade: {exc}", file=sys.stderr)
        return 2
    if warning:
        print(f"labkit grade: {warning}", file=sys.stderr, flush=True)
    log = Path(args.results)
    earlier = report.read_lines(log) if args.resume and log.exists() else {}
    todo = [p for p in paths if str(p) not in earlier]
    if earlier:
        print(
            f"labkit grade: --resume: {len(paths) - len(todo)} of {len(paths)} already graded "
            f"in {log}",
            file=sys.stderr,
        )
    lock, done, start = threading.Lock(), [], time.monotonic()

    with log.open("a" if args.resume else "w", encoding="utf-8") as saved:

        def progress(result) -> None:
            with lock:
                saved.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                saved.flush()
                done.append(result)
                elapsed = time.monotonic() - start
                eta = elapsed / len(done) * (len(todo) - len(done))
                status = (
                    "error"
                    if result.status == "error"
                    else f"{result.score:g}/{result.max_score:g}"
                )
                print(
                    f"[{len(done)}/{len(todo)}] {result.file}: {status} "
                    f"({result.seconds:.1f} s; about {eta:.0f} s left)",
                    file=sys.stderr,
                    flush=True,
                )

        fresh = grade_paths(
            todo,
            timeout=args.timeout,
            jobs=args.jobs,
            memory_gb=args.memory,
            on_done=progress,
            sandboxed=sandboxed,
        )
    by_file = {**earlier, **{r.file: r for r in fresh}}
    return _report([by_file[str(p)] for p in paths], args.json, args.csv, args.gradescope)


def _merge(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from labkit.grading import report
    from labkit.grading.runner import SubmissionResult

    by_file: dict = {}
    for text in args.reports:
        path = Path(text)
        try:
            if path.suffix == ".jsonl":
                found = report.read_lines(path)
            else:
                found = {
                    s["file"]: SubmissionResult.from_dict(s)
                    for s in json.loads(path.read_text(encoding="utf-8"))
                }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(
                f"labkit grade merge: {path} is not a report of `labkit grade --json FILE` "
                f"(or its --results FILE.jsonl): {exc}",
                file=sys.stderr,
            )
            return 2
        for file in found.keys() & by_file.keys():
            print(
                f"labkit grade merge: {file} is in two reports; keeping {path}'s", file=sys.stderr
            )
        by_file.update(found)
    return _report(list(by_file.values()), args.json, args.csv)


def _autograder(args: argparse.Namespace) -> int:
    from labkit.grading import autograder

    try:
        out = autograder.build(
            args.lesson,
            args.output,
            wheel=args.wheel,
            timeout=args.timeout,
            memory_gb=args.memory,
            sandbox_mode=args.sandbox,
        )
    except autograder.AutograderError as exc:
        print(f"labkit autograder: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"labkit autograder: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {out} (lesson {autograder.resolve_lesson(args.lesson)}, --sandbox {args.sandbox}): "
        "upload it in Gradescope (Configure Autograder, Zip file upload)"
    )
    return 0


def _report(
    results: list, json_path: str | None, csv_path: str | None, gradescope: str | None = None
) -> int:
    """Print the table, write the requested reports; 1 when a submission could not be graded."""
    import json
    from pathlib import Path

    from labkit.grading import report

    print(report.table(results))
    if json_path:
        Path(json_path).write_text(report.json_text(results), encoding="utf-8")
    if csv_path:
        Path(csv_path).write_text(report.csv_text(results), encoding="utf-8")
    if gradescope:
        Path(gradescope).write_text(json.dumps(report.gradescope(results[0]), indent=2))
    failed = [r for r in results if r.status == "error"]
    if failed:
        print(f"labkit grade: {len(failed)} of {len(results)} could not be graded", file=sys.stderr)
    return 1 if failed else 0


def _grading_options(p: argparse.ArgumentParser) -> None:
    """The options ``labkit grade`` and ``labkit autograder`` share."""
    from labkit.grading.defaults import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT
    from labkit.grading.sandbox import MODES  # light too: no executor, nbclient or keras

    p.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds allowed per cell (default: {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--memory",
        type=_positive(float),
        default=DEFAULT_MEMORY_GB,
        metavar="GB",
        help=f"address-space cap per kernel in GB (default: {DEFAULT_MEMORY_GB:g})",
    )
    p.add_argument(
        "--sandbox",
        choices=MODES,
        default="auto",
        help="run each kernel in a bubblewrap sandbox: auto (when bubblewrap works, else warn), "
        "required (fail without it), off (default: auto)",
    )


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
    _grading_options(grade)
    grade.add_argument(
        "--jobs",
        type=_positive(int),
        default=None,
        metavar="N",
        help="submissions graded at once (default: number of cores)",
    )
    grade.add_argument(
        "--results",
        metavar="FILE",
        default="labkit-grade.jsonl",
        help="save each result as it finishes, one JSON line each (default: labkit-grade.jsonl)",
    )
    grade.add_argument(
        "--resume",
        action="store_true",
        help="keep the results already in --results FILE and grade only the others",
    )
    grade.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="grade only shard K of N (K from 0; with N alone, K is read from "
        "JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); combine with `labkit grade merge`",
    )
    grade.set_defaults(func=_grade)
    merge = sub.add_parser(
        "grade-merge",
        help="combine `labkit grade --shard` reports (also spelled `labkit grade merge`)",
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT", help="--json or --results files")
    merge.add_argument("--json", metavar="FILE", help="write the combined JSON report")
    merge.add_argument("--csv", metavar="FILE", help="write the combined CSV gradebook")
    merge.set_defaults(func=_merge)
    gradescope = sub.add_parser("autograder", help="write a Gradescope autograder zip for a lesson")
    gradescope.add_argument("lesson", metavar="LESSON", help="lesson name or number, e.g. 01")
    gradescope.add_argument(
        "-o", "--output", metavar="FILE", default="autograder.zip", help="default: autograder.zip"
    )
    gradescope.add_argument(
        "--wheel", metavar="FILE", help="labkit wheel to ship (default: built from this checkout)"
    )
    _grading_options(gradescope)
    gradescope.set_defaults(func=_autograder)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``labkit`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:2] == ["grade", "merge"]:
        argv = ["grade-merge", *argv[2:]]
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
