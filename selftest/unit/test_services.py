"""The service registry is the one place a service type is declared: registering one (and nothing else) makes the
inventory detect the role and every reader (unit, ports, process, docker, gateway routes, diagnosis) see it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from phoenix_model import services
from phoenix_model.deployment import docker_service, role_unit, service_ports
from phoenix_model.inventory import Container, Inventory, load_inventory
from phoenix_model.services import DockerService, GatewayRoute, Listener, ServiceType
from phoenix_verify.access.ct_facts import CtFacts, Process
from phoenix_verify.checks import lxc
from phoenix_verify.diagnosis import tree
from phoenix_verify.gateway import contract, guest_ports

CHROMA = ServiceType(
    "chroma", keywords=("chroma",), listeners=(Listener(8020, health="/api/v2/heartbeat"),), unit="chroma",
    process="chroma run", docker=(DockerService("chromadb/chroma:latest", "chroma", "/data", (8020,)),),
    routes=(GatewayRoute("chroma", "GET", "/chroma/api/v2/heartbeat", "/chroma/", "/api/v2/heartbeat"),))


def _with_ct(lab_dir: Path, tmp_path: Path, features: list[str]) -> Path:
    """The lab config plus CT 958 "chroma-rag", declared like n8n's CT (no ports, so the role's are used)."""
    config = tmp_path / "config"
    shutil.copytree(lab_dir, config)
    path = config / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    ct = json.loads(json.dumps(data["lxc_configs"]["954"]))
    ct.update(name="chroma-rag", application_script="phoenix_hypervisor_lxc_958.sh", features=features,
              mac_address="52:54:00:67:89:C8", volumes=[], firewall={"enabled": True, "rules": []})
    ct["network_config"]["ip"] = "198.18.0.158/24"
    ct.pop("ports")
    data["lxc_configs"]["958"] = ct
    path.write_text(json.dumps(data))
    return config


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private copy of the registry, so a registration in one test does not leak into the others."""
    monkeypatch.setattr(services, "SERVICE_TYPES", dict(services.SERVICE_TYPES))


def _facts(ct: Container, *args: str) -> CtFacts:
    return CtFacts(ct.ctid, (), (), ct.name, (), None, frozenset(), tuple(Process(1, "root", a) for a in args), ())


def _load(lab_dir: Path, tmp_path: Path, features: list[str]) -> tuple[Inventory, Container]:
    inv = load_inventory(_with_ct(lab_dir, tmp_path, features))
    return inv, inv.container(958)


def test_an_unregistered_service_is_other_and_no_reader_knows_it(registry, lab_dir, tmp_path) -> None:
    inv, ct = _load(lab_dir, tmp_path, ["base_setup"])
    assert ct.role == "other"
    assert role_unit(ct) is None and service_ports(ct) == ()
    assert all(r.ct.ctid != 958 for r in contract.routes(inv))
    assert tree.route_backend("/chroma/", inv) is None


def test_registering_a_service_type_is_the_one_edit(registry, lab_dir, tmp_path) -> None:
    services.register(CHROMA)
    inv, ct = _load(lab_dir, tmp_path, ["base_setup"])
    assert ct.role == "chroma"
    assert role_unit(ct) == "chroma" and docker_service(ct) is None
    assert service_ports(ct) == (8020,)
    assert guest_ports.catalog(inv)["198.18.0.158:8020"].service == "chroma"
    assert lxc.service_process(ct, _facts(ct, "/usr/bin/chroma run --port 8020")) == []
    assert lxc.service_process(ct, _facts(ct, "/usr/bin/sleep 1")) == ["ct958: no chroma process ('chroma run') running"]
    route = next(r for r in contract.routes(inv) if r.name == "chroma")
    assert (route.ct.ctid, route.upstream, route.direct_path) == (958, "198.18.0.158:8020", "/api/v2/heartbeat")
    assert tree.route_backend("/chroma/", inv) == 958
    failure = tree.Failure(f"tests/gateway/test_routes.py::test_route_answers_through_the_gateway[{route.test_id}]",
                           "gateway", None, None, "502", rung="gateway-route")
    assert (tree.place(failure, inv).ctid, failure.obj) == (958, "gateway:/chroma/")


def test_a_docker_ct_of_a_registered_type_runs_its_container(registry, lab_dir, tmp_path) -> None:
    services.register(CHROMA)
    _, ct = _load(lab_dir, tmp_path, ["docker"])
    assert docker_service(ct) == CHROMA.docker[0]
    assert role_unit(ct) is None


@pytest.mark.parametrize(("name", "script", "role"), [
    ("ollama-oWUI", "phoenix_hypervisor_lxc_955.sh", "ollama"), ("openWebUI-phoenix", None, "openwebui"),
    ("llamacpp", None, "llamacpp"), ("monitoring-stack", None, "monitoring"), ("Nginx-VscodeRag", None, "gateway"),
    ("qdrant-VSCodeRag", None, "qdrant"), ("n8n-phoenix", None, "n8n"), ("Step-CA", "phoenix_hypervisor_lxc_103.sh", "other"),
])
def test_detection_follows_the_registered_keywords(name: str, script: str | None, role: str) -> None:
    assert services.detect(name, script, "none") == role


def test_portainer_role_server_alone_makes_portainer() -> None:
    assert services.detect("manager", None, "server") == "portainer"
    assert services.detect("Nginx-Phoenix", None, "infrastructure") == "gateway"


def test_every_reference_role_is_registered(reference_dir) -> None:
    roles = {ct.role for ct in load_inventory(reference_dir).services()}
    assert roles - set(services.SERVICE_TYPES) == set()
    assert {"vllm", "gateway", "qdrant", "n8n", "portainer", "ollama", "openwebui", "llamacpp", "monitoring"} <= roles
