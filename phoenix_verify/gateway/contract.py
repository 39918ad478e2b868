"""The gateway contract of strategy §3.1.2/§3.3, derived from the inventory.

One `Route` per service definition: the path (or hostname) a client uses through the gateway and the upstream
`ip:port` it must reach. The live tests, the drift tests and `lint-nginx` all read this one list, so the three
cannot disagree about what the gateway is supposed to route.
"""
from __future__ import annotations

from dataclasses import dataclass

from phoenix_model.deployment import service_ports
from phoenix_model.inventory import Container, Inventory
from phoenix_model.services import GatewayRoute, all_routes, service_type

# Defaults for the static analysis (`lint-nginx`, drift) when no target names the gateway's hostnames; live runs
# take them from the target's `gateway.hostnames` (see `hosts_from`).
MAIN_HOST = "phoenix.local"
PORTAINER_HOST = "portainer.phoenix.local"


@dataclass(frozen=True)
class Route:
    name: str                 # readable test id, e.g. "qdrant-healthz"
    ct: Container
    method: str
    path: str                 # request path through the gateway; location prefix for matching
    location: str             # the nginx location (or "/" on a hostname vhost)
    hostname: str             # Host/SNI to use
    upstream: str             # "ip:port" the location must proxy to
    scheme: str = "http"      # upstream scheme
    model: str | None = None  # served model name for vLLM routes
    streaming: bool = False   # long-running API route: timeouts + buffering off
    websocket: str | None = None   # path of the service's WebSocket endpoint through the gateway (§3.3)
    by_hostname_only: bool = False
    direct_path: str = "/"    # the same service asked inside its CT (prefix stripped as the gateway does)

    @property
    def test_id(self) -> str:
        """`phoenix.local/v1/embeddings`: names the route as an operator would type it (and diagnosis reads it)."""
        return f"{self.hostname}{self.location}"


def served_ports(ct: Container) -> list[int]:
    """The ports a CT must accept: its declared ones (container side) and, for the gateway, the ones it serves
    (its listeners in phoenix_model/services.py: 80 and 443), declared or not (the real config declares none)."""
    declared = sorted({p.container for p in ct.ports})
    st = service_type(ct.role) if ct.role == "gateway" else None
    return declared + [p for p in (st.ports if st else ()) if p not in declared]


def port_of(ct: Container) -> int:
    """The port the gateway proxies to: the CT's service port (phoenix_model.deployment), 80 if it has none."""
    return next(iter(service_ports(ct)), 80)


def _upstream(ct: Container) -> str:
    return f"{ct.network.ip.ip}:{port_of(ct)}"


def hosts_from(hostnames: tuple[str, ...] | list[str]) -> tuple[str, str]:
    """(main host, portainer host) from a target's `gateway.hostnames`: the first name serves the path routes; the
    portainer vhost is the name whose leftmost label is `portainer` (strategy §3.1.2), else `portainer.<main>`."""
    if not hostnames:
        return MAIN_HOST, PORTAINER_HOST
    main = next((h for h in hostnames if not h.startswith("portainer.")), hostnames[0])
    return main, next((h for h in hostnames if h.startswith("portainer.")), f"portainer.{main}")


def routes(inv: Inventory, main_host: str = MAIN_HOST, portainer_host: str = PORTAINER_HOST) -> tuple[Route, ...]:
    """Every §3.1.2 route the inventory implies: per route of the service registry, the first CT of its role
    (and, for vLLM routes, of its model type) serves it, as the gateway renders it."""
    out: list[Route] = []
    for st, gr in all_routes():
        ct = next((c for c in inv.by_role(st.role) if not c.is_template and backs(c, gr)), None)
        if ct is None:
            continue
        host = portainer_host if gr.by_hostname_only else main_host
        out.append(Route(gr.name, ct, gr.method, gr.path, gr.location, host, _upstream(ct),
                         scheme=st.main_scheme, model=ct.vllm.served_model_name if ct.vllm else None,
                         streaming=gr.streaming, websocket=gr.websocket, by_hostname_only=gr.by_hostname_only,
                         direct_path=gr.direct_path))
    return tuple(out)


def backs(ct: Container, route: GatewayRoute) -> bool:
    """Whether a CT of the route's role can serve it (a vLLM route needs its model type)."""
    if route.model_type is None:
        return True
    return ct.vllm is not None and ct.vllm.model_type == route.model_type


def upstream_endpoints(inv: Inventory) -> frozenset[str]:
    """Every `ip:port` a gateway may proxy to: declared service CTs with their declared ports."""
    out: set[str] = set()
    for ct in inv.services():
        ports = {p.container for p in ct.ports} | ({ct.vllm.port} if ct.vllm else set())
        out |= {f"{ct.network.ip.ip}:{p}" for p in ports}
    return frozenset(out)


def request_body(route: Route) -> dict | None:
    """The smallest valid request for a route (vLLM routes need a body naming the served model)."""
    if route.name == "vllm-chat":
        return {"model": route.model, "messages": [{"role": "user", "content": "Hello! What is your name?"}], "max_tokens": 16}
    if route.name == "vllm-embeddings":
        return {"model": route.model, "input": ["phoenix gateway check"]}
    return None
