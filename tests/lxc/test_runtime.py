"""Inside each running CT: dependencies up, declared ports listening, the role's service running."""
import pytest

from phoenix_model.deployment import role_unit
from phoenix_model.inventory import Container
from phoenix_verify.checks import lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("service")]
INV = params.inventory()
# The gateway CT's nginx belongs to the gateway layer (tests/gateway/test_nginx_service.py): a stopped nginx is a
# gateway fault, and one layer reports it.
SERVICES = [ct for ct in INV.services() if ct.role != "gateway"]
# Services Docker runs (docker CTs) are checked as containers in tests/lxc/test_docker.py.
ROLE_UNIT_PARAMS = params.pairs((ct, role_unit(ct), role_unit(ct)) for ct in SERVICES if role_unit(ct))


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_network_inside_matches_net0(ct: Container) -> None:
    assert lxc.network_inside(ct, live.facts(ct)) == []


DEPS = [  # the failing object is the dependency, so the test is marked with its CTID and remediation
    pytest.param(ct, dep, id=f"{ct.slug}-needs-ct{dep}",
                 marks=[pytest.mark.ctid(dep, n=dep), pytest.mark.remediate("ct-start.sh", str(dep))])
    for ct in INV.services() for dep in ct.dependencies
]


@pytest.mark.rung("deps")
@pytest.mark.parametrize(("ct", "dep"), DEPS)
def test_dependency_running(ct: Container, dep: int) -> None:
    assert lxc.dependencies_running(ct, {dep: live.status(dep)}) == []


@pytest.mark.remediate("service-restart.sh", "{ctid}", "{unit}")
@pytest.mark.parametrize(("ct", "unit"), ROLE_UNIT_PARAMS)
def test_role_unit_active(ct: Container, unit: str) -> None:
    assert lxc.unit_active(ct, live.facts(ct), unit) == []


PORTS = [
    pytest.param(ct, p, id=f"{ct.slug}-{p}", marks=[pytest.mark.ctid(ct.ctid, n=ct.ctid),
                 pytest.mark.remediate("app-script.sh", "{ctid}")])
    for ct in SERVICES for p in sorted({m.container for m in ct.ports})
]


# A running unit that listens elsewhere is misconfigured, not stopped: the application script rewrites and restarts it.
@pytest.mark.parametrize(("ct", "port"), PORTS)
def test_declared_port_listening(ct: Container, port: int) -> None:
    assert lxc.port_listening(ct, live.facts(ct), port) == []


@pytest.mark.remediate("service-restart.sh", "{ctid}", "{unit}")
@pytest.mark.parametrize(("ct", "unit"), ROLE_UNIT_PARAMS)
def test_role_process_running(ct: Container, unit: str) -> None:
    assert lxc.service_process(ct, live.facts(ct)) == []
