"""The service types Phoenix deploys, in one table: everything the suite and the lab know about a role.

A CT's role is detected from its declared name and application script (`detect`); from the role follow its
ports, systemd unit, process, Docker containers and the gateway routes it backs. Every reader (inventory role
detection, deployment, gateway contract and port catalogue, process checks, diagnosis, the lab's service plan)
derives from `SERVICE_TYPES`, so a new service type is one `register(ServiceType(...))`.

Ports, images and container names are the ones the Phoenix application scripts use (fixtures/reference/); health
paths follow each product's documented API (docs/contracts.md, "Service health endpoints").
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Listener:
    """A port the service listens on inside its CT when the CT declares none, and how to ask it whether it is up."""
    port: int
    scheme: str = "http"
    health: str | None = None   # GET path that answers 2xx while the service is up
    expect: str | None = None   # text the health answer contains, when the product documents one


@dataclass(frozen=True)
class DockerService:
    """One container a docker CT's application script runs."""
    image: str       # repository:tag as the application script names it
    name: str        # container name
    data_path: str   # where the service keeps its data inside the container
    ports: tuple[int, ...] = ()   # container ports it publishes (of the service's listeners)

    @property
    def repository(self) -> str:
        return self.image.rsplit(":", 1)[0] if ":" in self.image.rsplit("/", 1)[-1] else self.image


@dataclass(frozen=True)
class GatewayRoute:
    """A route of the gateway contract (strategy §3.1.2) that this service backs; the first CT of the role serves it."""
    name: str                  # readable test id, e.g. "qdrant-healthz"
    method: str
    path: str                  # request path through the gateway
    location: str              # the nginx location ("/" on a hostname vhost)
    direct_path: str = "/"     # the same request asked inside the CT (prefix stripped as the gateway does)
    vhost: str = "main"        # "main": the gateway's main hostname; "portainer": the portainer.<domain> vhost
    websocket: str | None = None   # path of the service's WebSocket endpoint through the gateway (§3.3)
    streaming: bool = False    # long-running API route: timeouts + buffering off
    model_type: str | None = None  # vLLM routes: the model type of the CT that serves it
    also: tuple[str, ...] = ()     # other gateway paths the same backend answers (diagnosis places them here)

    @property
    def by_hostname_only(self) -> bool:
        return self.vhost != "main"

    def diagnosis_keys(self) -> tuple[str, ...]:
        """What names this route in a failing test id: its location, or its vhost's label ("/" alone names none)."""
        own = self.vhost if self.by_hostname_only else (self.location if self.location != "/" else None)
        return ((own,) if own else ()) + self.also


@dataclass(frozen=True)
class ServiceType:
    role: str
    keywords: tuple[str, ...] = ()    # found in the CT's name or application script (dashes/underscores ignored)
    portainer_roles: tuple[str, ...] = ()   # a CT's `portainer_role` that alone makes it this role
    listeners: tuple[Listener, ...] = ()
    unit: str | None = None           # systemd unit when not run by Docker
    process: str | None = None        # substring of its main process's command line
    docker: tuple[DockerService, ...] = ()   # containers the application script runs in a docker CT
    routes: tuple[GatewayRoute, ...] = ()

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(listener.port for listener in self.listeners)

    @property
    def main_scheme(self) -> str:
        """The scheme of its first listener, the one the gateway proxies to."""
        return self.listeners[0].scheme if self.listeners else "http"

    def scheme(self, port: int) -> str | None:
        return next((listener.scheme for listener in self.listeners if listener.port == port), None)

    def matches(self, text: str, portainer_role: str) -> bool:
        squeezed = text.lower().replace("-", "").replace("_", "")
        return portainer_role in self.portainer_roles or any(k in squeezed for k in self.keywords)


# Detection order is table order: the first type whose keyword (or portainer_role) matches names the role.
SERVICE_TYPES: dict[str, ServiceType] = {}


def register(service: ServiceType) -> ServiceType:
    """Add (or replace) a service type; the one place a new role is declared."""
    SERVICE_TYPES[service.role] = service
    return service


