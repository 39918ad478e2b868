"""Session clients for the gateway layer: one httpx client per served hostname plus one for the bare IP."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from phoenix_verify.access.http import gateway_client
from phoenix_verify.suite import params


@pytest.fixture(scope="session")
def gw_clients() -> Iterator[dict[str | None, httpx.Client]]:
    tgt = params.target()
    clients: dict[str | None, httpx.Client] = {h: gateway_client(tgt, h) for h in tgt.gateway_hostnames}
    clients[None] = gateway_client(tgt, None)
    yield clients
    for c in clients.values():
        c.close()
