"""Browser check: headless Chromium loads the bundled study's site offline, cleanly.

Both sites are checked: the offline renderer's and (when Quarto is available, see
:mod:`test_render_quarto`) Quarto's; every page must make 0 network requests and log 0
console errors.

Chromium is driven over the DevTools protocol through ``--remote-debugging-pipe``
(file descriptors 3 and 4, NUL-separated JSON; no websocket library, no port).
For each page we record, from the page's own session:

* ``Network.requestWillBeSent`` events whose URL is not ``file:``, ``data:``,
  ``about:`` or ``blob:`` (network requests made by the page);
* ``Runtime.consoleAPICalled`` (error/warning), ``Runtime.exceptionThrown`` and
  ``Log.entryAdded`` (error) events (console errors, failed loads);

and take screenshots. Chromium's own background
traffic (update checks, time sync) is not page traffic; it is sent to a dead
local proxy (``--proxy-server=127.0.0.1:9``) so nothing leaves the machine.

A control page with an ``http://`` image and a ``console.error`` call proves the
detector sees both. Set ``STATS_SCREENSHOTS=folder`` to write the screenshots kept in
``docs/screenshots/`` (the index's first screen at 1280x800, and the index, greeting and
words pages in full, from Quarto's site when there is one).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bundled_study import bundled_site, quarto_executable

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--hide-scrollbars",
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install -y chromium); browser check not run",
    ),
]
#: Pages written in full to $STATS_SCREENSHOTS.
SCREENSHOT_PAGES = ("index", "greeting", "words")


class Browser:
    """A minimal DevTools-protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, profile: Path, log: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # chromium reads commands on fd 3 and writes replies on fd 4; park the ends on
        # high descriptors first so the dup2 calls below cannot clobber each other
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)

        def child_fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            pass_fds=(3, 4, hi_r, hi_w),
            preexec_fn=child_fds,
        )
        for fd in (to_chrome_r, from_chrome_w, hi_r, hi_w):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and wait for its result (events received meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        """Wait until an event named ``method`` arrives."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self._log.close()


def load_page(
    browser: Browser, url: str, screenshot: Path | None = None, first_screen: Path | None = None
) -> dict[str, list[str]]:
    """Load ``url`` in a fresh tab; return its non-local requests and console errors.

    ``first_screen`` gets what a 1280x800 window shows; ``screenshot`` the whole page.
    """
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Network", "Runtime", "Log", "Page"):
        browser.send(f"{domain}.enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    browser.events.clear()
    browser.send("Page.navigate", {"url": url}, session)
    browser.wait_for("Page.loadEventFired")
    time.sleep(0.3)  # late console messages
    browser.send("Runtime.evaluate", {"expression": "1"}, session)  # flush pending events
    mine = [e for e in browser.events if e.get("sessionId") == session]
    requests = [
        e["params"]["request"]["url"]
        for e in mine
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith(LOCAL_SCHEMES)
    ]
    errors = []
    for e in mine:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "warning",
            "assert",
        ):
            errors.append(
                " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
            )
        elif method == "Runtime.exceptionThrown":
            errors.append(params.get("exceptionDetails", {}).get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", "log error"))
    if first_screen is not None:
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        first_screen.write_bytes(base64.b64decode(data))
    if screenshot is not None:
        height = browser.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.scrollHeight", "returnByValue": True},
            session,
        )["result"]["value"]
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": 1280,
                "height": min(int(height), 6000),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session,
        )
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        screenshot.write_bytes(base64.b64decode(data))
    dom_scripts = browser.send(
        "Runtime.evaluate",
        {"expression": "document.querySelectorAll('script').length", "returnByValue": True},
        session,
    )["result"]["value"]
    browser.send("Target.closeTarget", {"targetId": target})
    return {"requests": requests, "errors": errors, "scripts": [str(dom_scripts)]}


@pytest.fixture(scope="session")
def offline_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_site(tmp_path_factory)


@pytest.fixture(scope="session")
def quarto_site(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    quarto = quarto_executable()
    return bundled_site(tmp_path_factory, quarto=quarto) if quarto else None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    root = tmp_path_factory.mktemp("chromium")
    b = Browser(root / "profile", root / "chromium.log")
    yield b
    b.close()


def test_detector_sees_network_requests_and_console_errors(
    browser: Browser, tmp_path: Path
) -> None:
    control = tmp_path / "control.html"
    control.write_text(
        '<html><body><img src="http://example.invalid/pixel.png">'
        '<script>console.error("control-error")</script></body></html>'
    )
    seen = load_page(browser, control.as_uri())
    assert any(url.startswith("http://example.invalid/") for url in seen["requests"])
    assert any("control-error" in e for e in seen["errors"])


def check_site(browser: Browser, site: Path, shots: Path | None) -> dict[str, dict]:
    """Load every page; screenshots into ``shots`` when given."""
    results = {}
    for page in sorted(site.glob("*.html")):
        full = shots / f"{page.stem}.png" if shots and page.stem in SCREENSHOT_PAGES else None
        first = shots / "index-first-screen.png" if shots and page.stem == "index" else None
        results[page.name] = load_page(browser, page.as_uri(), full, first)
    assert len(results) == 12
    for name, seen in results.items():
        assert seen["requests"] == [], f"{name} made network requests: {seen['requests']}"
        assert seen["errors"] == [], f"{name} logged console errors: {seen['errors']}"
    return results


def _screenshots(kind: str, quarto_site: Path | None) -> Path | None:
    """The screenshot folder when this site is the one to photograph (Quarto's if any)."""
    target = os.environ.get("STATS_SCREENSHOTS")
    wanted = "quarto" if quarto_site is not None else "offline"
    if not target or kind != wanted:
        return None
    Path(target).mkdir(parents=True, exist_ok=True)
    return Path(target)


def test_offline_site_loads_without_network_or_console_errors(
    browser: Browser, offline_site: Path, quarto_site: Path | None, tmp_path: Path
) -> None:
    shots = _screenshots("offline", quarto_site) or tmp_path
    results = check_site(browser, offline_site, shots)
    for name, seen in results.items():
        assert seen["scripts"] == ["0"], f"{name} contains script elements"
    png = (shots / "index-first-screen.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_quarto_site_loads_without_network_or_console_errors(
    browser: Browser, quarto_site: Path | None, tmp_path: Path
) -> None:
    if quarto_site is None:
        pytest.skip(
            "no Quarto and no Quarto kit (see test_render_quarto): Quarto's site not checked"
        )
    shots = _screenshots("quarto", quarto_site) or tmp_path
    check_site(browser, quarto_site, shots)
    assert (shots / "index-first-screen.png").stat().st_size > 20_000
