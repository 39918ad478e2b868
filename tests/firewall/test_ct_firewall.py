"""Per CT with a declared firewall: NIC flag, `.fw` enable, every declared rule present, every port opened;
declared ports without an effective firewall are reported as exposed."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import firewall, static_config
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.firewall, pytest.mark.rung("ct-config")]
INV = params.inventory()
FIREWALLED = [ct for ct in INV.services() if ct.firewall.enabled]


def _rule_id(rule) -> str:
    return "-".join(str(x) for x in (rule.direction, rule.action.lower(), rule.proto, rule.dport, rule.source) if x).replace("/", "_")


@pytest.mark.remediate("net0-firewall.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.services(lambda ct: ct.firewall.enabled))
def test_net0_has_firewall_flag(ct: Container) -> None:
    assert firewall.net0_firewall(ct, live.ct_config(ct.ctid)) == []


@pytest.mark.remediate("ct-firewall-enable.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.services(lambda ct: ct.firewall.enabled))
def test_ct_firewall_enabled(ct: Container) -> None:
    assert firewall.fw_enabled(ct, live.ct_firewall(ct.ctid)) == []


@pytest.mark.remediate("ct-firewall-rules.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "rule"), params.pairs((ct, r, _rule_id(r)) for ct in FIREWALLED for r in ct.firewall.rules))
def test_declared_rule_present(ct: Container, rule) -> None:
    assert firewall.rule_present(ct, rule, live.ct_firewall(ct.ctid)) == []


def _port_fix(ct: Container, port: int) -> list[pytest.MarkDecorator]:
    """Re-applying the declared rules fixes a port they open; a port no declared rule opens is the config's defect."""
    if port in static_config.declared_open_ports(ct):
        return [pytest.mark.remediate("ct-firewall-rules.sh", "{ctid}")]
    return [pytest.mark.remediate("inventory-fix.sh")]


@pytest.mark.parametrize(("ct", "port"), params.pairs(((ct, p, str(p)) for ct in FIREWALLED for p in sorted({m.container for m in ct.ports})),
                                                      marks=_port_fix))
def test_declared_port_has_live_rule(ct: Container, port: int) -> None:
    assert firewall.port_has_live_rule(ct, port, live.ct_firewall(ct.ctid)) == []


@pytest.mark.rung("path")
@pytest.mark.remediate("ct-firewall-enable.sh", "{ctid}")
@pytest.mark.parametrize(("ct", "port"), params.pairs((ct, p, str(p)) for ct in INV.services() for p in sorted({m.container for m in ct.ports})))
def test_declared_port_not_exposed(ct: Container, port: int) -> None:
    assert firewall.exposed(ct, port, live.ct_config(ct.ctid), live.ct_firewall(ct.ctid)) == []
