"""How a declared service is deployed: a systemd unit, or Docker containers run by the CT's application script.

Phoenix's docker CTs (feature `docker`, directly or through `clone_from_ctid`) run their service with
`docker run` from the application script, so systemd knows only `docker.service` there; every other service CT
runs a unit. Units, images, container names and data paths come from the service registry
(phoenix_model/services.py); both the lab (which deploys them) and the suite (which probes them) read them here.
"""
from __future__ import annotations

from phoenix_model.inventory import Container
from phoenix_model.services import DockerService, service_type

DAEMON_UNIT = "docker"


def docker_services(ct: Container) -> tuple[DockerService, ...]:
    """Every container a docker CT's application script runs (empty for a unit-deployed or template CT)."""
    st = service_type(ct.role)
    if ct.is_template or "docker" not in ct.features or st is None:
        return ()
    return st.docker


def docker_service(ct: Container) -> DockerService | None:
    """The CT's main container (the first its application script runs), or None for a unit-deployed CT."""
    return next(iter(docker_services(ct)), None)


def role_unit(ct: Container) -> str | None:
    """The systemd unit that runs the CT's service (None when Docker runs it or the role has none)."""
    st = service_type(ct.role)
    return None if docker_service(ct) or st is None else st.unit


def service_ports(ct: Container) -> tuple[int, ...]:
    """The ports the CT's service listens on: the vLLM port, else the declared container ports, else the role's
    defaults from the registry."""
    if ct.vllm:
        return (ct.vllm.port,)
    if ct.ports:
        return tuple(p.container for p in ct.ports)
    st = service_type(ct.role)
    return st.ports if st else ()


def declared_volume(ct: Container) -> str | None:
    """The CT path of its dedicated volume (where a docker service's data must land), if it declares one."""
    return ct.dedicated_volumes[0].mount_point if ct.dedicated_volumes else None
