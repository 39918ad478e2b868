"""The diagnosis puts failures on the decision tree by the rung each test declares and reports one root cause per
broken service. Every record here is a real test id of the suite, carrying the markers the suite declares for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify.diagnosis.tree import diagnose, remediation_order


@pytest.fixture(scope="module")
def inv(lab_dir: Path):
    return load_inventory(lab_dir)


@pytest.fixture(scope="module")
def rec(suite_items: dict[str, dict]):
    """A failed record of a real test id, with the layer, rung, CT and fix the suite declares for it."""
    def make(nodeid: str, evidence: str = "boom", outcome: str = "failed") -> dict:
        assert nodeid in suite_items, f"{nodeid} is not a test of the suite"
        return {**{k: suite_items[nodeid][k] for k in ("layer", "rung", "ctid", "remediation", "fix")},
                "nodeid": nodeid, "outcome": outcome, "evidence": evidence}
    return make


UNIT_951 = "tests/lxc/test_runtime.py::test_role_unit_active[ct951-vllm-granite-embed-r2-vllm_model_server]"
EMBED_BATCH_951 = "tests/vllm/test_embeddings.py::test_batched_embeddings_shape_order_and_declared_dimension[ct951-vllm-granite-embed-r2]"
ROUTE_EMBED = "tests/gateway/test_routes.py::test_route_answers_through_the_gateway[phoenix.local/v1/embeddings]"
ROUTE_CHAT = "tests/gateway/test_routes.py::test_route_answers_through_the_gateway[phoenix.local/v1/chat/completions]"
ROUTE_QDRANT = "tests/gateway/test_routes.py::test_route_answers_through_the_gateway[phoenix.local/qdrant/]"
NGINX_UNIT = "tests/gateway/test_nginx_service.py::test_nginx_unit_active_in_the_gateway_ct[ct953-nginx-vscoderag-nginx]"


def test_healthy_run_has_no_root_cause(inv, rec) -> None:
    assert diagnose([rec(UNIT_951, outcome="passed")], inv) == []


def test_stopped_service_explains_route_and_api_failures(inv, rec) -> None:
    roots = diagnose([rec(UNIT_951, "vllm_model_server is not running"), rec(EMBED_BATCH_951), rec(ROUTE_EMBED)], inv)
    assert [(r.layer, r.object) for r in roots] == [("lxc", "ct951")]
    assert roots[0].remediation == "remediate/service-restart.sh 951 vllm_model_server" and roots[0].automatic
    assert roots[0].tests == [UNIT_951, EMBED_BATCH_951]   # the same rung of the same service: one cause
    assert roots[0].consequences == [f"{ROUTE_EMBED} (blocked by ct951: vllm_model_server is not running)"]


def test_stopped_ct_is_below_its_service(inv, rec) -> None:
    ct_down = "tests/lxc/test_ct_config.py::test_exists_and_status_matches_start_at_boot[ct951-vllm-granite-embed-r2]"
    roots = diagnose([rec(UNIT_951), rec(ct_down, "ct951 is stopped")], inv)
    assert [r.tests[0] for r in roots] == [ct_down]


def test_stopped_dependency_explains_its_dependents(inv, rec) -> None:
    gateway_down = "tests/lxc/test_ct_config.py::test_exists_and_status_matches_start_at_boot[ct953-nginx-vscoderag]"
    deps = [f"tests/lxc/test_runtime.py::test_dependency_running[ct95{n}-{name}-needs-ct953]"
            for n, name in ((0, "vllm-granite-chat"), (1, "vllm-granite-embed-r2"))]
    roots = diagnose([rec(gateway_down, "ct953 is stopped"), *map(rec, deps)], inv)
    assert [r.object for r in roots] == ["ct953"]
    assert len(roots[0].consequences) == 2


def test_wrong_process_args_is_below_the_answers_it_spoils(inv, rec) -> None:
    args = "tests/vllm/test_vllm_api.py::test_process_runs_with_declared_args[ct951-vllm-granite-embed-r2]"
    roots = diagnose([rec(EMBED_BATCH_951), rec(args, "--max-model-len 4096, declared 8192")], inv)
    assert [r.tests[0] for r in roots] == [args] and len(roots[0].consequences) == 1


def test_host_firewall_policy_absorbs_firewall_failures(inv, rec) -> None:
    roots = diagnose([
        rec("tests/host/test_host_live.py::test_datacenter_firewall_policy"),
        rec("tests/firewall/test_reachability.py::test_reachability_cell[ct950-vllm-granite-chat-8000-from-ct953]"),
        rec("tests/firewall/test_reachability.py::test_reachability_cell[ct952-qdrant-vscoderag-6333-from-ct953]"),
    ], inv)
    assert [(r.layer, r.object) for r in roots] == [("host", "host")]
    assert roots[0].remediation == "remediate/cluster-firewall.sh"
    assert len(roots[0].consequences) == 2


def test_volume_owner_is_named_as_object(inv, rec) -> None:
    roots = diagnose([
        rec("tests/host/test_host_live.py::test_shared_volume_dir_owner_and_mode[vllm_models]"),
        rec("tests/lxc/test_mounts.py::test_shared_mount_owner_inside[ct951-vllm-granite-embed-r2-vllm_models]"),
    ], inv)
    assert [(r.layer, r.object) for r in roots] == [("host", "volume:vllm_models")]
    assert roots[0].consequences and "ct951" not in {r.object for r in roots}


def test_manual_fix_is_said(inv, rec) -> None:
    roots = diagnose([rec("tests/gateway/test_tls.py::test_certificate_is_not_expiring[NOTSET]", "certificate expired")], inv)
    assert roots[0].object == "ct953" and not roots[0].automatic and "by hand" in (roots[0].manual_step or "")


def test_gateway_down_blocks_every_route(inv, rec) -> None:
    roots = diagnose([rec(NGINX_UNIT, "nginx is inactive"), rec(ROUTE_QDRANT), rec(ROUTE_CHAT)], inv)
    assert [(r.layer, r.object) for r in roots] == [("gateway", "ct953")]
    assert len(roots[0].consequences) == 2


def test_route_failure_alone_is_the_route_of_its_backend(inv, rec) -> None:
    roots = diagnose([rec(ROUTE_EMBED, "502 Bad Gateway")], inv)
    assert [(r.layer, r.object) for r in roots] == [("gateway", "gateway:/v1/embeddings")]


def test_remediation_order_is_bottom_up(inv, rec) -> None:
    records = [rec("tests/gateway/test_headers.py::test_security_headers_on_every_response[NOTSET]"),
               rec("tests/host/test_host_live.py::test_subids_cover_declared_idmaps[subuid]")]
    assert [r.layer for r in remediation_order(diagnose(records, inv))] == ["host", "gateway"]


def test_undeclared_rung_explains_nothing(inv, rec) -> None:
    """A record without a rung (an older report) sits on top of the tree: it never hides a lower failure."""
    undeclared = {**rec(EMBED_BATCH_951), "rung": None}
    roots = diagnose([undeclared, rec(UNIT_951)], inv)
    assert [r.tests[0] for r in roots] == [UNIT_951]


def test_expired_certificate_explains_every_route(inv, rec) -> None:
    """The gateway's TLS is the gateway CT's own service: below every route that passes through it."""
    roots = diagnose([rec("tests/gateway/test_tls.py::test_certificate_is_not_expiring[NOTSET]", "certificate expired"),
                      rec(ROUTE_QDRANT, "certificate verify failed"), rec(ROUTE_EMBED, "certificate verify failed")], inv)
    assert [(r.layer, r.object) for r in roots] == [("gateway", "ct953")]
    assert len(roots[0].consequences) == 2 and not roots[0].automatic


def test_config_drift_with_the_same_fix_is_the_broken_route(inv, rec) -> None:
    """A route sent to the wrong CT also shows as drift of the gateway's config: one fix, one root cause (the route)."""
    drift = "tests/gateway/test_drift.py::test_deployed_route_matches_contract[phoenix.local/v1/embeddings]"
    roots = diagnose([rec(ROUTE_EMBED, "answered for model granite-3.3-8b-instruct"), rec(drift, "upstream is ct950")], inv)
    assert [(r.layer, r.object) for r in roots] == [("gateway", "gateway:/v1/embeddings")]
    assert [c.split(" ")[0] for c in roots[0].consequences] == [drift]


def test_config_drift_alone_stays_on_the_gateway(inv, rec) -> None:
    drift = "tests/gateway/test_drift.py::test_deployed_config_has_no_drift[security-headers]"
    assert [(r.layer, r.object) for r in diagnose([rec(drift)], inv)] == [("gateway", "ct953")]
