"""Refuse any connection outside loopback and the lab range (198.18.0.0/15), before a packet leaves.

Installed by the self-tests (selftest/conftest.py): the real Phoenix addresses (10.0.0.0/24) are in the
reference configs, and a bug that dials them must fail the test at once instead of sending traffic.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

ALLOWED = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"), ipaddress.ip_network("198.18.0.0/15"))


class EgressRefused(ConnectionRefusedError):
    """Raised instead of connecting; it is a ConnectionError so callers handle it like a refusal."""


def allowed(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host in ("localhost",)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return any(addr in net for net in ALLOWED)


def check(address: Any) -> None:
    if isinstance(address, (str, bytes)) or address is None:  # unix socket paths
        return
    host, port = str(address[0]), address[1]
    if not allowed(host):
        raise EgressRefused(f"egress guard: refused connection to {host}:{port} (outside loopback and the lab range 198.18.0.0/15)")


class Guard:
    """Patch socket connect paths; `uninstall()` restores them."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Callable[..., Any]]] = []

    def install(self) -> Guard:
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            return original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            return original_connect_ex(sock, address)

        self._patch(socket.socket, "connect", connect)
        self._patch(socket.socket, "connect_ex", connect_ex)
        return self

    def _patch(self, owner: Any, name: str, value: Callable[..., Any]) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def uninstall(self) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            setattr(owner, name, value)
