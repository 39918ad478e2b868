"""Does the gateway route a contract route to its CT? Compares the answer through the gateway with the answer
the service gives inside its own CT, so a broken backend is not blamed on the gateway (and vice versa).

A 200 alone proves nothing (any service, or a default vhost, answers 200): a vLLM route must answer for the
declared served model, and every other route must give, through the gateway, the very answer its declared CT
gives to the same identity request inside the CT (qdrant's /healthz, n8n's /healthz, portainer's /api/status with
its instance id, ...)."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from phoenix_verify.access.http import direct_request, gateway_client
from phoenix_verify.gateway.contract import Route, port_of, request_body
from phoenix_verify.target import Target


@dataclass(frozen=True)
class Verdict:
    gateway_status: int    # 0: no HTTP answer from the gateway (connection/TLS failure)
    direct_status: int     # 0: the service does not answer inside its CT
    detail: str

    @property
    def upstream_down(self) -> bool:
        return self.direct_status == 0

    @property
    def routed(self) -> bool:
        """The gateway passes the declared service's own answer through (whatever that answer is)."""
        return self.gateway_status == 200 or (self.gateway_status == self.direct_status and not self.upstream_down)


def identity_path(route: Route) -> str:
    """The service's identity request as sent through the gateway: the location's prefix in front of the path
    asked inside the CT (the gateway strips it), or the same path on a hostname vhost."""
    if route.by_hostname_only or route.location == "/":
        return route.direct_path
    return route.location.rstrip("/") + route.direct_path


def same_backend(gateway_text: str, direct_status: int, direct_text: str) -> str | None:
    """None when a 200 through the gateway carries the declared CT's own answer; else why it does not."""
    if direct_status != 200:
        return f"the declared CT answers {direct_status or 'nothing'} inside, so the gateway's 200 came from elsewhere"
    if gateway_text.strip() != direct_text.strip():
        return f"answer through the gateway {gateway_text.strip()[:80]!r} differs from the CT's own {direct_text.strip()[:80]!r}"
    return None


def probe_gateway(target: Target, route: Route, client: httpx.Client | None = None) -> tuple[int, str]:
    own = client is None
    client = client or gateway_client(target, route.hostname)
    path = route.path if route.model else identity_path(route)
    method = route.method if route.model else "GET"
    try:
        resp = client.request(method, path, json=request_body(route) if route.model else None, follow_redirects=True)
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            client.close()
    if resp.status_code == 200 and route.model and resp.json().get("model") != route.model:
        return 299, f"answered for model {resp.json().get('model')!r}, expected {route.model!r}"
    return resp.status_code, resp.text if not route.model else resp.text[:160]


def verdict(target: Target, route: Route, gateway_status: int, gateway_detail: str) -> Verdict:
    """A vLLM 200 for the declared model is routed; anything else is compared with the CT's own answer."""
    if gateway_status == 200 and route.model:
        return Verdict(200, 200, gateway_detail[:160])
    method = route.method if route.model else "GET"
    direct = direct_request(route.ct.ctid, target.pct, method, port_of(route.ct), route.direct_path,
                            request_body(route) if route.model else None, scheme=route.scheme)
    where = f"https://{route.hostname}{route.path if route.model else identity_path(route)}"
    if gateway_status == 200:
        why = same_backend(gateway_detail, direct.status, direct.text)
        if why is None:
            return Verdict(200, 200, f"{where} -> 200, the answer of {route.ct.slug}")
        return Verdict(298, direct.status, f"{where} -> 200 but not from {route.ct.slug}: {why}")
    return Verdict(gateway_status, direct.status,
                   f"{where} -> {gateway_status or gateway_detail[:160]}; inside {route.ct.slug}: {route.direct_path} -> {direct.status}")


_verdicts: dict[tuple[str, int, str], Verdict] = {}


def cached_verdict(target: Target, route: Route) -> Verdict:
    """One probe per route and session, for tests that need the route as a precondition."""
    key = (route.name, route.ct.ctid, str(target.source))
    if key not in _verdicts:
        _verdicts[key] = verdict(target, route, *probe_gateway(target, route))
    return _verdicts[key]
