"""The gateway's part of the declared state (the certificate manifest and what it names) is well-formed."""
import pytest

from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("ct-config"), pytest.mark.gateway, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", params.documents())
def test_declared_state_is_well_formed(document: str) -> None:
    """Schema violations, wrong types, undeclared guests, duplicates, plaintext credentials of this layer."""
    findings = static_config.declared_state_findings(params.inventory(), document, "gateway")
    assert not findings, "; ".join(findings)
