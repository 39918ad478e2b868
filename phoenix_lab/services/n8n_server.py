"""An n8n stand-in: /healthz, /healthz/readiness, the UI (a single-page app) and the push WebSocket at /rest/push.

Like n8n with `N8N_PATH=/n8n/` behind a proxy that strips the prefix: the UI's `<base href>` carries the public
base path, requests that still carry the prefix are served as if it were stripped, and unknown GET paths get the
UI (SPA fallback), so `curl -L https://gateway/n8n` ends in 200. Readiness needs the database file in the data dir
(the dedicated volume /home/node/.n8n), which the service must be able to write.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from httpbase import Handler, serve

VERSION = "1.123.0"
DATA_DIR = Path("/home/node/.n8n")
BASE_PATH = "/"


def ui_html() -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<base href=\"{BASE_PATH}\"><title>n8n.io - Workflow Automation</title></head>"
            "<body><div id=\"app\">n8n</div></body></html>")


class N8nHandler(Handler):
    server_version = "n8n"

    @property
    def app_path(self) -> str:
        path = self.path_only
        prefix = BASE_PATH.rstrip("/")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix):] or "/"
        return path

    def route(self, method: str, path: str) -> str | None:
        path = self.app_path
        named = {("GET", "/healthz"): "health", ("GET", "/healthz/readiness"): "readiness",
                 ("GET", "/rest/push"): "push", ("GET", "/rest/settings"): "settings"}.get((method, path))
        if named:
            return named
        if method in ("GET", "HEAD") and not path.startswith(("/rest/", "/api/", "/webhook")):
            return "ui"
        return None

    def not_found(self) -> None:
        self.send_json(404, {"code": 404, "message": "Not Found"})

    def health(self) -> None:
        self.send_json(200, {"status": "ok"})

    def readiness(self) -> None:
        ready = (DATA_DIR / "database.sqlite").is_file()
        self.send_json(200 if ready else 503, {"status": "ok" if ready else "error"})

    def ui(self) -> None:
        self.send_text(200, ui_html(), "text/html; charset=utf-8")

    def settings(self) -> None:
        self.send_json(200, {"data": {"versionCli": VERSION, "pushBackend": "websocket", "path": BASE_PATH}})

    def push(self) -> None:
        if not self.websocket_accept():
            self.send_json(400, {"code": 400, "message": "Push endpoint requires a WebSocket upgrade"})


def main() -> None:
    global DATA_DIR, BASE_PATH
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=int(os.environ.get("N8N_PORT", "5678")))
    p.add_argument("--data", type=Path, default=Path(os.environ.get("N8N_USER_FOLDER", str(DATA_DIR))))
    p.add_argument("--base-path", default=os.environ.get("N8N_PATH", "/"))
    args = p.parse_args()
    DATA_DIR = args.data
    BASE_PATH = "/" + args.base_path.strip("/") + "/" if args.base_path.strip("/") else "/"
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        (DATA_DIR / "database.sqlite").touch()
    except OSError as exc:   # a data dir the service cannot write keeps readiness at 503, as n8n's DB check would
        print(f"n8n: cannot write {DATA_DIR}: {exc.strerror}", flush=True)
    serve(N8nHandler, args.host, args.port)


if __name__ == "__main__":
    main()
