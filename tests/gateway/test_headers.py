"""§3.2.1 headers on every HTTPS response, errors included (thresholds: docs/contracts.md anchors §6, target `hsts_min_age`);
vLLM's unauthenticated endpoints stay internal."""
from __future__ import annotations

import functools

import httpx
import pytest

from phoenix_verify.access.http import direct_request
from phoenix_verify.access.pct_backend import PctError
from phoenix_verify.checks import headers
from phoenix_verify.suite import hung, live, params

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
    assert headers.internal_endpoint_problems(path, resp.status_code, resp.text, vllm_own_answers(path)) == []


@functools.cache
def vllm_own_answers(path: str) -> list[tuple[int, str]]:
    """What the running vLLM servers answer to `path` inside their CTs (one pct exec per CT and path)."""
    answers = []
    for ct in params.inventory().services():
        if live.status(ct.ctid) != "running" or ct.vllm is None:
            continue
        try:
            own = direct_request(ct.ctid, TARGET.pct, "GET", ct.vllm.port, path)
        except PctError:
            continue
        except TimeoutError as exc:   # the vLLM CT hangs: its own checks report it, not this gateway check
            hung.mark(ct.ctid, str(exc))
            continue
        answers.append((own.status, own.text))
    return answers
