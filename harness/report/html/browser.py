"""A tiny Chrome DevTools Protocol client over the system's headless chromium, for checking a report
the way a reader's browser shows it (tests/test_html_report.py, bench/report_size.py).

It uses the chromium already installed (Debian's `chromium` package); it never downloads a browser.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = ("chromium is not installed; the HTML report tests need a real headless browser. Install "
                "Debian's package: apt-get update && apt-get install -y chromium (bash .ci/run does this)")


def chromium_binary() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def base_flags() -> list[str]:
    flags = ["--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
             "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
             "--mute-audio"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")   # chromium refuses to run as root with its sandbox
    return flags


class Browser:
    """One headless chromium with one page, driven over CDP (a websocket on a local port)."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30) -> None:
        from websockets.sync.client import connect

        binary = chromium_binary()
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self._profile = tempfile.mkdtemp(prefix="harness-chromium-")
        self.proc = subprocess.Popen(
            [binary, *base_flags(), f"--window-size={width},{height}", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._connection = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=timeout)
        self.ws = self._connection.__enter__()
        self._ids = itertools.count(1)
        self.timeout = timeout
        self.events: list[dict] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def send(self, method: str, session: str | None = None, **params: Any) -> dict:
        msg_id = next(self._ids)
        message = {"id": msg_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def call(self, method: str, **params: Any) -> dict:
        return self.send(method, self.session, **params)

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> float:
        """Navigate and wait until the document is loaded; the seconds it took."""
        start = time.monotonic()
        self.call("Page.navigate", url=url)
        deadline = start + self.timeout
        while self.eval("document.readyState") != "complete" or self.eval("location.href") != url:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            time.sleep(0.02)
        return time.monotonic() - start

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the centre of the element."""
        box = self.eval(f"(function(){{var e=document.querySelector({json.dumps(selector)});e.scrollIntoView();"
                        "var r=e.getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2];})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_text(self, selector: str, text: str) -> None:
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def dump_dom(path: Path, timeout: float = 60) -> str:
    """`chromium --headless --dump-dom file://...`: the DOM after the page's scripts ran."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        out = subprocess.run([binary, *base_flags(), f"--user-data-dir={profile}", "--dump-dom",
                              path.resolve().as_uri()], capture_output=True, text=True, timeout=timeout)
    return out.stdout


def screenshot_file(path: Path, png: Path, size: str = "1280,1600", timeout: float = 60) -> Path:
    """`chromium --headless --screenshot=PNG file://...`."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        subprocess.run([binary, *base_flags(), f"--user-data-dir={profile}", f"--window-size={size}",
                        f"--screenshot={png.resolve()}", path.resolve().as_uri()],
                       capture_output=True, timeout=timeout)
    return png
