"""§3.2.1 headers on every HTTPS response, errors included (thresholds: docs/contracts.md anchors §6, target `hsts_min_age`);
vLLM's unauthenticated endpoints stay internal."""
from __future__ import annotations

import httpx
import pytest

from phoenix_verify.checks import headers
from phoenix_verify.suite import params

TARGET = params.target()
GATEWAY = params.inventory().gateway()
GATEWAY_CTID = str(GATEWAY.ctid) if GATEWAY else "?"
pytestmark = [pytest.mark.rung("client"), pytest.mark.gateway, pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID),
              *([pytest.mark.ctid(GATEWAY.ctid)] if GATEWAY else [])]
PROBES = [("GET", "/"), ("GET", "/no-such-page-phoenix-verify"), ("POST", "/v1/embeddings")]   # ok, 404, 4xx error
CASES = [pytest.param(h, m, p, id=f"{h}-{m}{p}") for h in TARGET.gateway_hostnames for m, p in PROBES]


@pytest.mark.parametrize(("hostname", "method", "path"), CASES)
def test_security_headers_on_every_response(hostname: str, method: str, path: str,
                                            gw_clients: dict[str | None, httpx.Client]) -> None:
    # Longer than the gateway's proxy_connect_timeout (10 s), so an unreachable upstream still yields nginx's 504
    # (whose headers are judged here) instead of a client timeout with nothing to judge.
    resp = gw_clients[hostname].request(method, path, content=b"{" if method == "POST" else None,
                                        timeout=httpx.Timeout(20.0, connect=5.0))
    assert headers.all_problems(resp.headers, TARGET.hsts_min_age) == [], f"status {resp.status_code}"


@pytest.mark.parametrize("path", ["/metrics", "/version", "/health"])
@pytest.mark.parametrize("hostname", [*TARGET.gateway_hostnames, None], ids=lambda h: h or "gateway-ip")
def test_vllm_internal_endpoints_are_not_exposed(hostname: str | None, path: str,
                                                 gw_clients: dict[str | None, httpx.Client]) -> None:
    resp = gw_clients[hostname].get(path)
    assert resp.status_code in (401, 403, 404) or ("vllm" not in resp.text.lower() and "# HELP" not in resp.text), \
        f"{path} answered {resp.status_code}: {resp.text[:120]}"
