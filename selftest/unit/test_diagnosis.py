"""The diagnosis puts failures on the decision tree and reports one root cause per broken service."""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify.diagnosis.tree import diagnose, remediation_order


@pytest.fixture(scope="module")
def inv(lab_dir: Path):
    return load_inventory(lab_dir)


def rec(nodeid: str, layer: str, ctid: int | None, remediation: str | None = None, evidence: str = "boom") -> dict:
    words = (remediation or "").split()   # test data: the record's structured fix, as the plugin writes it
    fix = {"script": words[0].removeprefix("remediate/"), "args": words[1:]} if words else None
    return {"nodeid": nodeid, "outcome": "failed", "layer": layer, "ctid": ctid, "remediation": remediation, "fix": fix,
            "evidence": evidence}


def test_healthy_run_has_no_root_cause(inv) -> None:
    assert diagnose([{"nodeid": "tests/lxc/test_x.py::test_a[ct951]", "outcome": "passed", "layer": "lxc", "ctid": 951}], inv) == []


def test_stopped_service_explains_route_and_api_failures(inv) -> None:
    records = [
        rec("tests/lxc/test_services.py::test_service_process_is_running[ct951-vllm-granite-embed-r2]", "lxc", 951,
            "remediate/vllm-restart.sh 951", "vllm_model_server is not running"),
        rec("tests/vllm/test_vllm_api.py::test_embeddings_through_the_gateway[ct951-vllm-granite-embed-r2]", "vllm", 951),
        rec("tests/gateway/test_routes.py::test_route_answers[/v1/embeddings]", "gateway", None, "remediate/gateway-config.sh 953"),
    ]
    roots = diagnose(records, inv)
    assert [(r.layer, r.object) for r in roots] == [("lxc", "ct951")]
    assert roots[0].remediation == "remediate/vllm-restart.sh 951" and roots[0].automatic
    assert len(roots[0].consequences) == 2
    assert all("blocked by ct951" in c for c in roots[0].consequences)


def test_host_firewall_policy_absorbs_firewall_failures(inv) -> None:
    records = [
        rec("tests/host/test_host.py::test_datacenter_firewall_policy_matches", "host", None, "remediate/cluster-firewall.sh"),
        rec("tests/firewall/test_reachability.py::test_port_is_dropped_from_other_sources[ct950-vllm-granite-chat-8000]", "firewall", 950),
        rec("tests/firewall/test_reachability.py::test_port_is_dropped_from_other_sources[ct952-qdrant-vscoderag-6333]", "firewall", 952),
    ]
    roots = diagnose(records, inv)
    assert [(r.layer, r.object) for r in roots] == [("host", "host")]
    assert len(roots[0].consequences) == 2


def test_volume_owner_is_named_as_object(inv) -> None:
    records = [
        rec("tests/host/test_host.py::test_shared_volume_owner[vllm_models]", "host", None, "remediate/shared-volume-owner.sh vllm_models"),
        rec("tests/lxc/test_mounts.py::test_mount_is_owned_by_ct_root[ct951-vllm-granite-embed-r2-/vllm_models]", "lxc", 951),
    ]
    roots = diagnose(records, inv)
    assert [(r.layer, r.object) for r in roots] == [("host", "volume:vllm_models")]
    assert roots[0].consequences and "ct951" not in {r.object for r in roots}


def test_manual_fix_is_said(inv) -> None:
    roots = diagnose([rec("tests/gateway/test_tls.py::test_certificate_is_not_expiring[phoenix.local]", "gateway", 953,
                          "remediate/gateway-cert.sh", "certificate expired")], inv)
    assert roots[0].object == "ct953" and not roots[0].automatic and "by hand" in roots[0].manual_step


def test_gateway_down_blocks_every_route(inv) -> None:
    records = [
        rec("tests/lxc/test_services.py::test_service_process_is_running[ct953-nginx-vscoderag]", "lxc", 953, "remediate/service-restart.sh 953 nginx.service"),
        rec("tests/gateway/test_routes.py::test_route_answers[/qdrant/]", "gateway", None),
        rec("tests/gateway/test_routes.py::test_route_answers[/v1/chat/completions]", "gateway", None),
    ]
    roots = diagnose(records, inv)
    assert [(r.layer, r.object) for r in roots] == [("lxc", "ct953")]
    assert len(roots[0].consequences) == 2


def test_remediation_order_is_bottom_up(inv) -> None:
    records = [rec("tests/gateway/test_headers.py::test_hsts_is_sent[phoenix.local]", "gateway", 953, "remediate/gateway-config.sh 953"),
               rec("tests/host/test_host.py::test_subids_cover_idmaps", "host", None, "remediate/subid.sh")]
    assert [r.layer for r in remediation_order(diagnose(records, inv))] == ["host", "gateway"]
