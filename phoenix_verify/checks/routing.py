"""Does the gateway route a contract route to its CT? Compares the answer through the gateway with the answer
the service gives inside its own CT, so a broken backend is not blamed on the gateway (and vice versa)."""
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
        """The gateway passes the service's own answer through (whatever that answer is)."""
        return self.gateway_status == 200 or (self.gateway_status == self.direct_status and not self.upstream_down)


def probe_gateway(target: Target, route: Route, client: httpx.Client | None = None) -> tuple[int, str]:
    own = client is None
    client = client or gateway_client(target, route.hostname)
    try:
        resp = client.request(route.method, route.path, json=request_body(route), follow_redirects=True)
    except httpx.HTTPError as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            client.close()
    if resp.status_code == 200 and route.model and resp.json().get("model") != route.model:
        return 299, f"answered for model {resp.json().get('model')!r}, expected {route.model!r}"
    return resp.status_code, resp.text[:160]


def verdict(target: Target, route: Route, gateway_status: int, gateway_detail: str) -> Verdict:
    """Ask the service directly only when the gateway's answer is not a plain success."""
    if gateway_status == 200:
        return Verdict(200, 200, gateway_detail)
    direct = direct_request(route.ct.ctid, target.pct, route.method, port_of(route.ct), route.direct_path,
                            request_body(route), scheme=route.scheme)
    return Verdict(gateway_status, direct.status,
                   f"https://{route.hostname}{route.path} -> {gateway_status or gateway_detail}; "
                   f"inside {route.ct.slug}: {route.direct_path} -> {direct.status}")


_verdicts: dict[tuple[str, int, str], Verdict] = {}


def cached_verdict(target: Target, route: Route) -> Verdict:
    """One probe per route and session, for tests that need the route as a precondition."""
    key = (route.name, route.ct.ctid, str(target.source))
    if key not in _verdicts:
        _verdicts[key] = verdict(target, route, *probe_gateway(target, route))
    return _verdicts[key]
