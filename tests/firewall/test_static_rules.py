"""Every declared port of a firewalled CT, and every port the gateway serves, is opened by a declared rule (policy_in
DROP would hide it)."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("ct-config"), pytest.mark.firewall, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("ct", params.services(lambda ct: ct.firewall.enabled and (bool(ct.ports) or ct.role == "gateway")))
def test_declared_ports_have_a_firewall_rule(ct: Container) -> None:
    findings = static_config.ports_without_rule(ct)
    assert not findings, "; ".join(findings)


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", params.documents())
def test_declared_state_is_well_formed(document: str) -> None:
    """Schema violations, wrong types, undeclared guests, duplicates, plaintext credentials of this layer."""
    findings = static_config.declared_state_findings(params.inventory(), document, "firewall")
    assert not findings, "; ".join(findings)
