"""Dropped ports, found once: the first TCP connect to (address, port) that times out (a firewall dropping the
SYN, e.g. a DROP policy with no rule for the port) is remembered for the session, and every later connect to the
same (address, port) fails at once with the same evidence instead of waiting out its own connect timeout.

Only a connect timeout counts: a refused port already fails at once, a success is never cached, and a timeout
after the connection is open (a slow model, a stalled TLS handshake) is the service's, not the port's. Per process,
like suite/hung.py (each xdist worker learns it on its own first timeout); the plugin resets it per session."""
from __future__ import annotations

import os
import socket


class PortDropped(TimeoutError):
    """A connect that timed out, now or earlier in the session (the message says which probe saw it first)."""


_dropped: dict[tuple[str, int], PortDropped] = {}


def known(address: str, port: int) -> PortDropped | None:
    """The evidence of an earlier connect timeout to (address, port), if any."""
    return _dropped.get((address, port))


def record(address: str, port: int, timeout: float | None) -> PortDropped:
    """Remember a connect timeout (the first evidence wins) and return the error to raise."""
    after = f"after {timeout:g} s" if timeout is not None else "(no timeout set)"
    return _dropped.setdefault((address, port), PortDropped(
        f"{address}:{port} dropped: connect timed out {after} (first seen by {_current_probe()})"))


def connect(address: str, port: int, timeout: float) -> socket.socket:
    """socket.create_connection that fails at once on a port already known to drop, and remembers a new one."""
    seen = known(address, port)
    if seen is not None:
        raise PortDropped(str(seen))
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:   # socket.timeout: the SYN got no answer within `timeout`
        raise PortDropped(str(record(address, port, timeout))) from None


def caused_by_drop(exc: BaseException) -> bool:
    """Whether `exc` is, or was raised from, a dropped port (httpx and the SDKs wrap it in their own timeouts)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, PortDropped):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def reset() -> None:
    _dropped.clear()


def _current_probe() -> str:
    """The test that is running (pytest sets PYTEST_CURRENT_TEST to "<nodeid> (<phase>)"), else a plain label."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.rsplit(" (", 1)[0] if current else "an earlier probe"
