"""What does the bubblewrap sandbox cost per graded submission?

Grades copies of lesson 01's solution notebook one at a time (``jobs=1``), alternating sandboxed
and unsandboxed so both see the same machine load, and prints each submission's wall time (kernel
start, every cell, collection and checks) side by side, the medians and their ratio. Goal: the
sandbox costs at most 1.10x per submission::

    python benchmarks/grading_sandbox.py        # 3 submissions each way
    python benchmarks/grading_sandbox.py 5
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from labkit.grading import grade_paths, sandbox

SOLUTION = Path(__file__).resolve().parent.parent / "lessons/solutions/01_backpropagation.ipynb"
TARGET_RATIO = 1.10


def main(rounds: int = 3) -> float:
    reason = sandbox.probe()
    if reason is not None:
        sys.exit(f"grading_sandbox: cannot measure the sandbox: {reason}")
    print(f"lesson 01 solution graded {rounds}x each way, one submission at a time")
    print(f"{'round':<6} {'sandboxed s':>12} {'unsandboxed s':>14}")
    times = {True: [], False: []}
    for number in range(1, rounds + 1):
        for sandboxed in (True, False):
            (result,) = grade_paths([SOLUTION], jobs=1, sandboxed=sandboxed)
            if result.status != "graded" or result.score != result.max_score:
                sys.exit(f"grading_sandbox: {result.file} graded wrongly: {result.to_dict()}")
            times[sandboxed].append(result.seconds)
        print(f"{number:<6} {times[True][-1]:>12.2f} {times[False][-1]:>14.2f}", flush=True)
    inside, outside = statistics.median(times[True]), statistics.median(times[False])
    ratio = inside / outside
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"{'median':<6} {inside:>12.2f} {outside:>14.2f}")
    print(f"ratio sandboxed/unsandboxed: {ratio:.3f} ({verdict} the {TARGET_RATIO:.2f}x goal)")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
