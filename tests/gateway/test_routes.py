"""Strategy §3.1.2 service definitions work through the gateway; §3.3 WebSocket upgrades pass through."""
from __future__ import annotations

import httpx
import pytest

from phoenix_verify import gateway_contract, params
from phoenix_verify.access.http import websocket_opens
from phoenix_verify.gateway_contract import Route

GATEWAY_CTID = str(params.inventory().gateway().ctid) if params.inventory().gateway() else "?"
pytestmark = [pytest.mark.gateway, pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID)]
ROUTES = gateway_contract.routes(params.inventory())


def _param(route: Route) -> object:
    return pytest.param(route, id=route.name, marks=[pytest.mark.ctid(route.ct.ctid)])


def _body(route: Route) -> dict | None:
    if route.name == "vllm-chat":
        return {"model": route.model, "messages": [{"role": "user", "content": "Hello! What is your name?"}], "max_tokens": 16}
    if route.name == "vllm-embeddings":
        return {"model": route.model, "input": ["phoenix gateway check"]}
    return None


@pytest.mark.parametrize("route", [_param(r) for r in ROUTES])
def test_route_answers_through_the_gateway(route: Route, gw_clients: dict[str | None, httpx.Client]) -> None:
    client = gw_clients[route.hostname]
    resp = client.request(route.method, route.path, json=_body(route), follow_redirects=True)
    assert resp.status_code == 200, f"{route.method} https://{route.hostname}{route.path} -> {resp.status_code}: {resp.text[:200]}"
    if route.model:
        assert resp.json()["model"] == route.model


@pytest.mark.parametrize("route", [_param(r) for r in ROUTES if r.by_hostname_only])
def test_hostname_only_service_is_not_reachable_by_gateway_ip(route: Route, gw_clients: dict[str | None, httpx.Client]) -> None:
    """The IP vhost must not fall through to the hostname-only service (Portainer is admin-only)."""
    own = gw_clients[route.hostname].get(route.path).text
    resp = gw_clients[None].get(route.path)
    assert resp.status_code >= 400 or resp.text != own, f"https://<gateway ip>{route.path} serves {route.name}"


@pytest.mark.parametrize("route", [_param(r) for r in ROUTES if r.websocket])
def test_websocket_upgrade_passes_through(route: Route) -> None:
    assert websocket_opens(params.target(), route.hostname, route.websocket) is None
