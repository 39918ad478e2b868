"""The self-tests' egress guard refuses anything outside loopback and 198.18.0.0/15, without sending."""
from __future__ import annotations

import socket
import time

import httpx
import pytest

from phoenix_verify.suite.egress_guard import EgressRefused, allowed


@pytest.mark.parametrize("host", ["10.0.0.153", "10.0.0.1", "172.16.0.1", "192.168.1.1", "8.8.8.8", "::ffff:10.0.0.1", "2001:db8::1"])
def test_outside_addresses_are_refused(host: str) -> None:
    assert not allowed(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        start = time.monotonic()
        with pytest.raises(EgressRefused, match=r"egress guard: refused connection to .* \(outside loopback and the lab range 198.18.0.0/15\)"):
            sock.connect((host, 443) if family == socket.AF_INET else (host, 443, 0, 0))
        assert time.monotonic() - start < 0.5


def test_httpx_to_real_phoenix_address_fails_at_once() -> None:
    with pytest.raises(httpx.ConnectError, match="egress guard"):
        httpx.get("http://10.0.0.153/qdrant/healthz", timeout=5)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.10.153", "::1", "198.18.0.153", "198.19.255.1", "localhost"])
def test_loopback_and_lab_are_allowed(host: str) -> None:
    assert allowed(host)


def test_loopback_connection_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_asyncio_connection_is_refused_too() -> None:
    import asyncio

    async def dial() -> None:
        await asyncio.wait_for(asyncio.open_connection("10.0.0.153", 443), timeout=5)

    start = time.monotonic()
    with pytest.raises(EgressRefused, match="egress guard: refused connection to 10.0.0.153:443"):
        asyncio.run(dial())
    assert time.monotonic() - start < 0.5
