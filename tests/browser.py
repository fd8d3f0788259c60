"""A small headless-Chromium driver for report tests and the screenshot script.

Drives the Debian packages ``chromium`` and ``chromium-driver`` through Selenium (the ``test`` extra).
Playwright's own browser download does not work offline, so the system browser is used. Everything is local:
the page is opened from a ``file://`` URL and the browser is started with every background service off, so
any request the performance log records comes from the page itself.

    with Browser() as b:
        b.open(path)
        b.console_errors(), b.network_requests(), b.screenshot("shot.png")

:func:`unavailable_reason` says why a browser cannot be started (missing package or Selenium); tests skip with it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

#: Where Debian puts the browser and its driver (``apt-get install chromium chromium-driver``);
#: CHROMIUM / CHROMEDRIVER environment variables override.
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)

#: Flags for a quiet, reproducible, sandbox-free headless browser (containers run as root, no GPU).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    "--font-render-hinting=none",
    "--mute-audio",
)

#: Viewports used by the tests and the screenshot script: a laptop and a phone (iPhone 12/13/14 CSS width).
DESKTOP = (1280, 900)
PHONE = (390, 844)


def _which(env: str, candidates: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env] if Path(os.environ[env]).exists() else None
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_path() -> str | None:
    return _which("CHROMIUM", CHROMIUM_CANDIDATES)


def chromedriver_path() -> str | None:
    return _which("CHROMEDRIVER", CHROMEDRIVER_CANDIDATES)


def unavailable_reason() -> str | None:
    """None when a headless browser can be started, else a sentence saying what to install."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    if chromium_path() is None:
        return "chromium not found: apt-get install chromium chromium-driver (or set CHROMIUM)"
    if chromedriver_path() is None:
        return "chromedriver not found: apt-get install chromium-driver (or set CHROMEDRIVER)"
    return None


class Browser:
    """One headless Chromium with a fresh profile, console and network logging on.

    ``javascript=False`` starts it with scripts disabled (to check the page reads without them).
    """

    def __init__(self, size: tuple[int, int] = DESKTOP, javascript: bool = True):
        self.size = size
        self.javascript = javascript
        self.driver: Any = None
        self._profile: tempfile.TemporaryDirectory | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> "Browser":
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.TemporaryDirectory(prefix="feedback-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium_path()
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        options.add_argument(f"--window-size={self.size[0]},{self.size[1]}")
        if not self.javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        # An explicit driver path: Selenium Manager (which would download a driver) is never started.
        service = Service(executable_path=chromedriver_path())
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            self._profile.cleanup()
            raise
        self.driver.set_page_load_timeout(30)
        self.set_viewport(*self.size)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.driver is not None:
                self.driver.quit()
        finally:
            if self._profile is not None:
                self._profile.cleanup()

    # -- navigation --------------------------------------------------------------------------------
    def set_viewport(self, width: int, height: int) -> None:
        """Emulate a device of this CSS size; phones (< 700 px) get mobile emulation (meta viewport honoured)."""
        self.size = (width, height)
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
        )

    def open(self, path: str | Path) -> None:
        """Load a local HTML file and clear the logs of anything before it."""
        self.drain_logs()
        self.driver.get(Path(path).resolve().as_uri())

    def drain_logs(self) -> None:
        for kind in ("browser", "performance"):
            self.driver.get_log(kind)

    def run(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    # -- checks ------------------------------------------------------------------------------------
    def console_messages(self) -> list[dict]:
        """Console entries since the last call (level, message); the log is emptied by reading it."""
        return self.driver.get_log("browser")

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.console_messages() if e.get("level") in ("SEVERE", "ERROR")]

    def network_requests(self) -> list[str]:
        """URLs the page requested since the last call, except the page's own ``file://`` document load.

        Read from the DevTools performance log (``Network.requestWillBeSent``), which records every fetch,
        including ``data:`` images and blocked ones; an empty list means the page asked for nothing.
        """
        page = self.driver.current_url
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            params = message.get("params", {})
            url = params.get("request", {}).get("url", "")
            if params.get("type") == "Document" and url == page:
                continue
            urls.append(url)
        return urls

    def screenshot(self, path: str | Path | None = None, full_page: bool = True) -> bytes:
        """PNG of the viewport or of the whole page at the current width; written to ``path`` when given."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            width, height = self.run(
                "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": max(width, self.size[0]), "height": height, "scale": 1}
        data = base64.b64decode(self.driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"])
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def print_pdf(self) -> bytes:
        """The page printed to PDF (print stylesheet applied, ``beforeprint`` fired), as bytes."""
        return base64.b64decode(self.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"])

    def emulate_print(self, on: bool = True) -> None:
        """Apply the print stylesheet to the live page (CSS media emulation) so layout can be inspected."""
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print" if on else ""})
