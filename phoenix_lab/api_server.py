"""The lab's Proxmox REST API on :8006 over HTTPS: token and ticket auth, PVE's envelopes and reason phrases.

Error text travels in the HTTP reason phrase (proxmoxer reads `resp.reason`), bodies are `{"data": null}`
(plus `message`, as PVE >= 8.3 sends), auth failures have an empty body, and responses >= 400 close the
connection, as pve-http-server does.
"""
from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from phoenix_lab.api_routes import Api, ApiError
from phoenix_lab.api_tokens import load_tokens
from phoenix_lab.paths import LabPaths

PREFIX = "/api2/json"
AUTH_DELAY = float(os.environ.get("PHOENIX_LAB_AUTH_DELAY", "0"))  # PVE waits 3 s; the lab defaults to 0
TICKET_KEY = os.urandom(32)


def _csrf_token(user: str, stamp: str) -> str:
    return f"{stamp}:" + base64.b64encode(hmac.new(TICKET_KEY, f"csrf:{user}:{stamp}".encode(), hashlib.sha256).digest()).decode().rstrip("=")


def make_ticket(user: str) -> tuple[str, str]:
    """`PVE:<user>:<%08X time>::<sig>` and its CSRFPreventionToken `<%08X time>:<sig>` (PVE::Ticket layout)."""
    stamp = f"{int(time.time()):08X}"
    sig = base64.b64encode(hmac.new(TICKET_KEY, f"PVE:{user}:{stamp}".encode(), hashlib.sha256).digest()).decode()
    return f"PVE:{user}:{stamp}::{sig}", _csrf_token(user, stamp)


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that also survives non-ASCII input (header values arrive as latin-1)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


def check_ticket(ticket: str) -> str | None:
    try:
        _, user, stamp, _, sig = ticket.split(":", 4)
    except ValueError:
        return None
    good = base64.b64encode(hmac.new(TICKET_KEY, f"PVE:{user}:{stamp}".encode(), hashlib.sha256).digest()).decode()
    try:
        fresh = time.time() - int(stamp, 16) < 7200
    except ValueError:
        return None
    return user if fresh and _same(sig, good) else None


class PveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pve-api-daemon/3.0"
    sys_version = ""
    api: Api
    paths: LabPaths
    auth_delay: float = AUTH_DELAY

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} [{self.log_date_time_string()}] {fmt % args}\n")

    def _reply(self, status: int, reason: str, body: bytes | None, extra: dict[str, str] | None = None) -> None:
        reason = reason.split("\n", 1)[0].strip() if "\r" not in reason else "Bad Request"
        reason = reason.encode("latin-1", "replace").decode("latin-1")  # the status line is latin-1 on the wire
        self.send_response(status, reason)
        self.send_header("Cache-Control", "max-age=0")
        self.send_header("Pragma", "no-cache")
        self.send_header("Expires", email.utils.formatdate(usegmt=True))
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body or b"")))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _params(self) -> dict[str, str]:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            raw = self.rfile.read(length).decode()
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                query.update({k: str(v) for k, v in json.loads(raw or "{}").items()})
            else:
                query.update(dict(urllib.parse.parse_qsl(raw)))
        return query

    def _auth(self) -> str:
        """The caller's identity (`user@realm!token` or the ticket's user), else ApiError 401."""
        header = self.headers.get("Authorization") or ""
        cookie = self.headers.get("Cookie") or ""
        if "PVEAPIToken" in header:
            value = header.split("PVEAPIToken", 1)[1][1:].split(";", 1)[0]
            token_id, _, secret = value.rpartition("=")
            known = load_tokens(self.paths).get(token_id)
            if known and _same(known, secret.strip()):
                return token_id
            raise ApiError(401, "Authentication failed!")
        ticket = None
        if "PVEAuthCookie=" in cookie:
            ticket = urllib.parse.unquote(cookie.split("PVEAuthCookie=", 1)[1].split(";", 1)[0])
        elif header.startswith("PVEAuthCookie="):
            ticket = urllib.parse.unquote(header.split("=", 1)[1])
        if ticket is None:
            raise ApiError(401, "No ticket")
        user = check_ticket(ticket)
        if user is None:
            raise ApiError(401, "Authentication failed!")
        if self.command != "GET":
            csrf = self.headers.get("CSRFPreventionToken") or ""
            if not _same(csrf, _csrf_token(user, ticket.split(":")[2])):
                raise ApiError(401, "Permission denied - invalid csrf token")
        return user

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/api2/"):
            self._reply(501, "no such uri", b"")
            return
        if not url.path.startswith(PREFIX + "/") and url.path != PREFIX:
            self._reply(501, "no such uri", b"")
            return
        path = url.path[len(PREFIX):]
        try:
            params = self._params()
            if self.command == "POST" and path.rstrip("/") == "/access/ticket":
                self._login(params)
                return
            try:
                identity = self._auth()
            except ApiError as exc:
                time.sleep(self.auth_delay)
                self._reply(exc.status, exc.message, b"")
                return
            data = self.api.handle(self.command, path, params, identity)
            self._reply(200, "OK", json.dumps({"data": data}).encode())
        except ApiError as exc:
            self._error(exc)
        except Exception as exc:  # noqa: BLE001 - a handler crash is PVE's `die`: 500 with the text, never a dropped connection
            self.log_error("handler failed: %r", exc)
            self._error(ApiError(500, str(exc) or type(exc).__name__))

    def _error(self, exc: ApiError) -> None:
        body: dict[str, Any] = {"data": None, "message": exc.message.split("\n")[0] + "\n"}
        if exc.errors:
            body["errors"] = exc.errors
        self._reply(exc.status, exc.message, json.dumps(body).encode())

    def _login(self, params: dict[str, str]) -> None:
        user, password = params.get("username", ""), params.get("password", "")
        expected = (self.paths.secrets / "root-password").read_text().strip() if (self.paths.secrets / "root-password").exists() else None
        if user != "root@pam" or expected is None or not _same(password, expected):
            time.sleep(self.auth_delay)
            self._reply(401, "authentication failure", json.dumps({"data": None}).encode())
            return
        ticket, csrf = make_ticket(user)
        self._reply(200, "OK", json.dumps({"data": {"username": user, "ticket": ticket, "CSRFPreventionToken": csrf,
                                                     "cap": {"vms": {}, "storage": {}, "access": {}, "nodes": {}, "dc": {}, "sdn": {}, "mapping": {}}}}).encode())

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def build_server(paths: LabPaths, host: str, port: int, certfile: str, keyfile: str, api: Api | None = None,
                 auth_delay: float = AUTH_DELAY) -> ThreadingHTTPServer:
    handler = type("LabPveHandler", (PveHandler,), {"api": api or Api(paths), "paths": paths, "auth_delay": auth_delay})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"--listen {value!r}: expected ADDR:PORT, e.g. 198.18.0.13:8006")
    return host, int(port)


def ensure_root_password(paths: LabPaths) -> Path:
    """The lab's root@pam password for ticket auth (created once, mode 0600 from the start)."""
    path = paths.secrets / "root-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b32encode(os.urandom(15)).decode() + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="phoenix-lab api")
    p.add_argument("--state", required=True, type=Path)
    p.add_argument("--listen", required=True, type=_listen, help="ADDR:PORT")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--auth-delay", type=float, default=AUTH_DELAY, help="seconds before a 401 (PVE: 3; lab default 0)")
    p.add_argument("--legacy-vmid", action="store_true", help="CT list returns vmid as a string (PVE <= 8.1)")
    args = p.parse_args(argv)
    if not (args.state / "pve").is_dir():
        print(f"phoenix-lab api: --state {args.state}: no pve/ directory (the lab's /etc/pve)", file=sys.stderr)
        return 2
    paths = LabPaths(args.state, LabPaths.default().cache)
    ensure_root_password(paths)
    host, port = args.listen
    try:
        server = build_server(paths, host, port, args.cert, args.key, api=Api(paths, legacy_vmid=args.legacy_vmid),
                              auth_delay=args.auth_delay)
    except (OSError, ssl.SSLError) as exc:
        print(f"phoenix-lab api: cannot serve on {host}:{port} with {args.cert}: {exc}", file=sys.stderr)
        return 2
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
