"""The inventory resolves the real Phoenix config the way the orchestrator does."""
from __future__ import annotations

import json
import shutil
from ipaddress import IPv4Interface
from pathlib import Path

import pytest

from phoenix_model.inventory import InventoryError, load_inventory


def test_reference_config_has_all_fifteen_containers(reference_dir: Path) -> None:
    inv = load_inventory(reference_dir)
    assert sorted(inv.containers) == [900, 901, 902, 903, 910, 920, 950, 951, 952, 953, 954, 955, 956, 957, 960]


def test_effective_features_follow_clone_chains(reference_dir: Path) -> None:
    inv = load_inventory(reference_dir)
    assert inv.container(950).features == ("base_setup", "nvidia", "vllm")
    assert inv.container(960).features == ("base_setup", "nvidia", "docker")
    assert inv.container(950).own_features == ("vllm",)


def test_gateway_gets_three_shared_mounts(reference_dir: Path) -> None:
    ct = load_inventory(reference_dir).container(953)
    assert {m.mount_path for m in ct.shared_mounts} == {"/etc/nginx/ssl", "/etc/nginx/sites-available", "/logs/nginx"}
    assert all((m.owner_uid, m.owner_gid) == (100000, 100000) for m in ct.shared_mounts)


def test_declared_facts_are_typed(reference_dir: Path) -> None:
    inv = load_inventory(reference_dir)
    ct = inv.container("951")
    assert ct.network.ip == IPv4Interface("10.0.0.151/24")
    assert ct.network.mac == "52:54:00:67:89:B1"
    assert ct.vllm and ct.vllm.max_model_len == 1024 and ct.vllm.model_type == "embedding"
    assert ct.firewall.enabled and ct.firewall.rules[0].dport == "8000"
    assert ct.slug == "ct951-vllm-granite-embed-r2"
    assert ct.gpus == (0,) and inv.container(920).gpus == (0, 1)
    assert inv.container(952).dedicated_volumes[0].mount_point == "/qdrant/storage"
    assert inv.host.policy_in == "DROP" and inv.host.admin_user == "phoenix_admin"


def test_roles_are_derived(reference_dir: Path) -> None:
    inv = load_inventory(reference_dir)
    assert inv.gateway().ctid == 953
    assert {c.ctid for c in inv.by_role("vllm")} == {950, 951}
    assert inv.container(910).role == "portainer" and inv.container(952).role == "qdrant"
    assert all(c.role == "template" for c in inv.containers.values() if c.is_template)


def test_missing_optional_fields_take_orchestrator_defaults(tmp_path: Path, reference_dir: Path) -> None:
    shutil.copytree(reference_dir, tmp_path / "cfg")
    path = tmp_path / "cfg" / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    for key in ("unprivileged", "start_at_boot", "boot_order", "features", "gpu_assignment", "firewall"):
        data["lxc_configs"]["953"].pop(key)
    path.write_text(json.dumps(data))
    ct = load_inventory(tmp_path / "cfg").container(953)
    assert (ct.unprivileged, ct.start_at_boot, ct.boot_order, ct.gpus, ct.firewall.enabled) == (False, False, 0, (), False)
    assert ct.features == ("base_setup",)  # inherited from 900 through clone_from_ctid


def test_unknown_fields_are_kept_and_warned_once(tmp_path: Path, reference_dir: Path) -> None:
    shutil.copytree(reference_dir, tmp_path / "cfg")
    path = tmp_path / "cfg" / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"]["951"]["lxc_options"] = ["lxc.mount.auto: sys:rw"]
    data["lxc_configs"]["951"]["id_maps"] = [{"type": "u", "container": 0}]
    data["lxc_configs"]["951"]["network_config"]["nameservers"] = "10.0.0.13"
    data["lxc_configs"]["951"]["firewall"]["rules"][0]["enable"] = 1
    path.write_text(json.dumps(data))
    inv = load_inventory(tmp_path / "cfg")
    extra = inv.container(951).extra
    assert extra["lxc_options"] == ["lxc.mount.auto: sys:rw"]
    assert extra["network_config.nameservers"] == "10.0.0.13" and extra["firewall.rules[0].enable"] == 1
    for where in ("lxc_options", "id_maps", "network_config.nameservers", "firewall.rules[0].enable"):
        assert sum(w.endswith(f"lxc_configs.951.{where}: unknown field kept as-is") for w in inv.warnings) == 1, where
    assert len(inv.warnings) == 4


def test_unknown_ctid_is_an_inventory_error(reference_dir: Path) -> None:
    with pytest.raises(InventoryError, match="unknown CTID 999"):
        load_inventory(reference_dir).container(999)


def test_lab_inventory_uses_only_the_lab_range(lab_dir: Path) -> None:
    inv = load_inventory(lab_dir)
    assert {950, 951, 952, 953, 954, 910, 900, 920} <= set(inv.containers)
    for ct in inv.containers.values():
        assert str(ct.network.ip.ip).startswith("198.18."), ct.ctid
    assert str(inv.host.address.ip).startswith("198.18.")
    assert inv.host.hostname == "pve" and inv.warnings == ()
    assert inv.container(950).vllm.served_model_name == "granite-3.3-8b-instruct"
    assert inv.container(951).vllm.served_model_name == "ibm-granite/granite-embedding-english-r2"


def test_schema_placed_firewall_policy_is_read(tmp_path: Path, reference_dir: Path) -> None:
    shutil.copytree(reference_dir, tmp_path / "cfg")
    path = tmp_path / "cfg" / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["firewall"] = data["shared_volumes"].pop("firewall") | {"default_input_policy": "REJECT"}
    path.write_text(json.dumps(data))
    inv = load_inventory(tmp_path / "cfg")
    assert (inv.host.firewall_enabled, inv.host.policy_in, inv.host.policy_out) == (True, "REJECT", "ACCEPT")
    assert inv.warnings == ()


def test_later_generation_loads_with_vms_and_findings(reference_dir: Path) -> None:
    """0385ea2: VMs, stacks, the certificate manifest and structured vLLM config load; violations are findings."""
    later = reference_dir.parent / "phoenix-config-0385ea2"
    if not later.is_dir():
        pytest.skip(f"{later} not found")
    inv = load_inventory(later)
    assert {1001, 1002} <= set(inv.vms) and inv.vms[1002].ip is not None
    assert any(s.name == "qdrant" and s.port == 6333 for s in inv.vms[1002].services)
    assert inv.containers[801].vllm is not None and inv.containers[801].vllm.model_type == "embedding"
    assert inv.containers[802].vllm is not None and inv.containers[802].vllm.served_model_name == "Qwen3-4B-FP8"
    args = inv.containers[801].vllm.args     # the engine config as the `vllm serve` flags it stands for
    assert "--trust-remote-code" in args and args[args.index("--max-model-len") + 1] == "1024"
    assert inv.gateway() is not None and inv.gateway().ctid == 101
    assert inv.certificates and inv.certificates[0].common_name.startswith("nginx.")
    kinds = {(f.file, f.path, f.kind) for f in inv.findings}
    assert ("phoenix_hypervisor_config.json", "portainer_api.admin_password", "credential") in kinds
    assert inv.host.dns == ("10.0.0.153", "8.8.8.8")
