"""Hypothesis through the gateway: whatever path, method and headers a client sends, nginx itself never fails
(5xx not from an upstream), the IP vhost never reaches Portainer, and injected headers are never echoed."""
from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_verify.suite import params

GATEWAY = params.inventory().gateway()
GATEWAY_CTID = str(GATEWAY.ctid) if GATEWAY else "?"
pytestmark = [pytest.mark.rung("client"), pytest.mark.gateway, pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID),
              *([pytest.mark.ctid(GATEWAY.ctid)] if GATEWAY else [])]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PORTAINER_MARKERS = ("portainer", "/api/websocket", "\"Version\"")

segment = st.text(st.characters(codec="ascii", exclude_characters="/?#%\\", min_codepoint=33, max_codepoint=126),
                  min_size=1, max_size=12)
paths = st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
header_values = st.text(st.characters(codec="ascii", min_codepoint=32, max_codepoint=126), min_size=1, max_size=40)


def _nginx_generated_5xx(resp: httpx.Response) -> bool:
    """A 5xx with nginx's own error page (upstream 5xx pass through with the service's body)."""
    return resp.status_code >= 500 and "<center>nginx</center>" in resp.text


@SETTINGS
@given(method=methods, path=paths)
def test_no_nginx_5xx_for_any_request(gw_clients: dict[str | None, httpx.Client], method: str, path: str) -> None:
    for client in gw_clients.values():
        resp = client.request(method, path)
        assert not _nginx_generated_5xx(resp), f"{method} {path} -> {resp.status_code}"


@SETTINGS
@given(method=methods, path=paths)
def test_ip_vhost_never_reaches_portainer(gw_clients: dict[str | None, httpx.Client], method: str, path: str) -> None:
    resp = gw_clients[None].request(method, path)
    body = resp.text.lower()
    assert not any(m.lower() in body for m in PORTAINER_MARKERS), f"{method} {path} via IP reached Portainer"


header_names = st.from_regex(r"\AX-[A-Za-z0-9-]{1,20}\Z").filter(lambda n: n.lower() not in ("x-forwarded-proto",))


@SETTINGS
@given(path=paths, name=header_names, value=header_values)
def test_injected_headers_are_not_echoed(gw_clients: dict[str | None, httpx.Client], path: str, name: str,
                                         value: str) -> None:
    marker = f"phx-inject-{value.strip()}"
    for client in gw_clients.values():
        resp = client.get(path, headers={name: marker, "X-Forwarded-Host": marker})
        echoed = [k for k, v in resp.headers.items() if marker in v]
        assert echoed == [], f"GET {path} with {name}: response headers {echoed} echo the injected value"
