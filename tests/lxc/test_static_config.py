"""Declared container relations that can be judged without a live system."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("ct-config"), pytest.mark.lxc, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("ct", params.services(lambda ct: bool(ct.dependencies)))
def test_dependencies_boot_before_their_dependent(ct: Container) -> None:
    findings = static_config.dependency_order(params.inventory(), ct)
    assert not findings, "; ".join(findings)


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", params.documents())
def test_declared_state_is_well_formed(document: str) -> None:
    """Schema violations, wrong types, undeclared guests, duplicates, plaintext credentials of this layer."""
    findings = static_config.declared_state_findings(params.inventory(), document, "lxc")
    assert not findings, "; ".join(findings)
