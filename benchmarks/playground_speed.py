"""How fast does the playground train and redraw?

On the default network (``Playground()``: 2-D spiral, 3 ReLU layers of 16, Adam, batch 16):

- headless training (``pg.run``) in steps per second, recording every step and every 10th step;
- the live app's redraw (``App.refresh``: the six panels and the status line), frames per second,
  with 10 training steps between frames so the panels change as they do while playing;
- the live app playing: its real play loop (``App._loop``, started by the Play button) run for a
  few seconds, in frames per second and training steps per second.

Each figure is the median of several timed rounds after a warm-up, all in one process. Issue
targets: at least 200 steps/s headless on 2 CPU cores, at least 5 frames per second while playing.

Usage::

    python benchmarks/playground_speed.py              # 5 timed rounds
    python benchmarks/playground_speed.py --repeats 9
    KERAS_BACKEND=jax python benchmarks/playground_speed.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from labkit.backend import backend_name
from labkit.playground import Playground
from labkit.playground._app import App

STEPS = 300
PLAY_SECONDS = 6.0


def _steps_per_second(every: int) -> float:
    pg = Playground()
    pg.run(steps=20, every=every)  # warm-up: the first steps compile the train step
    start = time.perf_counter()
    pg.run(steps=STEPS, every=every)
    return STEPS / (time.perf_counter() - start)


def _redraws_per_second(frames: int = 20) -> float:
    app = App(Playground().run(steps=20, every=10))
    took = 0.0
    for _ in range(frames):
        app.pg.run(steps=10, every=10)
        start = time.perf_counter()
        app.refresh()
        took += time.perf_counter() - start
    return frames / took


async def _play(seconds: float) -> tuple[float, float]:
    app = App(Playground().run(steps=20, every=10))
    frames, refresh = 0, app.refresh

    def counted() -> None:
        nonlocal frames
        frames += 1
        refresh()

    app.refresh = counted
    first = app.pg.step
    app.play.value = True  # what the Play button does: starts the play loop
    await asyncio.sleep(seconds)
    app.play.value = False
    steps = app.pg.step - first
    while app._task is not None:  # let the loop finish its frame
        await asyncio.sleep(0.05)
    return frames / seconds, steps / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (default 5)")
    args = parser.parse_args()
    rows = {
        "headless steps/s, a record every step": [],
        "headless steps/s, a record every 10th": [],
        "redraws/s (App.refresh)": [],
        "playing: frames/s": [],
        "playing: training steps/s": [],
    }
    for _ in range(args.repeats):
        rows["headless steps/s, a record every step"].append(_steps_per_second(1))
        rows["headless steps/s, a record every 10th"].append(_steps_per_second(10))
        rows["redraws/s (App.refresh)"].append(_redraws_per_second())
        frames, steps = asyncio.run(_play(PLAY_SECONDS))
        rows["playing: frames/s"].append(frames)
        rows["playing: training steps/s"].append(steps)
    print(f"backend {backend_name()}, {args.repeats} rounds, median (min-max)")
    for name, values in rows.items():
        spread = f"{min(values):.1f}-{max(values):.1f}"
        print(f"  {name:40s} {statistics.median(values):7.1f} ({spread})")


if __name__ == "__main__":
    main()
