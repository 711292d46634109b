"""The visualiser used as a person would: served by `flywheel viz`, driven in headless Chromium.

Needs Debian's Chromium at /usr/bin/chromium and Playwright's Python package
(`apt-get install chromium && pip install playwright`). Without them the test is
skipped, unless FLYWHEEL_REQUIRE_BROWSER=1 (CI), when it fails. With
FLYWHEEL_UPDATE_SCREENSHOT=1 it also copies its screenshot to docs/img/viz.png.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "img" / "viz.png"
START_TIMEOUT_S = 90.0
UI_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Chromium ({CHROMIUM})")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright Python package")
    if not missing:
        return
    message = (
        f"browser test needs {' and '.join(missing)}: "
        "apt-get install chromium && pip install playwright"
    )
    if os.environ.get("FLYWHEEL_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (FLYWHEEL_REQUIRE_BROWSER=1)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and its `solara run` child (one process group)."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`flywheel viz` on a free loopback port; yields its URL and always stops it."""
    _require_browser()
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "FLYWHEEL_VIZ_CONFIG"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "viz", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"flywheel viz exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"flywheel viz did not answer at {url}:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)


def test_step_change_policy_and_reset_in_a_real_browser(server: str, tmp_path: Path) -> None:
    """Stepping moves the day and the charts; a reset rebuilds the model with the new ad mode."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1250})
            page.goto(server)
            status = page.locator(".fw-status")
            try:
                expect(status).to_contain_text("Day 0 ", timeout=UI_TIMEOUT_MS)
            except AssertionError:
                log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
                hint = (
                    " (Solara could not fetch its JavaScript: install solara-assets)"
                    if "Could not load URL" in log
                    else ""
                )
                pytest.fail(f"the page never showed day 0{hint}; server log:\n{log}")
            expect(status).to_contain_text("ad_mode labelled")
            charts = page.locator(".fw-charts")
            charts_before = charts.screenshot()

            step = page.get_by_role("button", name="Step")
            for day in range(1, 4):
                step.click()
                expect(status).to_contain_text(f"Day {day} ", timeout=UI_TIMEOUT_MS)
            expect(page.get_by_text("Step: 3")).to_be_visible()  # Mesa's own counter agrees
            assert charts.screenshot() != charts_before, "charts did not change after 3 steps"

            page.locator(".v-select").filter(has_text="Assistant ad mode").click()
            page.get_by_role("option", name="blended").click()
            page.get_by_role("button", name="Reset").click()
            expect(status).to_contain_text("Day 0 ", timeout=UI_TIMEOUT_MS)
            expect(status).to_contain_text("ad_mode blended")
            expect(page.get_by_text("Step: 0")).to_be_visible()

            # A few days of the blended run, so that the screenshot shows data.
            for day in range(1, 21):
                step.click()
                expect(status).to_contain_text(f"Day {day} ", timeout=UI_TIMEOUT_MS)
            expect(status).to_contain_text("ad_mode blended")
            shot = tmp_path / "viz.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("FLYWHEEL_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_stopping_flywheel_viz_stops_the_server_it_started(tmp_path: Path) -> None:
    """SIGTERM to `flywheel viz` alone (not to a process group the test made): the
    `solara run` server it started, in its own process group, is gone afterwards and
    the port is free again."""
    import psutil

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FLYWHEEL_VIZ_CONFIG"}
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "viz", "--port", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        children: list[psutil.Process] = []
        while not children and time.monotonic() < deadline:
            children = psutil.Process(proc.pid).children(recursive=True)
            time.sleep(0.2)
        assert children, log_path.read_text()
        group = os.getpgid(children[0].pid)
        assert group != os.getpgid(proc.pid)  # the server runs in its own group
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        left = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == group]
        assert not left, left
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))  # nothing serves it any more
    finally:
        _stop(proc)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
