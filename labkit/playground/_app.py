"""The live ipywidgets app, and the static summary a non-interactive run shows instead.

The app uses core ipywidgets only (buttons, sliders, dropdowns, ``Image``, ``HTML``), which
JupyterLab, Jupyter Notebook and Google Colab render without any extension (Colab needs
``enable_custom_widget_manager()`` only for third-party widget libraries). The panels are one
matplotlib figure rendered to PNG into an ``Image`` widget; a frame blits the new data onto the
figure's static parts, rendered once (:class:`labkit.playground._figures.Frames`).

Play runs as an ``asyncio`` task on the kernel's own event loop, not in a thread: it trains a
chunk of steps (as long as a frame takes to draw, at least a tenth of a second), yields to the
loop, redraws, and yields again; the loop handles the widgets' messages (Pause, Step, a changed
control) in between, so the app answers within one chunk or one frame. Everything runs on the
kernel's main thread, so Keras never sees two threads and widget updates carry the kernel's
current message context: updates sent from a background thread are not shown in Colab
(googlecolab/colabtools#3373), and ipykernel 7 no longer routes a thread's output to its cell.
"""

from __future__ import annotations

import asyncio
import html
import os
import sys
import time
from typing import TYPE_CHECKING

from labkit.playground import _figures

if TYPE_CHECKING:
    from labkit.playground._core import Playground

__all__ = ["App", "interactive", "show"]

MODE_ENV = "LABKIT_PLAYGROUND"
"""``live`` or ``static`` forces the mode of ``show()``; otherwise it is detected."""
STATIC_STEPS = 200
# One frame while playing: training, its record, drawing and the pauses for widget messages
# together. 0.15 s aims at 6.7 frames per second, so a frame that runs late still leaves 5.
FRAME_SECONDS = 0.15


def interactive() -> bool:
    """Whether ``show()`` can open the live app: a Jupyter or Colab kernel with a person at it.

    ``LABKIT_PLAYGROUND=live`` or ``=static`` decides. Otherwise a run under CI (``CI`` set) or
    pytest/nbval (``PYTEST_CURRENT_TEST``) is static, and so is any kernel not started by a
    Jupyter server (``JPY_SESSION_NAME``), Colab or VS Code: ``labkit build``, ``labkit run``
    and ``labkit grade`` execute notebooks with no one watching.

    Example
    -------
    >>> interactive()  # in a plain Python process
    False
    """
    mode = os.environ.get(MODE_ENV, "").strip().lower()
    if mode in ("live", "static"):
        return mode == "live"
    if os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    return bool(
        "google.colab" in sys.modules
        or os.environ.get("JPY_SESSION_NAME")
        or os.environ.get("VSCODE_PID")
    )


def show(pg: Playground, live: bool | None = None):
    """The live :class:`App` when ``live`` (default: :func:`interactive`), else display the
    static summary (``STATIC_STEPS`` steps trained if the playground has not trained yet)."""
    if live is None:
        live = interactive()
    if live:
        return App(pg).widget
    if pg.step == 0:
        pg.run(steps=STATIC_STEPS, every=5)
    fig = _figures.draw(_figures.figure(), pg)
    text = _figures.table(pg)
    try:
        from IPython import get_ipython
        from IPython.display import Image, Pretty, display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return fig
    display(Image(_figures.png(fig)), Pretty(text))
    return None


