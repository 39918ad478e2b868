"""A hung service (it accepts connections and never answers) is found once: the first probe of it that times out
marks its CT hung, and the remaining vllm/gateway checks of that CT fail at once naming it, instead of each one
waiting for its own timeout. Per process (each xdist worker learns it on its own first timeout). A connect timeout
is not a hung service but a dropped port, whoever's it is: access/dropped.py remembers those, per (address, port)."""
from __future__ import annotations

import pytest

from phoenix_verify.access import dropped

LAYERS = ("vllm", "gateway")
_hung: dict[int, str] = {}


def is_timeout(exc: BaseException) -> bool:
    """httpx's, openai's and the socket layer's timeouts (by type name: the SDKs do not share a base class), except
    a connect to a dropped port."""
    if dropped.caused_by_drop(exc):
        return False
    return isinstance(exc, TimeoutError) or any("Timeout" in cls.__name__ for cls in type(exc).__mro__)


def mark(ctid: int, what: str) -> None:
    _hung.setdefault(ctid, what)


def reason(ctid: int | None) -> str | None:
    return None if ctid is None else _hung.get(ctid)


def fail_if_hung(ctid: int | None, layer: str | None) -> None:
    why = reason(ctid) if layer in LAYERS else None
    if why:
        pytest.fail(f"ct{ctid} is hung: {why}; not asked again", pytrace=False)


def reset() -> None:
    _hung.clear()
