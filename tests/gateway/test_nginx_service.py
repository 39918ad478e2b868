"""The gateway CT's own service: nginx's unit is active and listens on the ports the gateway serves (the lxc
layer checks the other CTs' services; a stopped nginx is reported once, here)."""
from __future__ import annotations

import pytest

from phoenix_model.inventory import Container
from phoenix_model.services import unit_of
from phoenix_verify.checks import lxc
from phoenix_verify.gateway.contract import served_ports
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.gateway, pytest.mark.rung("service")]
GATEWAY = [ct for ct in params.inventory().services() if ct.role == "gateway"]
UNIT = unit_of("gateway")


@pytest.mark.remediate("service-restart.sh", "{ctid}", "{unit}")
@pytest.mark.parametrize(("ct", "unit"), params.pairs((ct, UNIT, UNIT) for ct in GATEWAY))
def test_nginx_unit_active_in_the_gateway_ct(ct: Container, unit: str) -> None:
    assert lxc.unit_active(ct, live.facts(ct), unit) == []


@pytest.mark.remediate("service-restart.sh", "{ctid}", UNIT)
@pytest.mark.parametrize(("ct", "port"), params.pairs((ct, p, str(p)) for ct in GATEWAY for p in served_ports(ct)))
def test_nginx_listens_on_the_gateway_port(ct: Container, port: int) -> None:
    assert lxc.port_listening(ct, live.facts(ct), port) == []
