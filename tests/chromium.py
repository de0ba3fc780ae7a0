"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in a NUL byte, commands on the browser's fd 3,
answers and events on its fd 4) — no driver, no websocket, nothing downloaded.

:class:`Browser` opens a page, waits for its load event, and reports what a reader would meet:
console errors, uncaught exceptions, resources that failed to load, and every image with whether
it was drawn, and the code cells' text.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Every image on the page (its file, whether the browser decoded it, whether it is a cell's output) and
# the text of every code cell, as a reader sees them.
_READ = """({images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, drawn: i.complete && i.naturalWidth > 0,
                                                         output: !!i.closest('.cell_output')})),
            code: Array.from(document.querySelectorAll('.cell_input pre')).map(e => e.innerText)})"""


def find() -> str | None:
    """The chromium executable, or None."""
    return shutil.which("chromium")


@dataclass
class Page:
    """What one page showed: its images and every error the browser reported while loading it."""

    url: str
    images: list[dict] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [image["src"] for image in self.images if not image["drawn"]]

    @property
    def figures(self) -> list[str]:
        return [image["src"] for image in self.images if image["output"]]


class Browser:
    """One headless Chromium; ``with Browser() as b: page = b.open(path)``."""

    def __init__(self, executable: str, timeout: float = 30.0):
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()
        self._timeout, self._next_id, self._buffer, self._events = timeout, 0, b"", []

        def as_fds_3_and_4():  # the protocol's fixed descriptors; dup first so that neither end overwrites the other
            reading, writing = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser))
            os.dup2(reading, 3)  # dup2 makes the copy inheritable
            os.dup2(writing, 4)

        self._profile = tempfile.mkdtemp(prefix="nnkit-chromium-")  # never the user's own profile
        self._process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={self._profile}", "--window-size=1280,1600", "--allow-file-access-from-files", "about:blank"],
            preexec_fn=as_fds_3_and_4, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self._call(f"{domain}.enable", session=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the browser and close the pipes."""
        self._process.terminate()
        self._process.wait(timeout=10)
        os.close(self._commands)
        os.close(self._answers)
        shutil.rmtree(self._profile, ignore_errors=True)

    def open(self, path: Path) -> Page:
        """Load ``path`` (a local HTML file) and report its images and errors."""
        url = path.resolve().as_uri()
        self._events.clear()
        self._call("Page.navigate", session=True, url=url)
        self._wait_for("Page.loadEventFired")
        seen = self._call("Runtime.evaluate", session=True, expression=_READ, returnByValue=True)["result"]["value"]
        return Page(url, seen["images"], seen["code"], [_error(event) for event in self._events if _error(event)])

    def screenshot(self, target: Path, scroll_to: str | None = None) -> None:
        """Save the window (1280×1600) to ``target`` (PNG), scrolled first to the element that the CSS
        selector ``scroll_to`` finds, if any."""
        if scroll_to:
            self._call("Runtime.evaluate", session=True, expression=f"document.querySelector({json.dumps(scroll_to)})?.scrollIntoView()")
        shot = self._call("Page.captureScreenshot", session=True, format="png")
        target.write_bytes(base64.b64decode(shot["data"]))

    def _call(self, method: str, session: bool = False, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        answer = self._receive(lambda m: m.get("id") == self._next_id)
        if "error" in answer:
            raise RuntimeError(f"chromium: {method}: {answer['error'].get('message')}")
        return answer["result"]

    def _wait_for(self, event: str) -> None:
        self._receive(lambda m: m.get("method") == event)

    def _receive(self, wanted) -> dict:
        """Read messages until one is ``wanted``; keep every event met on the way."""
        deadline = time.monotonic() + self._timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chromium: no answer in {self._timeout} s")
                chunk = os.read(self._answers, 1 << 16)
                if not chunk:
                    raise ConnectionError("chromium closed its end of the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if "method" in message:
                self._events.append(message)
            if wanted(message):
                return message


def _error(event: dict) -> str | None:
    """The error an event reports (a console error, an uncaught exception, a failed load), or None."""
    params = event.get("params", {})
    if event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        return "console: " + " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
    if event["method"] == "Runtime.exceptionThrown":
        return "exception: " + params["exceptionDetails"].get("text", "")
    if event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
        return f"log: {params['entry']['text']} {params['entry'].get('url', '')}".strip()
    return None
