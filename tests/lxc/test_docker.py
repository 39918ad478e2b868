"""Services Docker runs in a docker CT (phoenix_model.deployment decides from the CT's features and role): the
daemon is active, the container runs and is not crash-looping, comes back after a reboot, publishes the declared
ports and keeps its data on the CT's declared volume."""
import pytest

from phoenix_model.deployment import docker_service
from phoenix_model.inventory import Container
from phoenix_verify.checks import docker
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("service")]
INV = params.inventory()
DOCKER = params.services(lambda ct: docker_service(ct) is not None)


def _service(ct: Container):
    svc = docker_service(ct)
    assert svc is not None
    return svc


@pytest.mark.remediate("docker-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", DOCKER)
def test_docker_unit_active(ct: Container) -> None:
    assert docker.daemon_active(ct, live.facts(ct)) == []


@pytest.mark.remediate("docker-restart.sh", "{ctid}")
@pytest.mark.parametrize("ct", DOCKER)
def test_container_process_running(ct: Container) -> None:
    assert docker.container_running(ct, live.facts(ct), _service(ct)) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize("ct", DOCKER)
def test_container_restart_policy(ct: Container) -> None:
    assert docker.restart_policy(ct, live.facts(ct), _service(ct)) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize("ct", DOCKER)
def test_container_publishes_declared_ports(ct: Container) -> None:
    assert docker.published_ports(ct, live.facts(ct), _service(ct)) == []


@pytest.mark.remediate("app-script.sh", "{ctid}")
@pytest.mark.parametrize("ct", [p for p in DOCKER if p.values[0].dedicated_volumes])
def test_container_data_on_declared_volume(ct: Container) -> None:
    assert docker.data_volume(ct, live.facts(ct), _service(ct)) == []