class App:
    """The widgets of one playground: controls, Play/Pause, Step, Reset and the live panels.

    Example
    -------
    >>> App(Playground(preset="vanishing", locked=["depth"])).widget  # doctest: +SKIP
    """

    def __init__(self, pg: Playground):
        try:
            import ipywidgets as w
        except ImportError:
            raise ImportError(
                "the live playground needs ipywidgets: pip install ipywidgets (Colab has it), "
                "or call pg.show(live=False) for the static summary"
            ) from None
        from labkit.playground._core import CONTROLS

        self.pg = pg
        self._task = None
        self._frames = _figures.Frames()
        self.controls = {}
        for name, control in CONTROLS.items():
            if name in pg.hidden or name == "seed":
                continue
            widget = _control_widget(w, name, control, pg.controls[name])
            widget.disabled = name in pg.locked
            widget.observe(self._changed, names="value")
            self.controls[name] = widget
        self.play = w.ToggleButton(description="Play", icon="play", tooltip="train continuously")
        self.play.observe(self._toggled, names="value")
        self.step_button = w.Button(
            description="Step", icon="step-forward", tooltip="train one step"
        )
        self.step_button.on_click(lambda _: self._advance(1))
        self.reset_button = w.Button(
            description="Reset", icon="refresh", tooltip="start again with a new seed"
        )
        self.reset_button.on_click(self._reset)
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="1040px"))
        self.findings = w.HTML()
        groups = {
            "Data": ("dataset", "points", "noise", "train_fraction"),
            "Network": (
                "depth",
                "width",
                "activation",
                "initializer",
                "init_scale",
                "batch_norm",
                "dropout",
                "l2",
            ),
            "Training": ("optimizer", "learning_rate", "batch_size"),
        }
        boxes = [
            w.VBox(
                [w.HTML(f"<b>{title}</b>")]
                + [self.controls[n] for n in names if n in self.controls]
            )
            for title, names in groups.items()
        ]
        buttons = w.HBox([self.play, self.step_button, self.reset_button, self.status])
        self.widget = w.VBox([buttons, w.HBox(boxes), self.image, self.findings])
        self.refresh()

    # --- callbacks (run on the kernel's main thread) --------------------------------------
    def _changed(self, change) -> None:
        name = next(n for n, widget in self.controls.items() if widget is change["owner"])
        try:
            self.pg.set(**{name: change["new"]})
        except ValueError as exc:
            self.status.value = f"<span style='color:#b3261e'>{html.escape(str(exc))}</span>"
            return
        self.refresh()

    def _toggled(self, change) -> None:
        self.play.description, self.play.icon = (
            ("Pause", "pause") if change["new"] else ("Play", "play")
        )
        if change["new"] and self._task is None:
            self._task = asyncio.get_event_loop().create_task(self._loop())

    def _reset(self, _=None) -> None:
        self.pg.reset()
        self.refresh()

    def _advance(self, steps: int) -> None:
        self.pg.run(steps=steps, every=steps)
        self.refresh()

    async def _loop(self) -> None:
        chunk = 1
        try:
            while self.play.value:
                start = time.perf_counter()
                self.pg.run(steps=chunk, every=chunk)  # a record a frame: records cost steps
                training = time.perf_counter() - start
                await asyncio.sleep(0)  # let the kernel handle widget messages (Pause, controls)
                if not self.play.value:
                    break
                self.refresh()
                await asyncio.sleep(0.01)
                rest = time.perf_counter() - start - training  # drawing and the pauses
                # Train for what the rest leaves of the frame (at least one step).
                wanted = max(FRAME_SECONDS - rest, 0.0)
                chunk = max(1, min(200, round(chunk * wanted / max(training, 1e-3))))
        finally:
            self._task = None
            self.refresh()

    def refresh(self) -> None:
        """Redraw the panels, the step counter and the findings."""
        pg = self.pg
        self.image.value = self._frames.png(pg)
        s = pg.summary()
        self.status.value = (
            f"step <b>{pg.step}</b> · seed {pg.controls['seed']} · test accuracy "
            f"{s['test_accuracy']:.0%} (majority {s['baseline_accuracy']:.0%})"
        )
        findings = pg.findings
        if findings:
            items = "".join(
                f"<li><b>{html.escape(f.kind.replace('_', ' '))}</b> in "
                f"<code>{html.escape(f.layer)}</code>: {html.escape(f.message)}</li>"
                for f in findings
            )
            self.findings.value = f"<ul style='color:#b35900'>{items}</ul>"
        else:
            self.findings.value = "<p style='color:#1a7f37'>&#10004; No findings: healthy.</p>"


def _control_widget(w, name: str, control, value):
    label = name.replace("_", " ")
    style = {"description_width": "92px"}
    layout = w.Layout(width="290px")
    if control.choices:
        return w.Dropdown(
            options=list(control.choices),
            value=value,
            description=label,
            style=style,
            layout=layout,
        )
    if isinstance(control.default, bool):
        return w.Checkbox(value=value, description=label, style=style, layout=layout)
    if name == "learning_rate":
        return w.FloatLogSlider(
            value=max(value, 1e-5),
            base=10,
            min=-5,
            max=1,
            step=0.1,
            description=label,
            readout_format=".1e",
            style=style,
            layout=layout,
            continuous_update=False,
        )
    low, high = control.bounds
    high = {"points": 1000, "init_scale": 4.0, "batch_size": 128, "l2": 0.1}.get(name, high)
    if isinstance(control.default, int):
        return w.IntSlider(
            value=value,
            min=low,
            max=high,
            description=label,
            style=style,
            layout=layout,
            continuous_update=False,
        )
    step = {"l2": 0.001, "init_scale": 0.1}.get(name, 0.05)
    return w.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=label,
        style=style,
        layout=layout,
        continuous_update=False,
    )
