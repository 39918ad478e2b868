"""How a declared service is deployed: a systemd unit, or a Docker container run by the CT's application script.

Phoenix's docker CTs (feature `docker`, directly or through `clone_from_ctid`) run their service with
`docker run` from the application script, so systemd knows only `docker.service` there; every other service CT
runs a unit. The image and container names are the ones the application scripts use, and `data_path` is where
the service writes inside the container (the CT's declared volume must be bound there). Both the lab (which
deploys them) and the suite (which probes them) read this table.
"""
from __future__ import annotations

from dataclasses import dataclass

from phoenix_model.inventory import Container

ROLE_UNITS = {"vllm": "vllm_model_server", "qdrant": "qdrant", "n8n": "n8n", "portainer": "portainer",
              "gateway": "nginx"}
DAEMON_UNIT = "docker"


@dataclass(frozen=True)
class DockerService:
    image: str       # repository:tag as the application script names it
    name: str        # container name
    data_path: str   # where the service keeps its data inside the container

    @property
    def repository(self) -> str:
        return self.image.rsplit(":", 1)[0] if ":" in self.image.rsplit("/", 1)[-1] else self.image


DOCKER_SERVICES = {
    "qdrant": DockerService("qdrant/qdrant:latest", "qdrant", "/qdrant/storage"),
    "n8n": DockerService("n8nio/n8n:latest", "n8n", "/home/node/.n8n"),
    "portainer": DockerService("portainer/portainer-ce:latest", "portainer", "/data"),
}


def docker_service(ct: Container) -> DockerService | None:
    """The container a docker CT's application script runs, or None for a unit-deployed (or template) CT."""
    if ct.is_template or "docker" not in ct.features:
        return None
    return DOCKER_SERVICES.get(ct.role)


def role_unit(ct: Container) -> str | None:
    """The systemd unit that runs the CT's service (None when Docker runs it or the role has none)."""
    return None if docker_service(ct) else ROLE_UNITS.get(ct.role)


def declared_volume(ct: Container) -> str | None:
    """The CT path of its dedicated volume (where a docker service's data must land), if it declares one."""
    return ct.dedicated_volumes[0].mount_point if ct.dedicated_volumes else None
