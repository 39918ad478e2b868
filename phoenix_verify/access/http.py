"""httpx clients for the gateway: connect to the gateway address, speak TLS with SNI and Host set to a served
hostname, verify against the target's CA bundle. Every client has a timeout; nothing retries. A port whose connect timed out
once fails at once afterwards (access/dropped.py), in every client here and in the TLS probes.

Direct requests to a service CT go through `pct exec` + curl inside the CT (service ports only accept the
gateway's address, so the host cannot reach them), see `direct_get`.
"""
from __future__ import annotations

import json
import shlex
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from websockets.exceptions import InvalidHandshake
from websockets.sync.client import connect

from phoenix_verify.access import dropped, probe_log
from phoenix_verify.access.pct_backend import pct_host, spec_for
from phoenix_verify.target import Target

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _PinnedHostTransport(httpx.BaseTransport):
    """Sends every request to the gateway address while presenting `hostname` as SNI and Host."""

    def __init__(self, hostname: str, inner: httpx.BaseTransport) -> None:
        self.hostname = hostname
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Host"] = self.hostname
        if request.url.scheme == "https":
            request.extensions["sni_hostname"] = self.hostname
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class _DroppedConnect(httpcore.ConnectTimeout, dropped.PortDropped):
    """httpcore's connect timeout that is also a PortDropped (httpcore's pool drops exception causes: `from None`)."""


class _DropAwareBackend(httpcore.SyncBackend):
    """httpcore's TCP connect, consulting and feeding the session's dropped ports (the TLS handshake comes after
    connect_tcp, so its timeouts are never taken for a dropped port)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        seen = dropped.known(host, port)
        if seen is not None:
            raise _DroppedConnect(str(seen))
        try:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        except httpcore.ConnectTimeout:
            raise _DroppedConnect(str(dropped.record(host, port, timeout))) from None


class DropAwareTransport(httpx.HTTPTransport):
    """httpx's transport on _DropAwareBackend. httpx takes no network backend, so the pool is rebuilt here as
    HTTPTransport builds it for a direct connection (httpx 0.28, pinned in constraints.txt), backend aside."""

    def __init__(self, verify: ssl.SSLContext) -> None:
        super().__init__(verify=verify)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)   # httpx's defaults
        self._pool = httpcore.ConnectionPool(ssl_context=verify, max_connections=limits.max_connections,
                                             max_keepalive_connections=limits.max_keepalive_connections,
                                             keepalive_expiry=limits.keepalive_expiry,
                                             network_backend=_DropAwareBackend())


def ssl_context(target: Target) -> ssl.SSLContext:
    """Verifying context trusting only the target's gateway CA (the system store when none is configured)."""
    return ssl.create_default_context(cafile=target.gateway_ca_bundle) if target.gateway_ca_bundle else ssl.create_default_context()


def gateway_client(target: Target, hostname: str | None, scheme: str = "https",
                   timeout: httpx.Timeout = TIMEOUT, **kwargs: Any) -> httpx.Client:
    """Client whose relative URLs hit the gateway; `hostname=None` addresses the gateway by its IP (IP vhost)."""
    if not target.gateway_address:
        raise ValueError(f"{target.source}: gateway.address is not configured")
    inner = DropAwareTransport(ssl_context(target) if hostname else _ip_context(target))
    transport = _PinnedHostTransport(hostname, inner) if hostname else inner
    if probe_log.enabled():
        kwargs["event_hooks"] = {"request": [lambda req: probe_log.record(
            "http", hostname=hostname, scheme=scheme, method=req.method, path=req.url.raw_path.decode(),
            body=req.content.decode("latin-1"))]}
    return httpx.Client(base_url=f"{scheme}://{target.gateway_address}", transport=transport,
                        timeout=timeout, **kwargs)


def plaintext_client(target: Target, port: int, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    """Plain HTTP to the gateway address on `port` (Host set per request), no redirects followed."""
    if not target.gateway_address:
        raise ValueError(f"{target.source}: gateway.address is not configured")
    return httpx.Client(base_url=f"http://{target.gateway_address}:{port}", timeout=timeout, follow_redirects=False,
                        transport=DropAwareTransport(ssl_context(target)))


def _ip_context(target: Target) -> ssl.SSLContext:
    """For the IP vhost: chain still verified, hostname not (the cert names hostnames, not the IP)."""
    ctx = ssl_context(target)
    ctx.check_hostname = False
    return ctx


@dataclass(frozen=True)
class DirectResponse:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


CURL_TIMED_OUT = 28   # curl's exit status for "Operation timed out"


def direct_request(ctid: int, access: str, method: str, port: int, path: str, body: Any = None,
                   timeout: float = 10.0, scheme: str = "http") -> DirectResponse:
    """A request to 127.0.0.1:port from inside the CT (curl via one pct exec); status 0 = no connection.
    HTTPS is not verified here: the service's own certificate is the gateway's concern (proxy_ssl_verify)."""
    cmd = ["curl", "-sS", "-k", "-m", str(int(timeout)), "-o", "-", "-w", r"\n%{http_code}", "-X", method,
           f"{scheme}://127.0.0.1:{port}{path}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = pct_host(spec_for(ctid, access)).run(" ".join(shlex.quote(c) for c in cmd))
    if out.rc == CURL_TIMED_OUT:
        raise TimeoutError(f"ct{ctid}: {method} {scheme}://127.0.0.1:{port}{path} got no answer within {int(timeout)}s inside the CT")
    text, _, code = out.stdout.rpartition("\n")
    return DirectResponse(int(code) if code.strip().isdigit() else 0, text)


def websocket_opens(target: Target, hostname: str, path: str, timeout: float = 5.0) -> str | None:
    """Open a WebSocket through the gateway (SNI/Host = hostname); None on success, else the reason."""
    probe_log.record("ws", hostname=hostname, path=path)
    if not target.gateway_address:
        raise ValueError(f"{target.source}: gateway.address is not configured")
    sock = dropped.connect(target.gateway_address, 443, timeout)
    try:
        with connect(f"wss://{hostname}{path}", sock=sock, ssl=ssl_context(target), server_hostname=hostname,
                     open_timeout=timeout, close_timeout=1):
            return None
    except (InvalidHandshake, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
