"""The declared state validates against the Phoenix schemas that ship with it."""
import pytest

from phoenix_model.inventory import HYPERVISOR_FILE, LXC_FILE
from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("host"), pytest.mark.host, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", [LXC_FILE, HYPERVISOR_FILE])
def test_config_matches_its_phoenix_schema(document: str) -> None:
    config_dir = params.inventory().source_dir
    if document not in static_config.schema_files(config_dir):
        pytest.skip(f"no {static_config.SCHEMAS[document]} next to {document} in {config_dir}")
    findings = static_config.schema_findings(config_dir, document)
    assert not findings, "; ".join(findings)
