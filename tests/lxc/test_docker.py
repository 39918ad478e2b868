"""Services Docker runs in a docker CT (phoenix_model.deployment decides from the CT's features and role): the
daemon is active, each container runs and is not crash-looping, comes back after a reboot, publishes the declared
ports and the main one keeps its data on the CT's declared volume. A CT that runs several containers
(monitoring) has one test per container, its id suffixed with the container's name."""
import pytest

from phoenix_model.deployment import docker_service, docker_services
from phoenix_model.inventory import Container
from phoenix_model.services import DockerService
from phoenix_verify.checks import docker
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("service")]
INV = params.inventory()
DOCKER = params.services(lambda ct: docker_service(ct) is not None)


def _containers(main_only: bool = False) -> list:
    """(ct, container) params: id = the CT's slug, or `<slug>-<container>` when the CT runs several."""
    out = []
    for ct in INV.services():
        every = docker_services(ct)
        for svc in every[:1] if main_only else every:
            out += params.pairs([(ct, svc, svc.name)]) if len(every) > 1 else [params.ct_param(ct, ct, svc)]
    return out


CONTAINERS = _containers()


@pytest.mark.remediate("docker-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", DOCKER)
def test_docker_unit_active(ct: Container) -> None:
    assert docker.daemon_active(ct, live.facts(ct)) == []


@pytest.mark.remediate("docker-restart.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "svc"), CONTAINERS)
def test_container_process_running(ct: Container, svc: DockerService) -> None:
    assert docker.container_running(ct, live.facts(ct), svc) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "svc"), CONTAINERS)
def test_container_restart_policy(ct: Container, svc: DockerService) -> None:
    assert docker.restart_policy(ct, live.facts(ct), svc) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "svc"), CONTAINERS)
def test_container_publishes_declared_ports(ct: Container, svc: DockerService) -> None:
    assert docker.published_ports(ct, live.facts(ct), svc) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "svc"), [p for p in _containers(main_only=True) if p.values[0].dedicated_volumes])
def test_container_data_on_declared_volume(ct: Container, svc: DockerService) -> None:
    assert docker.data_volume(ct, live.facts(ct), svc) == []
