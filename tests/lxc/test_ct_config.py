"""Each CT's control-plane config matches the declaration (pct config / API, parsed)."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("ct-config")]


@pytest.mark.rung("ct-running")
@pytest.mark.remediate("ct-start.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_exists_and_status_matches_start_at_boot(ct: Container) -> None:
    assert lxc.status(ct, live.status(ct.ctid)) == []


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("key", ["hostname", "cores", "memory", "onboot"])
@pytest.mark.parametrize("ct", params.cts())
def test_config_field(ct: Container, key: str) -> None:
    assert lxc.field(ct, live.config(ct), key) == []


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_startup_order(ct: Container) -> None:
    assert lxc.startup_order(ct, live.config(ct)) == []


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_net0_matches_network_config(ct: Container) -> None:
    assert lxc.net0(ct, live.config(ct)) == []


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_apparmor_profile(ct: Container) -> None:
    assert lxc.apparmor(ct, live.config(ct)) == []


@pytest.mark.remediate("ct-config.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_features(ct: Container) -> None:
    assert lxc.features(ct, live.config(ct)) == []


@pytest.mark.remediate("gpu-passthrough.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_gpu_device_lines_match_assignment(ct: Container) -> None:
    assert lxc.gpu_lines(ct, live.config(ct)) == []