def service_type(role: str) -> ServiceType | None:
    return SERVICE_TYPES.get(role)


def unit_of(role: str) -> str:
    """The systemd unit of a registered role that has one (KeyError otherwise: a programming error)."""
    unit = SERVICE_TYPES[role].unit
    if unit is None:
        raise KeyError(f"service type {role!r} has no unit")
    return unit


def detect(name: str, application_script: str | None, portainer_role: str) -> str:
    """The role of a non-vLLM, non-template CT from its declared name and script (first match wins), else "other"."""
    text = f"{name} {application_script or ''}"
    return next((s.role for s in SERVICE_TYPES.values() if s.matches(text, portainer_role)), "other")


def all_routes() -> Iterable[tuple[ServiceType, GatewayRoute]]:
    return ((s, r) for s in SERVICE_TYPES.values() for r in s.routes)


register(ServiceType(
    "vllm", listeners=(Listener(8000, health="/health"),), unit="vllm_model_server",
    routes=(GatewayRoute("vllm-chat", "POST", "/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions",
                         streaming=True, model_type="chat", also=("/v1/models",)),
            GatewayRoute("vllm-embeddings", "POST", "/v1/embeddings", "/v1/embeddings", "/v1/embeddings",
                         streaming=True, model_type="embedding"))))
register(ServiceType(
    "portainer", keywords=("portainer",), portainer_roles=("server",),
    listeners=(Listener(9443, "https", "/api/system/status"), Listener(9001)), unit="portainer", process="portainer",
    docker=(DockerService("portainer/portainer-ce:latest", "portainer", "/data", (9443, 9001)),),
    routes=(GatewayRoute("portainer", "GET", "/", "/", "/api/status", vhost="portainer",
                         websocket="/api/websocket/exec"),)))
register(ServiceType(
    "gateway", keywords=("nginx",), listeners=(Listener(80), Listener(443, "https")), unit="nginx",
    process="nginx: master process"))
register(ServiceType(
    "qdrant", keywords=("qdrant",), listeners=(Listener(6333, health="/healthz"), Listener(6334, "grpc")),
    unit="qdrant", process="qdrant",
    docker=(DockerService("qdrant/qdrant:latest", "qdrant", "/qdrant/storage", (6333, 6334)),),
    routes=(GatewayRoute("qdrant-healthz", "GET", "/qdrant/healthz", "/qdrant/", "/healthz"),)))
register(ServiceType(
    "n8n", keywords=("n8n",), listeners=(Listener(5678, health="/healthz"),), unit="n8n", process="n8n",
    docker=(DockerService("n8nio/n8n:latest", "n8n", "/home/node/.n8n", (5678,)),),
    routes=(GatewayRoute("n8n", "GET", "/n8n/", "/n8n/", "/healthz", websocket="/n8n/rest/push"),)))
register(ServiceType(
    "ollama", keywords=("ollama",), listeners=(Listener(11434, health="/", expect="Ollama is running"),),
    unit="ollama", process="ollama"))
register(ServiceType(
    "openwebui", keywords=("openwebui",), listeners=(Listener(8080, health="/health"),),
    docker=(DockerService("ghcr.io/open-webui/open-webui:main", "open-webui", "/app/backend/data", (8080,)),),
    routes=(GatewayRoute("openwebui", "GET", "/", "/", websocket="/ws/socket.io/?EIO=4&transport=websocket"),)))
register(ServiceType(
    "llamacpp", keywords=("llamacpp",), listeners=(Listener(8081, health="/health"),), unit="llama-server",
    process="llama"))
register(ServiceType(
    "monitoring", keywords=("monitoring",),
    listeners=(Listener(3000, health="/api/health"), Listener(9090, health="/-/healthy")),
    docker=(DockerService("grafana/grafana", "grafana", "/var/lib/grafana", (3000,)),
            DockerService("prom/prometheus", "prometheus", "/prometheus", (9090,)))))
