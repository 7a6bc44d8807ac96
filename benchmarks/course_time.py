"""How long does the whole course take to run?

Executes every solution notebook (``lessons/solutions/*.ipynb``) top to bottom in a fresh kernel,
as a student's "Run all" would — kernel start and the backend's import included — and prints the
time per lesson and the total, with each lesson's exercise score as a sanity check. Run it on the
backend you want to measure::

    python benchmarks/course_time.py
    KERAS_BACKEND=jax python benchmarks/course_time.py
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/course_time.py
"""

from __future__ import annotations

import io
import os
import sys

from labkit.runner import resolve, run_notebook

TARGET_SECONDS = 120.0
LESSON_TARGET_SECONDS = 30.0


def main() -> float:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    print(f"course run time on {backend} ({os.cpu_count()} CPU cores), solution notebooks")
    header = f"{'lesson':<26} {'seconds':>8}  score"
    print(header)
    print("-" * len(header))
    total = 0.0
    failed = False
    for path in resolve(solutions=True):
        result = run_notebook(path, stream=io.StringIO())
        total += result.seconds
        points, max_points = result.points
        status = f"{points:g}/{max_points:g}" if result.ok else f"FAILED: {result.error}"
        failed = failed or not result.ok
        over = result.seconds > LESSON_TARGET_SECONDS
        over = f"  (over the {LESSON_TARGET_SECONDS:g} s lesson target)" if over else ""
        print(f"{result.name:<26} {result.seconds:>8.1f}  {status}{over}", flush=True)
    print("-" * len(header))
    verdict = "meets" if total <= TARGET_SECONDS else "MISSES"
    print(f"{'total':<26} {total:>8.1f}  ({verdict} the {TARGET_SECONDS:g} s target)")
    if failed:
        sys.exit(1)
    return total


if __name__ == "__main__":
    main()
