"""The live playground in real JupyterLab (Chromium + Selenium, as in ``test_browser.py``).

A one-cell notebook shows ``Playground(...).show(live=True)`` (the test's kernel inherits
pytest's environment, which would otherwise select the static summary). The test presses Step,
then Play, and checks that the step counter moves and the panel image changes, presses Pause,
saves ``build/browser-playground.png``, chooses another activation (the network is rebuilt: step
0, a new frame, and it trains again) and saves ``build/browser-playground-rebuilt.png``.
"""

from __future__ import annotations

import re
import time

import nbformat
from test_browser import (  # noqa: F401 - fixtures
    DIALOGS_JS,
    REPO,
    _kernel_idle,
    _poll,
    _run_all_cells,
    _wait_until,
    browser,
    lab,
)

STATUS_JS = """
const status = [...document.querySelectorAll('.widget-html-content')]
  .map(e => e.textContent).find(t => t.startsWith('step ')) || '';
const img = document.querySelector('.jp-OutputArea-output img.widget-image, .widget-image');
return {status: status, image: img ? img.src.length + ':' + img.src.slice(-40) : ''};
"""


def _button(driver, label: str):
    from selenium.webdriver.common.by import By

    for element in driver.find_elements(By.CSS_SELECTOR, "button.jupyter-button"):
        if element.text.strip() == label:
            return element
    return None


def _choose(driver, label: str, option: str) -> None:
    """Pick ``option`` in the dropdown labelled ``label`` (an ipywidgets Dropdown)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for widget in driver.find_elements(By.CSS_SELECTOR, ".widget-dropdown"):
        if widget.find_element(By.TAG_NAME, "label").text.strip() == label:
            Select(widget.find_element(By.TAG_NAME, "select")).select_by_visible_text(option)
            return
    raise AssertionError(f"no dropdown labelled {label!r}")


def _screenshot(driver, name: str) -> None:
    shot = REPO / "build" / name
    shot.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(shot)), f"could not write {shot}"


def _step(driver) -> int | None:
    found = re.match(r"step (\d+)", driver.execute_script(STATUS_JS)["status"])
    return int(found.group(1)) if found else None


def test_playground_steps_and_plays_in_jupyterlab(lab, browser):  # noqa: F811 - fixtures
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from labkit.playground import Playground\nPlayground(depth=2, width=8).show(live=True)"
        )
    ]
    nbformat.write(nb, lab["root"] / "playground.ipynb")
    browser.get(f"{lab['url']}/lab/tree/playground.ipynb?reset&token={lab['token']}")
    _wait_until(
        lambda: (
            browser.execute_script(
                "return document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === 1 && "
                "(document.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}})"
                ".dataset.status === 'idle'"
            )
            and _kernel_idle(lab, "playground.ipynb")
        ),
        60,
        "the notebook and an idle kernel",
    )
    dialogs: list[str] = []
    _run_all_cells(browser, dialogs)
    if _poll(lambda: _step(browser) == 0, 120) is None:
        shot = REPO / "build" / "browser-playground-failed.png"
        shot.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(shot))
        raise AssertionError(
            f"the playground's widgets did not show step 0 within 120 s (screenshot: {shot}); "
            f"dialogs closed: {dialogs}, open: {browser.execute_script(DIALOGS_JS)}; "
            f"server log ends:\n{lab['log'].read_text()[-2000:]}"
        )

    first = browser.execute_script(STATUS_JS)["image"]
    _button(browser, "Step").click()
    _wait_until(lambda: _step(browser) == 1, 60, "Step to train one step")
    _wait_until(lambda: browser.execute_script(STATUS_JS)["image"] != first, 30, "a new frame")

    _button(browser, "Play").click()
    _wait_until(lambda: (_step(browser) or 0) > 5, 90, "Play to keep training")
    moving = _step(browser)
    _wait_until(lambda: (_step(browser) or 0) > moving, 60, "the counter to keep moving")
    _button(browser, "Pause").click()
    paused = _poll(lambda: _button(browser, "Play"), 30)
    assert paused is not None, "Pause did not turn back into Play"
    browser.set_window_size(1400, 1500)  # the whole app: controls and all six panels
    time.sleep(1)
    _screenshot(browser, "browser-playground.png")

    # Another activation is another network: it is rebuilt and starts again at step 0.
    before = browser.execute_script(STATUS_JS)["image"]
    _choose(browser, "activation", "tanh")
    _wait_until(lambda: _step(browser) == 0, 60, "the rebuilt network at step 0")
    _wait_until(lambda: browser.execute_script(STATUS_JS)["image"] != before, 30, "a new frame")
    _button(browser, "Step").click()
    _wait_until(lambda: _step(browser) == 1, 60, "the rebuilt network to train a step")

    _screenshot(browser, "browser-playground-rebuilt.png")
