"""A tiny stdlib HTTP/1.1 base for the in-CT services: JSON in/out, SSE, a WebSocket handshake, TLS.

The services run on the CT's own Debian python3 (plus a venv for model/engine deps), so they avoid web
frameworks; what matters is that their wire behaviour matches the product they stand in for.
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_IDLE_SECONDS = 300
HANDSHAKE_TIMEOUT_S = 10   # a TLS client must finish its handshake within this


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "phoenix-lab"

    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    def body_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"null")

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def sse(self, payload: Any) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def websocket_accept(self) -> bool:
        """RFC 6455 handshake, a greeting text frame, then pings answered until the client closes (or goes quiet)."""
        key = self.headers.get("Sec-WebSocket-Key")
        if not key or "websocket" not in (self.headers.get("Upgrade") or "").lower():
            return False
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.close_connection = True
        self._ws_send(0x1, json.dumps({"type": "hello", "server": self.server_version}).encode())
        self.connection.settimeout(WS_IDLE_SECONDS)
        try:
            while (frame := self._ws_read()) is not None:
                opcode, payload = frame
                if opcode == 0x8:
                    self._ws_send(0x8, payload[:2])
                    break
                if opcode == 0x9:
                    self._ws_send(0xA, payload)
        except (OSError, ValueError):
            pass
        return True

    def _ws_send(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        head = struct.pack("!BB", 0x80 | opcode, size) if size < 126 else struct.pack("!BBH", 0x80 | opcode, 126, size)
        self.wfile.write(head + payload)
        self.wfile.flush()

    def _ws_read(self) -> tuple[int, bytes] | None:
        """One client frame (clients always mask); None at EOF."""
        head = self.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, size = head[0] & 0x0F, head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", self.rfile.read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(size)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def dispatch(self) -> None:
        name = self.route(self.command, self.path_only)
        if name is None:
            self.not_found()
            return
        getattr(self, name)()

    def route(self, method: str, path: str) -> str | None:
        return None

    def not_found(self) -> None:
        self.send_json(404, {"detail": "Not Found"})

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()


class TLSThreadingHTTPServer(ThreadingHTTPServer):
    """TLS with the handshake in each connection's own thread: wrapping the listening socket would handshake inside
    accept(), where one client that connects and stalls (a port probe, a half-open proxy connection) blocks every
    other client of the server."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request, client_address) -> None:
        if self.tls is not None:
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            request = self.tls.wrap_socket(request, server_side=True)
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        """A client that drops during the handshake is routine (port probes); keep the log for real errors."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, TimeoutError, ConnectionError)):
            super().handle_error(request, client_address)


def serve(handler: type[Handler], host: str, port: int, certfile: str | None = None, keyfile: str | None = None) -> None:
    server = TLSThreadingHTTPServer((host, port), handler)
    if certfile:
        server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        server.tls.load_cert_chain(certfile, keyfile)
    server.serve_forever()


def tcp_listener(host: str, port: int) -> None:
    """A declared side port (qdrant gRPC, portainer agent) that accepts and closes, so port probes see it."""
    def loop() -> None:
        with socket.socket() as srv:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((host, port))
            srv.listen(8)
            while True:
                conn, _ = srv.accept()
                conn.close()

    threading.Thread(target=loop, daemon=True).start()
