"""firewall and host comparison logic: rule matching, declared reachability, sub-id coverage, volume dirs."""
from __future__ import annotations

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_model.pve_formats import parse_firewall_file
from phoenix_verify.access.host_facts import HostFacts
from phoenix_verify.access.reachability import Cell, plan
from phoenix_verify.checks import firewall, host


@pytest.fixture(scope="module")
def inv(lab_dir):
    return load_inventory(lab_dir)


def test_declared_rules_match_parsed_fw_file_in_any_order(inv) -> None:
    ct = inv.container(952)
    fw = parse_firewall_file("[OPTIONS]\n\nenable: 1\n\n[RULES]\n\n"
                             "IN ACCEPT -source 198.18.0.153 -p tcp -dport 6334\nIN ACCEPT -source 198.18.0.153 -p tcp -dport 6333 # qdrant\n")
    assert all(firewall.rule_present(ct, r, fw) == [] for r in ct.firewall.rules)
    assert firewall.fw_enabled(ct, fw) == []
    partial = parse_firewall_file("[OPTIONS]\n\nenable: 0\n\n[RULES]\n\n|IN ACCEPT -source 198.18.0.153 -p tcp -dport 6333\n")
    assert "is missing" in firewall.rule_present(ct, ct.firewall.rules[0], partial)[0]
    assert firewall.fw_enabled(ct, partial) == ["ct952: 952.fw enable is 0, expected 1"]
    assert firewall.port_has_live_rule(ct, 6333, partial) == ["ct952: no enabled IN ACCEPT rule opens tcp/6333"]


def test_allowed_follows_source_networks_and_ports(inv) -> None:
    qdrant, gateway = inv.container(952), inv.container(953)
    assert firewall.allowed(qdrant, "198.18.0.153", 6333)
    assert not firewall.allowed(qdrant, "198.18.0.99", 6333)
    assert not firewall.allowed(qdrant, "198.18.0.153", 22)
    assert firewall.allowed(gateway, "198.18.0.13", 443)          # 198.18.0.0/15


def test_cell_outcomes() -> None:
    base = {"source": "ct910", "destination": "ct952", "dest_ip": "198.18.0.152", "port": 6333}
    assert firewall.cell(Cell(**base, expected="blocked", observed="timeout")) == []
    assert firewall.cell(Cell(**base, expected="blocked", observed="refused")) == []
    assert firewall.cell(Cell(**base, expected="allowed", observed="connected")) == []
    assert firewall.cell(Cell(**base, expected="allowed", observed="refused")) == []     # service down: lxc layer
    assert firewall.cell(Cell(**base, expected="allowed", observed="timeout")) == [
        "ct910 -> ct952:6333: expected allowed, observed timeout"]
    assert firewall.cell(Cell(**base, expected="blocked", observed="connected")) == [
        "ct910 -> ct952:6333: expected blocked, observed connected"]


def test_matrix_plan_has_gateway_host_and_other_ct_per_port(inv) -> None:
    cells = plan(inv, firewall.allowed)
    qdrant = {(s.name, c.port, c.expected) for d, s, c in cells if d.ctid == 952}
    assert {("ct953", 6333, "allowed"), ("host", 6333, "blocked")} <= qdrant
    assert any(name not in ("ct953", "host") and exp == "blocked" for name, _, exp in qdrant)
    assert not any(d.is_template for d, _, _ in cells)


def test_subids_must_cover_ranges_delegated_to_root() -> None:
    delegated = (("root", 100000, 65536), ("alice", 1000, 1))
    assert host.subids_cover("u", [(100000, 65536)], delegated) == []
    assert host.subids_cover("u", [(1000, 1)], delegated) == [
        "host: /etc/subuid does not delegate 1000-1000 to root (root has [(100000, 165536)])"]


def test_shared_dir_owner_and_mode(inv) -> None:
    vol = inv.shared_volumes["vllm_models"]

    def facts(stat: str) -> HostFacts:
        return HostFacts((), True, (), (), None, False, {vol.host_path: stat})

    assert host.shared_dir(vol, facts("100000:100000:775")) == []
    assert "expected uid:gid:mode 100000:100000:775, found 0:0:775" in host.shared_dir(vol, facts("0:0:775"))[0]
    assert "does not exist" in host.shared_dir(vol, facts("missing"))[0]


def test_api_version_shape() -> None:
    assert host.api_version({"version": "8.2.4", "release": "8.2", "repoid": "faa83925"}) == []
    assert host.api_version({"version": "eight"}) != []


def test_declared_gpus_without_a_driver_fail(inv) -> None:
    """No nvidia-smi on a host whose CTs are assigned GPUs is a failure naming the driver, never a skip."""
    def facts(driver: str | None) -> HostFacts:
        return HostFacts((), True, (), (), None, False, {}, nvidia_driver=driver)

    want = inv.host.nvidia_driver_version
    assert host.gpu_driver(inv.host, facts(want)) == []
    assert host.gpu_driver(inv.host, facts(None)) == [f"host: nvidia driver: expected {want}, found no nvidia-smi (no driver installed)"]
    assert "found 535.0" in host.gpu_driver(inv.host, facts("535.0"))[0]
