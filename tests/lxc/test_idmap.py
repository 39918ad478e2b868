"""Unprivileged CTs: `unprivileged: 1` and the idmap in the config, and the same map seen from inside."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("ct-config")]


@pytest.mark.remediate("ct-recreate.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_unprivileged_is_as_declared(ct: Container) -> None:
    assert lxc.fixed_at_creation(ct, live.config(ct)) == []


@pytest.mark.remediate("idmap.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_unprivileged_idmap_in_config(ct: Container) -> None:
    assert lxc.idmap_config(ct, live.config(ct)) == []


@pytest.mark.rung("service")
@pytest.mark.remediate("idmap.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts())
def test_unprivileged_root_is_mapped(ct: Container) -> None:
    assert lxc.idmap_inside(ct, live.facts(ct)) == []
