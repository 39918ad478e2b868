"""Comparison logic for services Docker runs inside a docker CT: the daemon, the container, its restart policy,
published ports and data volume, against the declared CT (phoenix_model.deployment says which service).

Pure: the facts come from the CT's batched probe (`docker inspect` of every container). Each function returns
the problems found, naming the CT and what was expected and found.
"""
from __future__ import annotations

from phoenix_model.deployment import DAEMON_UNIT, declared_volume, docker_services
from phoenix_model.inventory import Container
from phoenix_model.services import DockerService
from phoenix_verify.access.ct_facts import CtFacts, DockerContainer

COMES_BACK = ("always", "unless-stopped")   # restart policies that bring the service back after a CT reboot


def containers_of(facts: CtFacts, svc: DockerService) -> list[DockerContainer]:
    """The CT's containers of the service's image (any tag), or named as the application script names them."""
    return [c for c in facts.containers or () if c.image.split("@")[0].rsplit(":", 1)[0] == svc.repository
            or c.image == svc.image or c.name == svc.name]


def daemon_active(ct: Container, facts: CtFacts) -> list[str]:
    state = facts.units.get(DAEMON_UNIT, "not probed")
    return [] if state == "active" else [f"ct{ct.ctid} systemctl is-active {DAEMON_UNIT}: expected 'active', found {state!r}"]


def _one(ct: Container, facts: CtFacts, svc: DockerService) -> tuple[DockerContainer | None, list[str]]:
    if facts.containers is None:
        return None, [f"ct{ct.ctid}: cannot list containers (no docker CLI, or the daemon does not answer)"]
    found = containers_of(facts, svc)
    if not found:
        names = ", ".join(f"{c.name} ({c.image})" for c in facts.containers) or "none"
        return None, [f"ct{ct.ctid}: no container of {svc.image} (containers: {names})"]
    return next((c for c in found if c.status == "running"), found[0]), []


def container_running(ct: Container, facts: CtFacts, svc: DockerService) -> list[str]:
    """Running and not in a restart loop (`restarting`, or running again after restarts: a crash loop)."""
    c, problems = _one(ct, facts, svc)
    if c is None:
        return problems
    if c.restarting or c.status == "restarting":
        return [f"ct{ct.ctid} container {c.name}: crash-looping (restarting, {c.restart_count} restarts)"]
    if c.status != "running":
        return [f"ct{ct.ctid} container {c.name}: expected 'running', found {c.status!r}"]
    return []


def restart_policy(ct: Container, facts: CtFacts, svc: DockerService) -> list[str]:
    c, problems = _one(ct, facts, svc)
    if c is None:
        return problems
    if c.restart_policy in COMES_BACK:
        return []
    expected = ", ".join(COMES_BACK)
    return [f"ct{ct.ctid} container {c.name}: restart policy {c.restart_policy!r} does not bring it back after a reboot "
            + f"(expected one of {expected})"]


def published_ports(ct: Container, facts: CtFacts, svc: DockerService) -> list[str]:
    """Every declared `H:C` port of this container is published as `-p H:C` (HostConfig.PortBindings). In a CT
    that runs several containers, a port another container registers (phoenix_model/services.py) is that one's."""
    c, problems = _one(ct, facts, svc)
    if c is None:
        return problems
    others = {port for other in docker_services(ct) if other != svc for port in other.ports}
    missing = [f"{p.host}:{p.container}" for p in ct.ports
               if p.container not in others and (p.host, f"{p.container}/tcp") not in c.published]
    if not missing:
        return []
    have = ", ".join(f"{h}:{port}" for h, port in sorted(c.published)) or "nothing"
    return [f"ct{ct.ctid} container {c.name}: declared ports {', '.join(missing)} not published (publishes {have})"]


def data_volume(ct: Container, facts: CtFacts, svc: DockerService) -> list[str]:
    """The CT's declared volume is bind-mounted where the service writes; otherwise its data lives in the
    container's layer or a Docker volume and the declared (backed-up, sized) volume stays empty."""
    volume = declared_volume(ct)
    c, problems = _one(ct, facts, svc)
    if c is None or volume is None:
        return problems
    if any(kind == "bind" and src.rstrip("/") == volume.rstrip("/") and dst.rstrip("/") == svc.data_path.rstrip("/")
           for kind, src, dst in c.mounts):
        return []
    at_path = [f"{kind} {src}" for kind, src, dst in c.mounts if dst.rstrip("/") == svc.data_path.rstrip("/")]
    where = f"it writes to {at_path[0]}" if at_path else "it writes into the container's own layer"
    return [f"ct{ct.ctid} container {c.name}: the declared volume {volume} is not mounted at {svc.data_path} ({where})"]
