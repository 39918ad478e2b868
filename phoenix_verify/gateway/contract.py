"""The gateway contract of strategy §3.1.2/§3.3, derived from the inventory.

One `Route` per service definition: the path (or hostname) a client uses through the gateway and the upstream
`ip:port` it must reach. The live tests, the drift tests and `lint-nginx` all read this one list, so the three
cannot disagree about what the gateway is supposed to route.
"""
from __future__ import annotations

from dataclasses import dataclass

from phoenix_model.inventory import Container, Inventory

# Defaults for the static analysis (`lint-nginx`, drift) when no target names the gateway's hostnames; live runs
# take them from the target's `gateway.hostnames` (see `hosts_from`).
MAIN_HOST = "phoenix.local"
PORTAINER_HOST = "portainer.phoenix.local"
WEBSOCKET_ROLES = ("n8n", "portainer", "openwebui")
DEFAULT_PORTS = {"qdrant": 6333, "n8n": 5678, "portainer": 9443, "openwebui": 8080}


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


def port_of(ct: Container) -> int:
    if ct.vllm:
        return ct.vllm.port
    return ct.ports[0].container if ct.ports else DEFAULT_PORTS.get(ct.role, 80)


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
    """Every §3.1.2 route the inventory implies (first CT of a role serves it, as the gateway renders it)."""
    out: list[Route] = []
    for ct in inv.by_role("qdrant")[:1]:
        out.append(Route("qdrant-healthz", ct, "GET", "/qdrant/healthz", "/qdrant/", main_host, _upstream(ct),
                         direct_path="/healthz"))
    vllm = [(c, c.vllm) for c in inv.by_role("vllm") if c.vllm and not c.is_template]
    for ct, spec in [(c, s) for c, s in vllm if s.model_type != "embedding"][:1]:
        out.append(Route("vllm-chat", ct, "POST", "/v1/chat/completions", "/v1/chat/completions", main_host,
                         _upstream(ct), model=spec.served_model_name, streaming=True, direct_path="/v1/chat/completions"))
    for ct, spec in [(c, s) for c, s in vllm if s.model_type == "embedding"][:1]:
        out.append(Route("vllm-embeddings", ct, "POST", "/v1/embeddings", "/v1/embeddings", main_host,
                         _upstream(ct), model=spec.served_model_name, streaming=True, direct_path="/v1/embeddings"))
    for ct in inv.by_role("n8n")[:1]:
        out.append(Route("n8n", ct, "GET", "/n8n/", "/n8n/", main_host, _upstream(ct),
                         websocket="/n8n/rest/push", direct_path="/healthz"))
    for ct in inv.by_role("portainer")[:1]:
        out.append(Route("portainer", ct, "GET", "/", "/", portainer_host, _upstream(ct), scheme="https",
                         websocket="/api/websocket/exec", by_hostname_only=True,
                         direct_path="/api/status"))
    for ct in inv.by_role("openwebui")[:1]:
        out.append(Route("openwebui", ct, "GET", "/", "/", main_host, _upstream(ct),
                         websocket="/ws/socket.io/?EIO=4&transport=websocket"))
    return tuple(out)


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
