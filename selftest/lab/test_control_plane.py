"""The lab's Proxmox control plane as the suite meets it, live: proxmoxer with the lab token over TLS (lab CA),
`pvesh` agreeing with the API, `pve-firewall status`, and the firewall's three gates acting on real packets
between CTs. Unit-level API shapes live in selftest/unit/test_api_emulator.py.

Network calls run in one worker thread that has entered the lab's netns (setns(2) is per thread), so the pytest
process itself stays in the root namespace for the lifecycle test."""
from __future__ import annotations

import ctypes
import json
import os
import re
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from phoenix_lab.paths import NETNS, LabPaths
from phoenix_model.inventory import Container, Inventory, load_inventory
from phoenix_verify.target import Target, load_target

PATHS = LabPaths.default()
CLONE_NEWNET = 0x40000000
MISSING = 999
PROBE_WAIT = 3  # seconds nc waits for a TCP connect
STABLE_PATHS = ["/version", "/cluster/firewall/options", "/nodes/pve/firewall/options"]
PER_CT_PATHS = ["config", "snapshot", "firewall/options", "firewall/rules"]


def _enter_lab_netns() -> None:
    fd = os.open(f"/run/netns/{NETNS}", os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {NETNS} failed")
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def in_lab():
    """Run a callable in the lab's host netns (in a dedicated thread) and return its result."""
    with ThreadPoolExecutor(max_workers=1, initializer=_enter_lab_netns) as pool:
        def call(fn: Callable[..., Any], *args: Any) -> Any:
            return pool.submit(fn, *args).result(timeout=120)
        yield call


@pytest.fixture(scope="module")
def target() -> Target:
    return load_target(PATHS.target)


@pytest.fixture(scope="module")
def inv(target: Target) -> Inventory:
    return load_inventory(target.inventory_dir)


@pytest.fixture(scope="module")
def api(target: Target) -> ProxmoxAPI:
    user, _, token_name = (target.token_id or "").partition("!")
    host = httpx.URL(target.api_url or "")
    return ProxmoxAPI(host.host, port=host.port or 8006, user=user, token_name=token_name,
                      token_value=target.token_secret(), verify_ssl=target.api_ca_bundle, timeout=20)


@pytest.fixture(scope="module")
def lab_run(lab_cli):
    def call(*args: str, timeout: float = 120):
        return lab_cli("run", "--", *args, timeout=timeout)
    return call


def net0_of(config: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in str(config["net0"]).split(","))


def test_target_points_at_the_lab(target: Target) -> None:
    assert target.api_url == "https://198.18.0.13:8006" and target.node == "pve"
    assert target.lab_netns == NETNS
    secret_file = PATHS.secrets / "pve-token"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert target.token_secret() not in PATHS.target.read_text(), "the secret is only in its 0600 file"


def test_proxmoxer_token_reads_net0_firewall_flag(api, in_lab, inv: Inventory) -> None:
    """Acceptance: proxmoxer with a token reads net0 of the CTs with `firewall=1` as the inventory declares."""
    for ct in inv.services():
        config = in_lab(api.nodes("pve").lxc(ct.ctid).config.get)
        net0 = net0_of(config)
        assert net0["ip"] == str(ct.network.ip) and net0["hwaddr"] == ct.network.mac, f"CT {ct.ctid}"
        assert (net0.get("firewall") == "1") == ct.firewall.enabled, f"CT {ct.ctid} net0 firewall flag"
        assert config["unprivileged"] == int(ct.unprivileged) and isinstance(config["memory"], int)


def test_api_lists_the_inventory(api, in_lab, inv: Inventory) -> None:
    listed = in_lab(api.nodes("pve").lxc.get)
    assert sorted(entry["vmid"] for entry in listed) == sorted(inv.containers)
    for entry in listed:
        ct = inv.container(entry["vmid"])
        assert entry["type"] == "lxc" and entry["maxmem"] == ct.memory_mb * 1024 * 1024
        assert entry["status"] == ("stopped" if ct.is_template else "running"), f"CT {ct.ctid}"
        assert ("pid" in entry) == (entry["status"] == "running")
    nodes = in_lab(api.nodes.get)
    assert [(n["node"], n["status"]) for n in nodes] == [("pve", "online")]


def test_api_errors_as_pve(api, in_lab, target: Target) -> None:
    with pytest.raises(ResourceException) as missing:
        in_lab(api.nodes("pve").lxc(MISSING).config.get)
    assert missing.value.status_code == 500
    assert missing.value.content == f"Configuration file 'nodes/pve/lxc/{MISSING}.conf' does not exist"

    def raw(headers: dict[str, str]) -> httpx.Response:
        with httpx.Client(verify=ssl.create_default_context(cafile=target.api_ca_bundle), timeout=20) as client:
            return client.get(f"{target.api_url}/api2/json/version", headers=headers)
    anonymous = in_lab(raw, {})
    assert (anonymous.status_code, anonymous.reason_phrase, anonymous.content) == (401, "No ticket", b"")
    forged = in_lab(raw, {"Authorization": f"PVEAPIToken={target.token_id}=not-the-secret"})
    assert (forged.status_code, forged.reason_phrase) == (401, "Authentication failed!")
    good = in_lab(raw, {"Authorization": f"PVEAPIToken={target.token_id}={target.token_secret()}"})
    assert good.status_code == 200 and good.headers["server"] == "pve-api-daemon/3.0"
    assert good.headers["content-type"] == "application/json;charset=UTF-8"


def test_pvesh_agrees_with_the_api(api, in_lab, inv: Inventory, lab_run) -> None:
    paths = STABLE_PATHS + [f"/nodes/pve/lxc/{ct.ctid}/{leaf}" for ct in inv.containers.values() for leaf in PER_CT_PATHS]
    for path in paths:
        shown = lab_run("pvesh", "get", path, "--output-format", "json")
        assert shown.returncode == 0, f"{path}: {shown.stderr}"
        data = json.loads(shown.stdout)
        assert shown.stdout == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n", \
            f"{path}: pvesh prints canonical JSON plus a newline"
        assert data == in_lab(api(path.lstrip("/")).get), path


def test_pvesh_missing_ct_exit_255(lab_run) -> None:
    shown = lab_run("pvesh", "get", f"/nodes/pve/lxc/{MISSING}/config", "--output-format", "json")
    assert shown.returncode == 255 and shown.stdout == ""
    assert f"Configuration file 'nodes/pve/lxc/{MISSING}.conf' does not exist" in shown.stderr


def test_pve_firewall_status(lab_run) -> None:
    status = lab_run("pve-firewall", "status")
    assert status.returncode == 0
    assert status.stdout == "Status: enabled/running\n"


def gate_case(inv: Inventory) -> tuple[Container, int, Container, Container]:
    """(guarded CT, port, the gateway, another CT) for an IN rule that admits only the gateway, from the inventory."""
    gateway = inv.gateway()
    assert gateway is not None, "the lab inventory has a gateway"
    gw_ip = str(gateway.network.ip.ip)
    for ct in inv.services():
        if not ct.firewall.enabled or ct is gateway:
            continue
        for rule in ct.firewall.rules:
            if rule.direction == "in" and rule.action == "ACCEPT" and rule.dport and rule.dport.isdigit() \
                    and (rule.source or "").split("/")[0] == gw_ip:
                admitted = {(r.source or "").split("/")[0] for r in ct.firewall.rules if r.dport == rule.dport}
                others = [o for o in inv.services() if o.ctid not in (ct.ctid, gateway.ctid)
                          and str(o.network.ip.ip) not in admitted and "" not in admitted]
                if others:
                    return ct, int(rule.dport), gateway, others[0]
    pytest.fail("the lab inventory has no port admitted only from the gateway")


def test_port_for_gateway_only_until_net0_firewall_is_removed(inv: Inventory, lab_run) -> None:
    """Acceptance: refused from another CT; reachable once `firewall=1` leaves that CT's net0 (and again refused after)."""
    guarded, port, gateway, other = gate_case(inv)
    address = str(guarded.network.ip.ip)

    def reaches(client: Container) -> bool:
        nonlocal last_probe
        started = time.monotonic()
        probe = lab_run("pct", "exec", str(client.ctid), "--", "nc", "-z", "-w", str(PROBE_WAIT), address, str(port))
        last_probe = time.monotonic() - started
        return probe.returncode == 0

    last_probe = 0.0
    assert reaches(gateway), f"CT {gateway.ctid} -> {address}:{port} must be admitted"
    assert not reaches(other), f"CT {other.ctid} -> {address}:{port} must be dropped by CT {guarded.ctid}'s firewall"
    options = json.loads(lab_run("pvesh", "get", f"/nodes/pve/lxc/{guarded.ctid}/firewall/options",
                                 "--output-format", "json").stdout)
    if options.get("policy_in", "DROP") == "DROP":
        assert last_probe >= PROBE_WAIT, "policy DROP drops silently (the probe waits out its timeout, no RST)"
    shown = lab_run("pct", "config", str(guarded.ctid)).stdout
    net0 = re.search(r"^net0: (.*)$", shown, re.MULTILINE)[1]
    assert "firewall=1" in net0.split(",")
    try:
        opened = lab_run("pct", "set", str(guarded.ctid), "--net0", ",".join(i for i in net0.split(",") if i != "firewall=1"))
        assert opened.returncode == 0, opened.stderr
        assert reaches(other), "with firewall=1 gone from net0 the CT's rules no longer apply"
    finally:
        restored = lab_run("pct", "set", str(guarded.ctid), "--net0", net0)
    assert restored.returncode == 0, restored.stderr
    assert not reaches(other), "firewall=1 restored: dropped again"
