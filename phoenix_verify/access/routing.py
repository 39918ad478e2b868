"""Probing a contract route: the request through the gateway, and the same identity request inside the declared
CT; checks/routing.py judges the pair."""
from __future__ import annotations

import httpx

from phoenix_verify.access.http import direct_request, gateway_client
from phoenix_verify.checks.routing import NO_ANSWER, NO_CONNECTION, Verdict, identity_path, same_backend
from phoenix_verify.gateway.contract import Route, port_of, request_body
from phoenix_verify.target import Target


def probe_gateway(target: Target, route: Route, client: httpx.Client | None = None) -> tuple[int, str]:
    """The gateway's answer: an HTTP status, NO_CONNECTION when it cannot be reached, NO_ANSWER when it took the
    request and answered nothing in time (a dropped upstream: that is the route's failure, not the gateway's TLS)."""
    own = client is None
    client = client or gateway_client(target, route.hostname)
    path = route.path if route.model else identity_path(route)
    method = route.method if route.model else "GET"
    try:
        resp = client.request(method, path, json=request_body(route) if route.model else None, follow_redirects=True)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return NO_CONNECTION, f"{type(exc).__name__}: {exc}"
    except httpx.HTTPError as exc:
        return NO_ANSWER, f"no answer: {type(exc).__name__}: {exc}"
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
                   f"{where} -> {gateway_status if gateway_status > 0 else gateway_detail[:160]}; inside {route.ct.slug}: {route.direct_path} -> {direct.status}")


_verdicts: dict[tuple[str, int, str], Verdict] = {}


def cached_verdict(target: Target, route: Route) -> Verdict:
    """One probe per route and session, for tests that need the route as a precondition."""
    key = (route.name, route.ct.ctid, str(target.source))
    if key not in _verdicts:
        _verdicts[key] = verdict(target, route, *probe_gateway(target, route))
    return _verdicts[key]
