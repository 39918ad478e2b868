"""The declared state validates against the Phoenix schemas that ship with it, and the loader found nothing
wrong in the host's part of it."""
import pytest

from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("host"), pytest.mark.host, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", params.documents())
def test_declared_state_is_well_formed(document: str) -> None:
    """Schema violations, wrong types, undeclared guests, duplicates, plaintext credentials of this layer."""
    findings = static_config.declared_state_findings(params.inventory(), document, "host")
    assert not findings, "; ".join(findings)
