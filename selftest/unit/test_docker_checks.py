"""Docker-deployed services (issue 15 item 3): which CTs run their service in Docker, the probe's `docker
inspect` section, each docker check failing on the defect it names, and docker-restart.sh against the fake host."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from phoenix_model.deployment import docker_service, docker_services, role_unit
from phoenix_model.inventory import Inventory, PortMap, load_inventory
from phoenix_verify.access.ct_facts import DockerContainer, ProbePlan, parse_facts, plan_for, probe_script
from phoenix_verify.checks import docker

REPO = Path(__file__).resolve().parents[1].parent
INSPECT = [{  # `docker inspect` of a healthy qdrant container, reduced to the keys the probe reads
    "Name": "/qdrant", "RestartCount": 0,
    "State": {"Status": "running", "Running": True, "Restarting": False},
    "Config": {"Image": "qdrant/qdrant:latest"},
    "HostConfig": {"RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
                   "PortBindings": {"6333/tcp": [{"HostIp": "", "HostPort": "6333"}],
                                    "6334/tcp": [{"HostIp": "", "HostPort": "6334"}]}},
    "Mounts": [{"Type": "bind", "Source": "/qdrant/storage", "Destination": "/qdrant/storage", "RW": True}],
}]


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(REPO / "fixtures" / "lab")


@pytest.fixture
def qdrant(inv: Inventory):
    return next(ct for ct in inv.services() if ct.role == "qdrant")


def facts_with(containers: list[dict] | None, daemon: str = "active"):
    docker_section = f"@@docker\n{json.dumps(containers)}\n" if containers is not None else ""
    return parse_facts(952, f"@@uid_map\n0 100000 65536\n@@unit:docker\n{daemon}\n{docker_section}@@end\n")


def test_docker_ct_runs_its_service_in_docker(inv: Inventory, qdrant) -> None:
    svc = docker_service(qdrant)
    assert svc is not None and (svc.image, svc.name, svc.repository) == ("qdrant/qdrant:latest", "qdrant", "qdrant/qdrant")
    assert role_unit(qdrant) is None
    assert role_unit(replace(qdrant, features=("base_setup",))) == "qdrant"  # the same CT without docker: a unit
    assert all(docker_service(ct) is None for ct in inv.containers.values() if ct.is_template)
    assert docker_service(next(ct for ct in inv.services() if ct.role == "vllm")) is None


def test_probe_lists_containers_only_for_docker_cts(inv: Inventory, qdrant) -> None:
    plan = plan_for(qdrant)
    assert plan.docker and plan.units == ("docker",)
    assert "docker inspect" in probe_script(plan)
    assert "docker inspect" not in probe_script(ProbePlan())


def test_inspect_section_is_parsed() -> None:
    (c,) = facts_with(INSPECT).containers or ()
    assert c == DockerContainer("qdrant", "qdrant/qdrant:latest", "running", False, 0, "unless-stopped",
                                frozenset({(6333, "6333/tcp"), (6334, "6334/tcp")}),
                                (("bind", "/qdrant/storage", "/qdrant/storage"),))
    assert facts_with([]).containers == ()
    assert facts_with(None).containers is None  # no docker CLI: nothing to list


def test_healthy_container_passes_every_check(qdrant) -> None:
    facts, svc = facts_with(INSPECT), docker_service(qdrant)
    assert svc is not None
    for check in (docker.container_running, docker.restart_policy, docker.published_ports, docker.data_volume):
        assert check(qdrant, facts, svc) == []
    assert docker.daemon_active(qdrant, facts) == []


def _broken(**changes) -> list[dict]:
    entry = json.loads(json.dumps(INSPECT[0]))
    for path, value in changes.items():
        node = entry
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return [entry]


@pytest.mark.parametrize(("check", "containers", "message"), [
    (docker.container_running, [], "no container of qdrant/qdrant:latest (containers: none)"),
    (docker.container_running, _broken(State__Status="exited", State__Running=False), "expected 'running', found 'exited'"),
    (docker.container_running, _broken(State__Status="restarting", State__Restarting=True, RestartCount=7),
     "crash-looping (restarting, 7 restarts)"),
    (docker.restart_policy, _broken(HostConfig__RestartPolicy={"Name": "no"}), "restart policy 'no' does not bring it back"),
    (docker.published_ports, _broken(HostConfig__PortBindings={"6333/tcp": [{"HostPort": "6335"}]}),
     "declared ports 6333:6333, 6334:6334 not published (publishes 6335:6333/tcp)"),
    (docker.data_volume, _broken(Mounts=[]), "declared volume /qdrant/storage is not mounted at /qdrant/storage (it writes into the container's own layer)"),
    (docker.data_volume, _broken(Mounts=[{"Type": "volume", "Source": "/var/lib/docker/volumes/q/_data", "Destination": "/qdrant/storage"}]),
     "(it writes to volume /var/lib/docker/volumes/q/_data)"),
])
def test_each_defect_is_named(qdrant, check, containers: list[dict], message: str) -> None:
    svc = docker_service(qdrant)
    assert svc is not None
    (problem,) = check(qdrant, facts_with(containers), svc)
    assert problem.startswith(f"ct{qdrant.ctid}") and message in problem


def test_stopped_daemon_and_missing_cli(qdrant) -> None:
    svc = docker_service(qdrant)
    assert svc is not None
    assert docker.daemon_active(qdrant, facts_with(None, daemon="inactive")) == [
        f"ct{qdrant.ctid} systemctl is-active docker: expected 'active', found 'inactive'"]
    (problem,) = docker.container_running(qdrant, facts_with(None), svc)
    assert "cannot list containers" in problem


def test_other_image_tags_and_names_are_the_service(qdrant) -> None:
    svc = docker_service(qdrant)
    assert svc is not None
    pinned = _broken(Config={"Image": "qdrant/qdrant:v1.12.4"}, Name="/vectors")
    assert docker.container_running(qdrant, facts_with(pinned), svc) == []
    other = _broken(Config={"Image": "redis:7"}, Name="/cache")
    assert "no container of qdrant/qdrant:latest (containers: cache (redis:7))" in docker.container_running(qdrant, facts_with(other), svc)[0]


def test_undeclared_ports_are_not_required(qdrant) -> None:
    svc = docker_service(qdrant)
    assert svc is not None
    one_port = replace(qdrant, ports=(PortMap(6333, 6333),))
    assert docker.published_ports(one_port, facts_with(_broken(HostConfig__PortBindings={"6333/tcp": [{"HostPort": "6333"}]})), svc) == []


def test_each_container_of_a_multi_container_ct_publishes_its_own_ports(qdrant) -> None:
    """A monitoring CT (grafana + prometheus, phoenix_model/services.py) declares both ports; each container is held
    to the ports it registers, so grafana without 3000 fails and grafana without 9090 does not."""
    monitoring = replace(qdrant, role="monitoring", ports=(PortMap(3000, 3000), PortMap(9090, 9090)))
    grafana, prometheus = docker_services(monitoring)
    containers = [_container("grafana", "grafana/grafana:11.2.0", {"3000/tcp": "3000"}),
                  _container("prometheus", "prom/prometheus:v2.54.1", {"9090/tcp": "9090"})]
    assert docker.published_ports(monitoring, facts_with(containers), grafana) == []
    assert docker.published_ports(monitoring, facts_with(containers), prometheus) == []
    containers[0] = _container("grafana", "grafana/grafana:11.2.0", {"3001/tcp": "3001"})
    (problem,) = docker.published_ports(monitoring, facts_with(containers), grafana)
    assert "container grafana: declared ports 3000:3000 not published" in problem
    assert docker.published_ports(monitoring, facts_with(containers), prometheus) == []


def _container(name: str, image: str, ports: dict[str, str]) -> dict:
    entry = json.loads(json.dumps(INSPECT[0]))
    entry.update(Name=f"/{name}", Config={"Image": image}, Mounts=[])
    entry["HostConfig"]["PortBindings"] = {port: [{"HostIp": "", "HostPort": host}] for port, host in ports.items()}
    return entry
