"""A lesson run in real JupyterLab, driven through Debian's Chromium with Selenium.

JupyterLab starts headless on a free loopback port with a random token, with its own temporary
config/runtime folders, on a copy of the lesson in a temporary folder with its stored outputs
removed (JupyterLab autosaves: the stored lessons are never touched). Chromium opens the
notebook, runs every cell from the menu (Run → Run All Cells), waits for the kernel to finish and
checks that every code cell ran, that no cell shows an error, that figures rendered and that the
exercise checks show their coloured "Not attempted" results. A screenshot goes to
``build/browser-lessonNN.png``. ``make browser-deps`` installs ``chromium`` and
``chromium-driver``; choose lessons with ``LABKIT_BROWSER_LESSONS=01,02`` (numbers, names or
notebook paths).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from labkit.runner import resolve

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LESSONS = os.environ.get("LABKIT_BROWSER_LESSONS", "01").split(",")
RUN_TIMEOUT = 120  # seconds for all cells of a lesson
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
# JupyterLab settings for a quiet, deterministic page: every cell in the DOM (no virtual
# scrolling), no news or update notifications fetched from the internet.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll(condition, timeout: float, interval: float = 0.25):
    """``condition()``'s first truthy value within ``timeout`` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


def _wait_until(condition, timeout: float, what: str):
    value = _poll(condition, timeout)
    if not value:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
    return value


def _stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything in its process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def lab(tmp_path) -> Iterator[dict]:
    """A JupyterLab server on a loopback port serving ``tmp_path/work``; always stopped."""
    work, home = tmp_path / "work", tmp_path / "jupyter"
    work.mkdir()
    for name, values in LAB_SETTINGS.items():
        package, plugin = name.rsplit("/", 1)
        path = home / "config" / "lab" / "user-settings" / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",  # CI runs as root
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            if server.poll() is not None:
                raise AssertionError(
                    f"JupyterLab exited: {(tmp_path / 'jupyterlab.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        _wait_until(up, 60, "JupyterLab to answer")
        yield {
            "url": base,
            "token": token,
            "root": work,
            "process": server,
            "log": tmp_path / "jupyterlab.log",
        }
    finally:
        _stop(server)
        log.close()
    assert server.returncode is not None


@pytest.fixture
def browser(tmp_path) -> Iterator:
    """Headless Debian Chromium through Debian's chromedriver (nothing is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{', '.join(missing)} missing: run `make browser-deps` (apt-get chromium)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


# Every code cell's state, read in the page: its prompt "[n]:" / "[*]:" / "[ ]:", and errors.
CELL_STATE_JS = """
const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
return {
  prompts: cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || ''),
  errors: [...document.querySelectorAll('.jp-OutputArea-output')]
    .filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr'
                 && /Traceback|Error:/.test(o.textContent))
    .map(o => o.textContent.slice(0, 400)),
  checks: [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/html"]')]
    .filter(o => /^\\s*Not attempted/.test(o.textContent)).length,
  images: [...document.querySelectorAll('.jp-OutputArea-output img')]
    .filter(i => i.complete && i.naturalWidth > 0).length,
  status: (document.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}})
    .dataset.status || '',
};
"""


DIALOGS_JS = """
return [...document.querySelectorAll('.jp-Dialog')]
  .map(d => d.innerText.replace(/\\s+/g, ' ').trim());
"""
RUN_MENU = "//li[contains(@class,'lm-MenuBar-item')][.='Run']"
RUN_ALL = "li.lm-Menu-item[data-command='runmenu:run-all']"


def _kernel_idle(lab: dict, notebook: str) -> bool:
    """Whether the server has a session for ``notebook`` whose kernel says it is idle."""
    url = f"{lab['url']}/api/sessions?token={lab['token']}"
    with urllib.request.urlopen(url, timeout=5) as response:
        sessions = json.load(response)
    return any(
        s["path"].endswith(notebook) and s["kernel"]["execution_state"] == "idle" for s in sessions
    )


def _close_dialogs(driver, seen: list[str]) -> None:
    """Add the text of every open JupyterLab dialog to ``seen`` and press its default button.

    A dialog (a kernel that restarted, a file changed on disk) covers the menu bar: a click meant
    for the menu would fail with ElementClickInterceptedException and not say why.
    """
    texts = driver.execute_script(DIALOGS_JS)
    for text in texts:
        print(f"JupyterLab showed a dialog: {text}")
    seen.extend(texts)
    if texts:
        driver.execute_script(
            "document.querySelectorAll('.jp-Dialog .jp-mod-accept').forEach(b => b.click())"
        )
        time.sleep(0.5)


def _started(driver) -> bool:
    """Whether the kernel is busy or any code cell's prompt has left "[ ]:"."""
    state = driver.execute_script(CELL_STATE_JS)
    return state["status"] == "busy" or any(p.strip() != "[ ]:" for p in state["prompts"])


