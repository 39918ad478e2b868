"""Is a contract route routed to its CT? The comparison of the answer through the gateway with the answer the
service gives inside its own CT (the probes are in access/routing.py), so a broken backend is not blamed on the
gateway (and vice versa).

A 200 alone proves nothing (any service, or a default vhost, answers 200): a vLLM route must answer for the
declared served model, and every other route must give, through the gateway, the very answer its declared CT
gives to the same identity request inside the CT (qdrant's /healthz, n8n's /healthz, portainer's /api/status with
its instance id, ...)."""
from __future__ import annotations

from dataclasses import dataclass

from phoenix_verify.gateway.contract import Route

NO_CONNECTION = 0   # the gateway could not be reached at all (connect or TLS failure): its own TLS tests report it
NO_ANSWER = -1      # the gateway took the request and gave no answer in time (e.g. its upstream is dropped): the route fails


@dataclass(frozen=True)
class Verdict:
    gateway_status: int    # an HTTP status, NO_CONNECTION or NO_ANSWER
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
