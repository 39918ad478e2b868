"""vLLM declarations agree with themselves: args vs scalar fields, unique served names, GPU budget."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import static_config
from phoenix_verify.suite import params

pytestmark = [pytest.mark.rung("service"), pytest.mark.vllm, pytest.mark.static]


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("ct", params.services(lambda ct: ct.vllm is not None))
def test_vllm_args_agree_with_declared_scalars(ct: Container) -> None:
    findings = static_config.vllm_arg_disagreements(ct)
    assert not findings, "; ".join(findings)


@pytest.mark.remediate("inventory-fix.sh")
def test_served_model_names_are_unique() -> None:
    findings = static_config.duplicate_served_names(params.inventory())
    assert not findings, "; ".join(findings)


@pytest.mark.remediate("inventory-fix.sh")
def test_gpus_are_not_oversubscribed() -> None:
    findings = static_config.gpu_oversubscription(params.inventory())
    assert not findings, "; ".join(findings)


@pytest.mark.remediate("inventory-fix.sh")
@pytest.mark.parametrize("document", params.documents())
def test_declared_state_is_well_formed(document: str) -> None:
    """Schema violations, wrong types, undeclared guests, duplicates, plaintext credentials of this layer."""
    findings = static_config.declared_state_findings(params.inventory(), document, "vllm")
    assert not findings, "; ".join(findings)