def _run_all_cells(driver, seen: list[str]) -> None:
    """Run → Run All Cells from the menu bar; repeated (at most three times) if nothing starts.

    The page can report an idle kernel a moment before the menu acts on it, and a dialog can
    cover the menu: each attempt first closes open dialogs (their text goes to ``seen``).
    """
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import element_to_be_clickable as clickable
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 10)
    for _ in range(3):
        _close_dialogs(driver, seen)
        try:
            wait.until(clickable((By.XPATH, RUN_MENU))).click()
            wait.until(clickable((By.CSS_SELECTOR, RUN_ALL))).click()
        except ElementClickInterceptedException as error:
            print(f"the menu click was intercepted ({error.msg.splitlines()[0]}); again")
            continue
        if _poll(lambda: _started(driver), 5):
            return
        print("Run All Cells started nothing; clicking again")
    raise AssertionError(f"Run → Run All Cells started nothing after three clicks; dialogs: {seen}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_jupyterlab(lesson, lab, browser):
    (source,) = resolve([lesson])
    notebook = lab["root"] / source.name
    stored = source.read_bytes()
    nb = nbformat.read(source, as_version=4)
    code_cells = 0
    for cell in nb.cells:  # a copy without stored outputs: all that shows comes from this run
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count, code_cells = [], None, code_cells + 1
    nbformat.write(nb, notebook)
    browser.get(f"{lab['url']}/lab/tree/{notebook.name}?reset&token={lab['token']}")

    def opened() -> bool:
        state = browser.execute_script(CELL_STATE_JS)
        fresh = all(p.strip() == "[ ]:" for p in state["prompts"]) and not state["images"]
        ready = state["status"] == "idle" and len(state["prompts"]) == code_cells and fresh
        return ready and _kernel_idle(lab, notebook.name)

    _wait_until(opened, 60, f"the notebook to show its {code_cells} code cells, kernel idle")

    dialogs: list[str] = []
    _run_all_cells(browser, dialogs)

    def finished():
        state = browser.execute_script(CELL_STATE_JS)
        done = all(p.strip().strip("[]:").isdigit() for p in state["prompts"])
        return state if done and state["status"] == "idle" else None

    shot = REPO / "build" / f"browser-lesson{source.stem[:2]}.png"
    shot.parent.mkdir(exist_ok=True)
    state = _poll(finished, RUN_TIMEOUT)
    if state is None:
        browser.save_screenshot(str(shot))
        raise AssertionError(
            f"not every cell ran within {RUN_TIMEOUT} s (screenshot: {shot}): "
            f"{browser.execute_script(CELL_STATE_JS)}; dialogs closed: {dialogs}, "
            f"open: {browser.execute_script(DIALOGS_JS)}"
        )
    numbers = [int(p.strip().strip("[]:")) for p in state["prompts"]]
    assert numbers == list(range(1, code_cells + 1)), f"cells ran out of order: {numbers}"
    assert not state["errors"], "cells raised:\n" + "\n---\n".join(state["errors"])
    assert state["images"] >= 1, "no figure rendered"
    assert state["checks"] >= 1, "no exercise check rendered its HTML result ('Not attempted')"

    browser.execute_script(
        "document.querySelector('.jp-OutputArea-output img').scrollIntoView({block: 'center'})"
    )
    time.sleep(0.5)
    assert browser.save_screenshot(str(shot)), f"could not write {shot}"
    assert source.read_bytes() == stored, f"{source} changed: JupyterLab must only see a copy"
