"""Each static config check passes on the lab inventory and catches a planted defect."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from phoenix_model.inventory import load_inventory
from phoenix_verify.checks import static_config


def test_lab_inventory_is_clean(lab_dir: Path) -> None:
    inv = load_inventory(lab_dir)
    assert static_config.gpu_oversubscription(inv) == []
    assert static_config.duplicate_served_names(inv) == []
    for ct in inv.services():
        assert static_config.ports_without_rule(ct) == []
        assert static_config.vllm_arg_disagreements(ct) == []
        assert static_config.dependency_order(inv, ct) == []


def test_planted_defects_are_found(tmp_path: Path, lab_dir: Path) -> None:
    shutil.copytree(lab_dir, tmp_path / "cfg")
    path = tmp_path / "cfg" / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    cts = data["lxc_configs"]
    cts["952"]["firewall"]["rules"].pop()                           # 6334 without a rule
    cts["951"]["vllm_gpu_memory_utilization"] = 0.5                 # 0.6 + 0.5 > 1 on GPU 0, and disagrees with args
    cts["951"]["vllm_served_model_name"] = "granite-3.3-8b-instruct"
    cts["954"]["boot_order"] = 1                                     # same order as its dependency 953
    del cts["953"]["ports"]                                          # the gateway's ports, undeclared: still served
    cts["953"]["firewall"]["rules"] = [r for r in cts["953"]["firewall"]["rules"] if r["port"] != "443"]
    path.write_text(json.dumps(data))
    inv = load_inventory(tmp_path / "cfg")
    assert static_config.ports_without_rule(inv.container(952)) == ["ct952: port 6334 is declared but no firewall rule accepts it"]
    assert static_config.ports_without_rule(inv.container(953)) == [
        "ct953: the gateway serves port 443 but no firewall rule accepts it"]
    assert static_config.gpu_oversubscription(inv) == ["GPU 0: CTs 950, 951 request 1.10 of its memory"]
    assert any("--gpu-memory-utilization 0.10 disagrees with vllm_gpu_memory_utilization = 0.5" in f
               for f in static_config.vllm_arg_disagreements(inv.container(951)))
    assert static_config.duplicate_served_names(inv) == ["served model name 'granite-3.3-8b-instruct' is used by CTs 950, 951"]
    assert static_config.dependency_order(inv, inv.container(954)) == ["ct954: boot_order 1 but its dependency ct953 boots at 1"]


def test_trust_remote_code_must_match_args(lab_dir: Path) -> None:
    ct = load_inventory(lab_dir).container(950)
    flipped = dataclasses.replace(ct, vllm=dataclasses.replace(ct.vllm, trust_remote_code=True))
    assert static_config.vllm_arg_disagreements(flipped) == [
        "ct950: vllm_trust_remote_code = True but vllm_args lacks --trust-remote-code"]


def test_reference_schema_drift_is_reported(tmp_path: Path, reference_dir: Path) -> None:
    # The real Phoenix schemas predate `volumes` and the misplaced shared_volumes.firewall: real findings.
    findings = static_config.schema_findings(reference_dir, "phoenix_lxc_configs.json")
    assert any("lxc_configs.952" in f and "volumes" in f for f in findings)


def test_flag_equals_value_form_is_compared(lab_dir: Path) -> None:
    ct = load_inventory(lab_dir).container(950)
    args = tuple(a for a in ct.vllm.args if a not in ("--max-model-len", "4096")) + ("--max-model-len=2048",)
    changed = dataclasses.replace(ct, vllm=dataclasses.replace(ct.vllm, args=args))
    assert static_config.vllm_arg_disagreements(changed) == [
        "ct950: vllm_args --max-model-len 2048 disagrees with vllm_max_model_len = 4096"]


def test_dependency_that_does_not_start_at_boot(lab_dir: Path) -> None:
    inv = load_inventory(lab_dir)
    gateway = dataclasses.replace(inv.container(953), start_at_boot=False)
    inv = dataclasses.replace(inv, containers={**inv.containers, 953: gateway})
    assert static_config.dependency_order(inv, inv.container(954)) == [
        "ct954: depends on ct953, which does not start at boot"]


def test_vllm_internal_endpoints_exposure_can_fail() -> None:
    """/health is an empty 200 and /version a bare JSON in vLLM: the gateway passing them through is exposure even
    though neither text names vLLM."""
    from phoenix_verify.checks.headers import internal_endpoint_problems

    assert internal_endpoint_problems("/health", 200, "", [(200, "")]) != []
    assert internal_endpoint_problems("/version", 200, '{"version":"0.6.3"}', [(200, '{"version":"0.6.3"}')]) != []
    assert internal_endpoint_problems("/metrics", 200, "# HELP vllm:num_requests_running", []) != []
    assert internal_endpoint_problems("/health", 404, "", [(200, "")]) == []
    assert internal_endpoint_problems("/health", 200, "gateway ok", [(200, "")]) == []


def test_a_port_no_declared_rule_opens_is_told_apart(lab_dir: Path, reference_dir: Path) -> None:
    """The live port check proposes re-applying the declared rules only where they open the port: the reference
    config's qdrant declares gRPC 6334 without a rule (a config defect, fixed in the config)."""
    assert {6333, 6334} <= static_config.declared_open_ports(load_inventory(lab_dir).container(952))
    assert static_config.declared_open_ports(load_inventory(reference_dir).container(952)) == {6333}
