"""The operator's view end to end: `quantdesk paper` in its own process, the dashboard in
headless Chromium. The banner turns as heat rises, a trade appears, flatten empties the
positions. A screenshot is left in var/e2e/ as the run's artefact."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ARTEFACTS = Path(__file__).parents[2] / "var" / "e2e"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail("chromium is not installed and REQUIRE_SERVICES=1 (make test installs it)")
    pytest.skip("chromium is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QD_")}
    env["QD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'e2e.db'}"
    # 12 shares of a ~1,000 stock without a stop: ~12,000 of heat, 60% of the 20,000 cap
    command = [
        sys.executable, "-m", "quantdesk", "paper", "--speed", "600",
        "--param", "fast=10", "--param", "slow=30", "--param", "qty=12",
        "--port", str(port), "--run-dir", str(tmp_path / "run"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if process.poll() is not None:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"quantdesk paper exited early:\n{output}")
                time.sleep(0.2)
        else:
            pytest.fail("the operator API did not come up within 60 s")
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_banner_trade_and_flatten_in_the_browser(desk: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(desk + "/")
        banner = page.locator("#banner")
        page.wait_for_function("document.querySelector('#conn').dataset.state === 'live'")
        assert banner.get_attribute("data-colour") == "green"  # flat at the start
        page.wait_for_function(
            "document.querySelector('#banner').dataset.colour === 'yellow'", timeout=60_000
        )
        page.wait_for_selector("#trades tbody tr", timeout=60_000)  # a round trip closed
        page.wait_for_selector("#positions tbody tr", timeout=90_000)  # holding again
        page.screenshot(path=str(ARTEFACTS / "dashboard-holding.png"), full_page=True)
        page.click("button[data-action=flatten]")
        page.click("#confirm-ok")
        page.wait_for_function(
            "document.querySelectorAll('#positions tbody tr').length === 0", timeout=15_000
        )
        page.wait_for_function(
            "document.querySelector('#banner').dataset.colour === 'green'", timeout=15_000
        )
        assert "KILL SWITCH" in page.inner_text("#trading")
        page.screenshot(path=str(ARTEFACTS / "dashboard-flat.png"), full_page=True)
        browser.close()
    state = httpx.get(desk + "/state", timeout=5).json()
    assert state["positions"] == [] and state["kill_switch"] is True
