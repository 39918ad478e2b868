"""Headless Chromium for the report self-tests: the DOM after pytest-html's script ran, a screenshot, and every
request the page tried to make.

Nothing leaves the machine: Chromium's only route out is a proxy on loopback that answers nothing. Chromium also
talks to its own services (time, component updates, accounts) whatever the flags; its net log tells them apart,
because only requests made by a document carry the document's origin as initiator ("null" for a file:// page),
the browser's own say "not an origin"."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
QUIET = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
         "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--metrics-recording-only",
         "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication")


def available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


@dataclass
class RecordingProxy:
    """Accepts connections on 127.0.0.1 and keeps the first line of each (the request Chromium tried to make)."""

    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace"))
                except OSError:
                    self.seen.append("(connection without a request line)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self.sock.close()


def page_requests(net_log: Path) -> list[str]:
    """URLs of the requests a document started (initiator is an origin), from a Chromium net log."""
    doc = json.loads(net_log.read_text())
    start = doc["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in doc["events"]
            if e["type"] == start and e.get("params", {}).get("initiator", "not an origin") != "not an origin"]


def _run(page: Path, profile: Path, proxy: RecordingProxy, net_log: Path, *args: str) -> str:
    cmd = [CHROMIUM, *QUIET, f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy.port}",
           "--proxy-bypass-list=<-loopback>", f"--log-net-log={net_log}", *args, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


def render(page: Path, screenshot: Path, work: Path, size: str = "1400,2000") -> tuple[str, list[str]]:
    """(the DOM after scripts ran, the URLs the page requested), and a PNG of the first `size` pixels."""
    work.mkdir(parents=True, exist_ok=True)
    proxy = RecordingProxy()
    try:
        dom = _run(page, work / "profile", proxy, work / "dom.netlog.json", "--dump-dom")
        _run(page, work / "profile", proxy, work / "shot.netlog.json", f"--window-size={size}", f"--screenshot={screenshot.resolve()}")
    finally:
        proxy.close()
    return dom, page_requests(work / "dom.netlog.json") + page_requests(work / "shot.netlog.json")
