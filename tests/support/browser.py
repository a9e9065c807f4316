"""Test support: headless Debian Chromium driven by selenium through Debian's chromedriver.

`make install` installs both (scripts/ensure-chromium.sh); nothing is ever downloaded.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.processes import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = REPO_ROOT / "docs" / "console"
# `make screenshots` sets this to refresh the README's pictures; otherwise a test run leaves the
# committed files alone and saves its screenshots in a temporary folder.
UPDATE_SCREENSHOTS_ENV = "COMMERCE_GATEWAY_UPDATE_SCREENSHOTS"
WAIT_SECONDS = 15.0
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile; quits (closing its connections) afterwards."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        try:
            driver.set_page_load_timeout(WAIT_SECONDS)
            yield driver
        finally:
            driver.quit()


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> None:
    """Waits (polling, with a deadline) until `condition(driver)` is truthy."""
    WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(condition, f"waiting for {what}")


def screenshot(driver: WebDriver, name: str) -> Path:
    """Saves the current page as <name>.png: in docs/console/ (shown by the README) when
    COMMERCE_GATEWAY_UPDATE_SCREENSHOTS=1, else in a temporary folder."""
    folder = SCREENSHOTS
    if os.environ.get(UPDATE_SCREENSHOTS_ENV) != "1":
        folder = Path(tempfile.gettempdir()) / "commerce-gateway-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
