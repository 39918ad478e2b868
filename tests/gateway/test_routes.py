"""Strategy §3.1.2 service definitions work through the gateway; §3.3 WebSocket upgrades pass through."""
from __future__ import annotations

import httpx
import pytest

from phoenix_verify.access import routing
from phoenix_verify.access.http import websocket_opens
from phoenix_verify.checks.routing import NO_CONNECTION
from phoenix_verify.gateway.contract import Route
from phoenix_verify.suite import live, params

GATEWAY_CTID = str(params.inventory().gateway().ctid) if params.inventory().gateway() else "?"
pytestmark = [pytest.mark.rung("gateway-route"), pytest.mark.gateway, pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID)]
ROUTES = params.routes()


def _param(route: Route) -> object:
    return pytest.param(route, id=route.test_id, marks=[pytest.mark.ctid(route.ct.ctid)])


@pytest.mark.parametrize("route", [_param(r) for r in ROUTES])
def test_route_answers_through_the_gateway(route: Route, gw_clients: dict[str | None, httpx.Client]) -> None:
    """The gateway passes the declared service's answer through; a service that is down itself is its own
    layer's failure, so the route is then not judged."""
    live.require_service(route.ct)
    live.require_gateway_path(route.ct)
    result = routing.verdict(params.target(), route, *routing.probe_gateway(params.target(), route, gw_clients[route.hostname]))
    if result.gateway_status == NO_CONNECTION:
        pytest.skip(f"the gateway cannot be reached at all; its TLS and service tests report it ({result.detail})")
    if result.upstream_down and result.gateway_status != 200:
        pytest.skip(f"{route.ct.slug} does not answer inside its CT either ({result.detail})")
    assert result.routed, result.detail


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.name}-by-gateway-ip", marks=[pytest.mark.ctid(int(GATEWAY_CTID))])
                                   for r in ROUTES if r.by_hostname_only])
def test_hostname_only_service_is_not_reachable_by_gateway_ip(route: Route, gw_clients: dict[str | None, httpx.Client]) -> None:
    """The IP vhost must not fall through to the hostname-only service (Portainer is admin-only)."""
    own = gw_clients[route.hostname].get(route.path).text
    resp = gw_clients[None].get(route.path)
    assert resp.status_code >= 400 or resp.text != own, f"https://<gateway ip>{route.path} serves {route.name}"


@pytest.mark.parametrize("route", [_param(r) for r in ROUTES if r.websocket])
def test_websocket_upgrade_passes_through(route: Route) -> None:
    live.require_service(route.ct)
    live.require_gateway_path(route.ct)
    failure = websocket_opens(params.target(), route.hostname, route.websocket)
    if failure:
        result = routing.cached_verdict(params.target(), route)
        if result.upstream_down or result.gateway_status == NO_CONNECTION:
            pytest.skip(f"the route itself does not work ({result.detail}); its own tests report it")
    assert failure is None
