"""Session clients for the vLLM layer: the official openai client through the gateway, and the routed CTs."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from phoenix_verify.access import routing
from phoenix_verify.access.http import gateway_client
from phoenix_verify.suite import live, params

if TYPE_CHECKING:   # the SDK takes about a second to import: only runs that use the `oai` fixture pay for it
    import openai


@pytest.fixture(scope="session")
def oai() -> Iterator[openai.OpenAI]:
    from phoenix_verify.access.openai_client import gateway_openai

    client = gateway_openai(params.target(), params.main_host())
    yield client
    client.close()


@pytest.fixture(scope="session")
def gw() -> Iterator[httpx.Client]:
    with gateway_client(params.target(), params.main_host()) as client:
        yield client


@pytest.fixture
def routed_via_gateway() -> Callable[[str], None]:
    """Call with a route name before testing vLLM through the gateway: when the gateway itself does not route
    it (a gateway-layer failure, reported there), the vLLM check cannot judge vLLM and is skipped."""
    def check(route_name: str) -> None:
        route = next(r for r in params.routes() if r.name == route_name)
        live.require_gateway_path(route.ct)
        result = routing.cached_verdict(params.target(), route)
        if not result.routed and not result.upstream_down:
            pytest.skip(f"the gateway does not route {route_name} ({result.detail}); see the gateway layer")
    return check


@pytest.fixture(autouse=True)
def service_running(request: pytest.FixtureRequest) -> None:
    """vLLM checks judge a running vLLM: a stopped CT or unit is skipped here and failed in the lxc layer. Static
    checks judge only the declaration: they never probe the live system."""
    if request.node.get_closest_marker("static"):
        return
    ct = getattr(request.node, "callspec", None) and request.node.callspec.params.get("ct")
    if ct is not None:
        live.require_service(ct)
