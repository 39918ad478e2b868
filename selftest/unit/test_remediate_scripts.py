"""The remediation scripts against a private fake Proxmox host (fake pct/pvesh on PATH, state in a temp dir):
dry-run prints the exact commands and changes nothing, --apply runs exactly those, a second --apply is a no-op."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from phoenix_model.inventory import Inventory, load_inventory
from selftest.unit import remediate_fakes as fakes
from selftest.unit.remediate_fakes import LAB_INVENTORY, REMEDIATE, ROOT, SCRIPTS


def healthy_conf(ct) -> list[str]:
    """The config Phoenix's orchestrator leaves (docs/proxmox-formats.md, phoenix-expectations §2.1), written out independently of the planner."""
    net = ct.network
    fw = "firewall=1," if ct.firewall.enabled else ""
    lines = [
        f"cores: {ct.cores}",
        f"hostname: {ct.name}",
        f"memory: {ct.memory_mb}",
        f"net0: name={net.name},bridge={net.bridge},{fw}gw={net.gateway},hwaddr={net.mac},ip={net.ip},type=veth",
        f"onboot: {1 if ct.start_at_boot else 0}",
        f"rootfs: {ct.storage_pool}:subvol-{ct.ctid}-disk-0,size={ct.storage_size_gb}G",
        f"startup: order={ct.boot_order},up={ct.boot_delay},down={ct.boot_delay}",
        f"unprivileged: {1 if ct.unprivileged else 0}",
    ]
    if "docker" in ct.features or "nesting=1" in ct.pct_options:
        lines.append("features: nesting=1")
    mounts = [f"{m.host_path},mp={m.mount_path}" for m in ct.shared_mounts]
    mounts += [
        f"{v.pool}:subvol-{ct.ctid}-disk-{i + 1},mp={v.mount_point},size={v.size_gb}G" for i, v in enumerate(ct.dedicated_volumes)
    ]
    lines += [f"mp{i}: {value}" for i, value in enumerate(mounts)]
    if ct.unprivileged and "docker" not in ct.features:
        lines += ["lxc.idmap: u 0 100000 65536", "lxc.idmap: g 0 100000 65536"]
    if ct.gpus:
        lines += [
            "lxc.cgroup2.devices.allow: c 195:* rwm",
            "lxc.cgroup2.devices.allow: c 243:* rwm",
            "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file",
            "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file",
            "lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file",
        ]
        lines += [f"lxc.mount.entry: /dev/nvidia{n} dev/nvidia{n} none bind,optional,create=file" for n in ct.gpus]
    return lines


def declared_rules(ct) -> list[dict[str, object]]:
    rules = []
    for r in ct.firewall.rules:
        rule = {"type": r.direction, "action": r.action, "source": r.source, "dest": r.dest, "proto": r.proto}
        rule.update(dport=r.dport, enable=1, comment=r.comment)
        rules.append({k: v for k, v in rule.items() if v is not None})
    return rules


@dataclass
class FakeHost:
    """A healthy fake Proxmox host built from the lab inventory; tests break one thing and run a script."""

    state: Path
    env: dict[str, str]
    inventory: Inventory

    def run(self, script: str, *args: str, apply: bool = False, disruptive: bool = False) -> subprocess.CompletedProcess[str]:
        argv = [str(REMEDIATE / script), *args, *(["--apply"] if apply else []), *(["--allow-disruptive"] if disruptive else [])]
        (self.state / "calls.jsonl").unlink(missing_ok=True)
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=60, check=False)

    def mutating_calls(self) -> list[list[str]]:
        return [call for call in fakes.calls(self.state) if fakes.is_mutating(call)]

    def conf(self, ctid: int) -> str:
        return (self.state / "lxc" / f"{ctid}.conf").read_text()

    def edit_conf(self, ctid: int, change: Callable[[list[str]], list[str]]) -> None:
        """Change the current section of a CT's config (snapshot sections stay as they are)."""
        path = self.state / "lxc" / f"{ctid}.conf"
        current, sep, snapshots = path.read_text().partition("\n[")
        path.write_text("\n".join(change(current.strip().splitlines())) + "\n" + (sep + snapshots if sep else ""))

    def drop_snapshots(self, ctid: int) -> None:
        path = self.state / "lxc" / f"{ctid}.conf"
        path.write_text(path.read_text().partition("\n[")[0].strip() + "\n")

    def set_status(self, ctid: int, status: str) -> None:
        statuses = json.loads((self.state / "status.json").read_text())
        statuses[str(ctid)] = status
        (self.state / "status.json").write_text(json.dumps(statuses))

    def update_json(self, name: str, change: Callable[[dict], None]) -> None:
        data = json.loads((self.state / name).read_text())
        change(data)
        (self.state / name).write_text(json.dumps(data))


QDRANT_COLLECTION = {"name": "remediate_selftest", "vector_size": 384, "distance": "Cosine"}


def copy_inventory_with_volumes_under(dest: Path, volumes_root: Path) -> Path:
    """The lab inventory with every shared volume's host path moved under a temp dir (for --apply tests), and
    a known collection declared on the qdrant CT."""
    shutil.copytree(LAB_INVENTORY, dest)
    lxc = dest / "phoenix_lxc_configs.json"
    lxc_data = json.loads(lxc.read_text())
    for entry in lxc_data["lxc_configs"].values():
        if "qdrant" in entry["name"].lower():
            entry["qdrant_collections"] = [QDRANT_COLLECTION]
    lxc.write_text(json.dumps(lxc_data, indent=2))
    config = dest / "phoenix_hypervisor_config.json"
    data = json.loads(config.read_text())
    for name, volume in data["shared_volumes"].items():
        if isinstance(volume, dict) and "host_path" in volume:
            volume["host_path"] = str(volumes_root / name)
    config.write_text(json.dumps(data, indent=2))
    return dest


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    inventory_dir = copy_inventory_with_volumes_under(tmp_path / "inventory", tmp_path / "volumes")
    inventory = load_inventory(inventory_dir)
    state = tmp_path / "pve"
    (state / "lxc").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    fakes.install(bin_dir, sys.executable)
    for ct in inventory.containers.values():
        snapshot = [f"[{ct.template_snapshot}]", *healthy_conf(ct)] if ct.template_snapshot else []
        (state / "lxc" / f"{ct.ctid}.conf").write_text("\n".join([*healthy_conf(ct), "", *snapshot]) + "\n")
    statuses = {str(ct.ctid): ("stopped" if ct.is_template else "running") for ct in inventory.containers.values()}
    (state / "status.json").write_text(json.dumps(statuses))
    firewall = {
        "cluster": {"enable": 1, "policy_in": inventory.host.policy_in, "policy_out": inventory.host.policy_out},
        "ct": {
            str(ct.ctid): {"options": {"enable": int(ct.firewall.enabled)}, "rules": declared_rules(ct)}
            for ct in inventory.containers.values()
        },
    }
    (state / "firewall.json").write_text(json.dumps(firewall))
    (state / "users.json").write_text(json.dumps({inventory.host.admin_user: [inventory.host.admin_user, "sudo"]}))
    etc = tmp_path / "etc"
    etc.mkdir()
    for name in ("subuid", "subgid"):
        (etc / name).write_text("root:100000:65536\n")
    env = {
        "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin",
        "PHOENIX_INVENTORY": str(inventory_dir),
        "PHOENIX_PVE_DIR": str(state),
        "PHOENIX_ETC_DIR": str(etc),
        "PHOENIX_PYTHON": sys.executable,
        "PHOENIX_ORCHESTRATOR": str(tmp_path / "no-orchestrator"),
        "PHOENIX_LAB_HOME": str(tmp_path / "no-lab"),
        "HOME": str(tmp_path),
    }
    return FakeHost(state, env, inventory)


def printed(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """The command lines a script printed, split like a shell would."""
    return [shlex.split(line) for line in result.stdout.splitlines()]


def by_role(inventory: Inventory, role: str):
    return next(ct for ct in inventory.services() if ct.role == role)


def assert_fixes(host: FakeHost, script: str, *args: str, expected: list[list[str]], disruptive: bool = False) -> None:
    """Dry-run prints `expected` and changes nothing; --apply runs exactly it; a second --apply does nothing.
    A disruptive fix says so in the dry-run and refuses plain --apply (exit 4, nothing changed)."""
    dry = host.run(script, *args)
    assert dry.returncode == 0, dry.stderr
    assert printed(dry) == expected
    assert host.mutating_calls() == []
    assert ("disruptive: this" in dry.stderr) == disruptive, dry.stderr
    if disruptive:
        refused = host.run(script, *args, apply=True)
        assert (refused.returncode, refused.stdout, host.mutating_calls()) == (4, "", []), refused.stderr
        assert "--allow-disruptive" in refused.stderr
    applied = host.run(script, *args, apply=True, disruptive=disruptive)
    assert applied.returncode == 0, applied.stderr
    assert printed(applied) == expected
    assert host.mutating_calls() == [cmd for cmd in expected if cmd[0] in fakes.MUTATING]
    again = host.run(script, *args, apply=True)
    assert (again.returncode, again.stdout, host.mutating_calls()) == (0, "", [])
    assert "nothing to do" in again.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script: str) -> None:
    result = subprocess.run([REMEDIATE / script, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: {script} [--apply]")
    assert "--apply" in result.stdout


def test_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(
        ["shellcheck", "-x", *sorted(map(str, REMEDIATE.glob("*.sh")))],
        capture_output=True,
        text=True,
        cwd=REMEDIATE,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_every_script_uses_strict_mode() -> None:
    for script in SCRIPTS:
        assert "set -euo pipefail" in (REMEDIATE / script).read_text(), script


def test_healthy_host_needs_nothing(host: FakeHost) -> None:
    """On a healthy host every automatic script plans nothing, for one CT of each kind."""
    cts = [by_role(host.inventory, role) for role in ("gateway", "vllm", "qdrant")]
    for ct in cts:
        for script in (
            "ct-start.sh",
            "ct-config.sh",
            "net0-firewall.sh",
            "ct-firewall-enable.sh",
            "ct-firewall-rules.sh",
            "idmap.sh",
            "mountpoint.sh",
            "gpu-passthrough.sh",
        ):
            result = host.run(script, str(ct.ctid))
            assert (result.returncode, result.stdout) == (0, ""), (script, ct.ctid, result.stderr)
            assert "nothing to do" in result.stderr
    for script in ("cluster-firewall.sh", "subid.sh", "admin-user.sh"):
        result = host.run(script)
        assert (result.returncode, result.stdout) == (0, ""), (script, result.stderr)


def test_ct_start(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    host.set_status(ct.ctid, "stopped")
    assert_fixes(host, "ct-start.sh", str(ct.ctid), expected=[["pct", "start", str(ct.ctid)]])


def test_ct_start_refuses_a_template(host: FakeHost) -> None:
    template = next(ct for ct in host.inventory.containers.values() if ct.is_template)
    result = host.run("ct-start.sh", str(template.ctid), apply=True)
    assert result.returncode == 2 and "template" in result.stderr
    assert host.mutating_calls() == []


def test_net0_firewall_keeps_every_other_field(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    net = ct.network
    odd = f"net0: type=veth,tag=5,hwaddr={net.mac},ip={net.ip},gw={net.gateway},bridge={net.bridge},name={net.name},mtu=1400"
    host.edit_conf(ct.ctid, lambda lines: [odd if line.startswith("net0:") else line for line in lines])
    want = (
        f"name={net.name},bridge={net.bridge},firewall=1,gw={net.gateway},hwaddr={net.mac},ip={net.ip},mtu=1400,tag=5,type=veth"
    )
    assert_fixes(host, "net0-firewall.sh", str(ct.ctid), expected=[["pct", "set", str(ct.ctid), "--net0", want]])
    assert f"net0: {want}\n" in host.conf(ct.ctid)


def test_ct_config_sets_only_what_differs(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    host.edit_conf(
        ct.ctid,
        lambda lines: [
            "memory: 64" if line.startswith("memory:") else "hostname: wrong" if line.startswith("hostname:") else line
            for line in lines
        ],
    )
    expected = [["pct", "set", str(ct.ctid), "--hostname", ct.name, "--memory", str(ct.memory_mb)]]
    assert_fixes(host, "ct-config.sh", str(ct.ctid), expected=expected)


def test_ct_firewall_enable(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    host.update_json("firewall.json", lambda fw: fw["ct"][str(ct.ctid)]["options"].update(enable=0))
    path = f"/nodes/pve/lxc/{ct.ctid}/firewall/options"
    assert_fixes(host, "ct-firewall-enable.sh", str(ct.ctid), expected=[["pvesh", "set", path, "--enable", "1"]])


def test_ct_firewall_rules_recreated_from_inventory(host: FakeHost) -> None:
    ct = next(c for c in host.inventory.services() if c.firewall.rules)
    stray = {"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "enable": 1}
    host.update_json("firewall.json", lambda fw: fw["ct"][str(ct.ctid)].update(rules=[stray, stray]))
    path = f"/nodes/pve/lxc/{ct.ctid}/firewall/rules"
    expected = [["pvesh", "delete", f"{path}/1"], ["pvesh", "delete", f"{path}/0"]]
    for rule in reversed(declared_rules(ct)):
        expected.append(["pvesh", "create", path, *(a for k, v in rule.items() for a in (f"--{k}", str(v)))])
    assert_fixes(host, "ct-firewall-rules.sh", str(ct.ctid), expected=expected)
    rules = json.loads((host.state / "firewall.json").read_text())["ct"][str(ct.ctid)]["rules"]
    assert [r.get("dport") for r in rules] == [r.dport for r in ct.firewall.rules]  # declared order restored


def test_ct_firewall_rules_ignore_fields_pve_adds(host: FakeHost) -> None:
    """pvesh returns pos, digest, ipversion and log levels: they do not make the declared rules differ."""
    ct = next(c for c in host.inventory.services() if c.firewall.rules)
    extra = {"digest": "b1" * 20, "ipversion": 4, "log": "nolog"}
    host.update_json(
        "firewall.json", lambda fw: fw["ct"][str(ct.ctid)].update(rules=[{**r, **extra} for r in declared_rules(ct)])
    )
    result = host.run("ct-firewall-rules.sh", str(ct.ctid))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_cluster_firewall(host: FakeHost) -> None:
    host.update_json("firewall.json", lambda fw: fw.update(cluster={"enable": 0}))
    spec = host.inventory.host
    expected = [
        [
            "pvesh",
            "set",
            "/cluster/firewall/options",
            "--enable",
            "1",
            "--policy_in",
            spec.policy_in,
            "--policy_out",
            spec.policy_out,
        ]
    ]
    assert_fixes(host, "cluster-firewall.sh", expected=expected, disruptive=True)


def test_shared_volume_owner_creates_and_fixes(host: FakeHost) -> None:
    path = Path(host.inventory.shared_volumes["ssl_certs"].host_path)
    expected = [["mkdir", "-p", str(path)], ["chown", "-R", "100000:100000", str(path)], ["chmod", "755", str(path)]]
    assert_fixes(host, "shared-volume-owner.sh", "ssl_certs", expected=expected)
    (path / "gateway.crt").write_text("cert")
    (path / "gateway.crt").chmod(0o600)
    (path / "sub").mkdir(mode=0o700)
    expected = [
        ["chown", "-R", "100000:100000", str(path)],
        ["find", str(path), "-type", "d", "!", "-perm", "755", "-exec", "chmod", "755", "{}", "+"],
        ["find", str(path), "-type", "f", "!", "-perm", "644", "-exec", "chmod", "644", "{}", "+"],
    ]
    dry = host.run("shared-volume-owner.sh", "ssl_certs")
    assert printed(dry) == expected
    assert (path / "gateway.crt").stat().st_uid == 0
    assert host.run("shared-volume-owner.sh", "ssl_certs", apply=True).returncode == 0
    info = (path / "gateway.crt").stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (100000, 100000, 0o644)
    assert (path / "sub").stat().st_mode & 0o777 == 0o755
    assert host.run("shared-volume-owner.sh", "ssl_certs", apply=True).stdout == ""


def test_shared_volume_owner_other_volumes_get_775(host: FakeHost) -> None:
    name = next(n for n in host.inventory.shared_volumes if n not in ("ssl_certs", "nginx_sites"))
    path = Path(host.inventory.shared_volumes[name].host_path)
    result = host.run("shared-volume-owner.sh", name)
    assert printed(result)[-1] == ["chmod", "775", str(path)]


def test_shared_volume_owner_accepts_files_services_create_later(host: FakeHost) -> None:
    """nginx writes its logs 644 into the 664 nginx_logs volume: less open is fine, less readable or more open is not."""
    name = next(n for n in host.inventory.shared_volumes if n not in ("ssl_certs", "nginx_sites"))
    path = Path(host.inventory.shared_volumes[name].host_path)
    assert host.run("shared-volume-owner.sh", name, apply=True).returncode == 0
    log = path / "access.log"
    log.write_text("GET /\n")
    os.chown(log, 100000, 100000)
    log.chmod(0o644)
    assert host.run("shared-volume-owner.sh", name).stdout == ""
    for mode in (0o666, 0o640):
        log.chmod(mode)
        find = ["find", str(path), "-type", "f", "!", "-perm", "664", "-exec", "chmod", "664", "{}", "+"]
        assert printed(host.run("shared-volume-owner.sh", name)) == [find], oct(mode)


def test_shared_volume_owner_unknown_volume(host: FakeHost) -> None:
    result = host.run("shared-volume-owner.sh", "no_such_volume", apply=True)
    assert result.returncode == 2 and "unknown shared volume" in result.stderr


def test_idmap_restored_with_stop_start_and_snapshots_untouched(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    host.edit_conf(ct.ctid, lambda lines: [line for line in lines if not line.startswith("lxc.idmap")])
    before = host.conf(ct.ctid)
    conf = str(host.state / "lxc" / f"{ct.ctid}.conf")
    edit = [
        "python3",
        str(REMEDIATE / "pve-conf-edit.py"),
        conf,
        "--drop-raw-prefix",
        "lxc.idmap",
        "--add-raw",
        "lxc.idmap: u 0 100000 65536",
        "--add-raw",
        "lxc.idmap: g 0 100000 65536",
    ]
    expected = [["pct", "stop", str(ct.ctid)], edit, ["pct", "start", str(ct.ctid)]]
    dry = host.run("idmap.sh", str(ct.ctid))
    assert "stop/start" in dry.stderr
    assert_fixes(host, "idmap.sh", str(ct.ctid), expected=expected, disruptive=True)
    current, _, snapshots = host.conf(ct.ctid).partition("\n[")
    assert current.count("lxc.idmap:") == 2
    assert snapshots == before.partition("\n[")[2]


def test_idmap_on_a_ct_whose_unprivileged_differs_is_a_manual_step(host: FakeHost) -> None:
    """Proxmox fixes `unprivileged` at creation: the script names the re-creation and changes nothing, even with
    --apply --allow-disruptive."""
    ct = by_role(host.inventory, "gateway")
    host.edit_conf(ct.ctid, lambda lines: [("unprivileged: 0" if line.startswith("unprivileged:") else line) for line in lines])
    before = host.conf(ct.ctid)
    result = host.run("idmap.sh", str(ct.ctid), apply=True, disruptive=True)
    assert (result.returncode, result.stdout, host.mutating_calls()) == (3, "", []), result.stderr
    assert "unprivileged is 0 on the node, the inventory declares 1" in result.stderr
    assert "re-create it from its template" in result.stderr and "Nothing was changed" in result.stderr
    assert host.conf(ct.ctid) == before


def test_mountpoint_adds_missing_and_lists_removals(host: FakeHost) -> None:
    gateway = by_role(host.inventory, "gateway")
    mount = gateway.shared_mounts[0]
    host.edit_conf(
        gateway.ctid,
        lambda lines: [line for line in lines if not line.startswith("mp0:")] + ["mp7: /srv/stray,mp=/stray"],
    )
    expected = [
        ["pct", "set", str(gateway.ctid), "--delete", "mp7"],
        ["pct", "set", str(gateway.ctid), "--mp0", f"{mount.host_path},mp={mount.mount_path}"],
        ["pct", "reboot", str(gateway.ctid)],   # the CT runs: mount point changes apply at its next start
    ]
    dry = host.run("mountpoint.sh", str(gateway.ctid))
    assert "removing mp7: /srv/stray,mp=/stray" in dry.stderr
    assert_fixes(host, "mountpoint.sh", str(gateway.ctid), expected=expected, disruptive=True)


def test_service_restart(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    result = host.run("service-restart.sh", str(ct.ctid), "qdrant.service", apply=True)
    assert result.returncode == 0, result.stderr
    assert host.mutating_calls() == [["pct", "exec", str(ct.ctid), "--", "systemctl", "restart", "qdrant.service"]]


def test_a_failing_command_stops_with_exit_1(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    (host.state / "exec.json").write_text(json.dumps({"systemctl restart qdrant.service": [5, "", "boom\n"]}))
    result = host.run("service-restart.sh", str(ct.ctid), "qdrant.service", apply=True)
    assert result.returncode == 1
    assert f"failed (exit 5): pct exec {ct.ctid} -- systemctl restart qdrant.service" in result.stderr


def test_service_restart_needs_a_running_ct(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    host.set_status(ct.ctid, "stopped")
    result = host.run("service-restart.sh", str(ct.ctid), "qdrant.service", apply=True)
    assert result.returncode == 1 and f"ct-start.sh {ct.ctid}" in result.stderr
    assert host.mutating_calls() == []


def test_vllm_restart(host: FakeHost) -> None:
    ct = by_role(host.inventory, "vllm")
    dry = host.run("vllm-restart.sh", str(ct.ctid))
    assert printed(dry) == [["pct", "exec", str(ct.ctid), "--", "systemctl", "restart", "vllm_model_server"],
                            ["pct", "exec", str(ct.ctid), "--", "timeout", "120", "sh", "-c",
                             f"until ss -tlnH 'sport = :{ct.vllm.port}' | grep -q .; do sleep 0.5; done"]]
    assert host.mutating_calls() == []
    other = host.run("vllm-restart.sh", str(by_role(host.inventory, "gateway").ctid))
    assert other.returncode == 2 and "not a vLLM container" in other.stderr


def test_nginx_reload_only_when_the_config_passes(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    result = host.run("nginx-reload.sh", str(ct.ctid), apply=True)
    assert result.returncode == 0, result.stderr
    assert host.mutating_calls() == [["pct", "exec", str(ct.ctid), "--", "systemctl", "reload-or-restart", "nginx"]]
    error = 'nginx: [emerg] unknown directive "helth_check" in /etc/nginx/sites-enabled/gateway:12'
    (host.state / "exec.json").write_text(json.dumps({"nginx -t": [1, "", error + "\n"]}))
    failed = host.run("nginx-reload.sh", str(ct.ctid), apply=True)
    assert failed.returncode == 1 and error in failed.stderr
    assert host.mutating_calls() == []


def test_gateway_config_reruns_the_orchestrator(host: FakeHost, tmp_path: Path) -> None:
    ct = by_role(host.inventory, "gateway")
    orchestrator = tmp_path / "no-orchestrator"
    orchestrator.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "orchestrated"}\n')
    orchestrator.chmod(0o755)
    dry = host.run("gateway-config.sh", str(ct.ctid))
    assert printed(dry) == [[str(orchestrator), str(ct.ctid)]]
    assert not (tmp_path / "orchestrated").exists()
    assert host.run("gateway-config.sh", str(ct.ctid), apply=True).returncode == 0
    assert (tmp_path / "orchestrated").read_text() == f"{ct.ctid}\n"
    wrong = host.run("gateway-config.sh", str(by_role(host.inventory, "qdrant").ctid))
    assert wrong.returncode == 2 and "not the gateway" in wrong.stderr


def test_gateway_config_in_the_lab(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    host.env["PHOENIX_LAB_HOME"] = str(host.state)
    result = host.run("gateway-config.sh", str(ct.ctid), apply=True)
    assert result.returncode == 0, result.stderr
    assert host.mutating_calls() == [["phoenix-lab", "gateway-config", str(ct.ctid)]]


def test_gateway_config_without_orchestrator_or_lab_is_manual(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    result = host.run("gateway-config.sh", str(ct.ctid), apply=True)
    assert result.returncode == 3 and "not automatic" in result.stderr
    assert host.mutating_calls() == []


@pytest.mark.parametrize("script", ["gateway-cert.sh", "host-bridge.sh"])
def test_manual_steps_exit_3(host: FakeHost, script: str) -> None:
    for apply in (False, True):
        result = host.run(script, apply=apply)
        assert result.returncode == 3
        assert "not automatic" in result.stderr
        assert host.mutating_calls() == []


def test_template_snapshot(host: FakeHost) -> None:
    template = next(ct for ct in host.inventory.containers.values() if ct.template_snapshot)
    host.drop_snapshots(template.ctid)
    expected = [["pct", "snapshot", str(template.ctid), template.template_snapshot]]
    assert_fixes(host, "template-snapshot.sh", str(template.ctid), expected=expected)


def test_template_snapshot_needs_a_declared_snapshot(host: FakeHost) -> None:
    ct = next(c for c in host.inventory.services() if not c.template_snapshot)
    result = host.run("template-snapshot.sh", str(ct.ctid), apply=True)
    assert result.returncode == 2 and "template_snapshot_name" in result.stderr
    assert host.mutating_calls() == []


def test_subid(host: FakeHost) -> None:
    etc = Path(host.env["PHOENIX_ETC_DIR"])
    (etc / "subgid").write_text("root:200000:65536\n")
    result = host.run("subid.sh", apply=True)
    assert printed(result) == [["usermod", "--add-subgids", "100000-165535", "root"]]
    assert host.mutating_calls() == printed(result)


def test_admin_user(host: FakeHost) -> None:
    (host.state / "users.json").write_text("{}")
    user = host.inventory.host.admin_user
    expected = [["useradd", "-m", "-s", "/bin/bash", user]]
    if host.inventory.host.admin_sudo:
        expected.append(["usermod", "-aG", "sudo", user])
    assert_fixes(host, "admin-user.sh", expected=expected)


def test_gpu_passthrough_removes_stale_devices(host: FakeHost) -> None:
    ct = next(c for c in host.inventory.services() if c.gpus)
    stale = "lxc.mount.entry: /dev/nvidia7 dev/nvidia7 none bind,optional,create=file"
    host.edit_conf(ct.ctid, lambda lines: [*lines, stale])
    conf = str(host.state / "lxc" / f"{ct.ctid}.conf")
    edit = ["python3", str(REMEDIATE / "pve-conf-edit.py"), conf, "--drop-raw", stale]
    expected = [["pct", "stop", str(ct.ctid)], edit, ["pct", "start", str(ct.ctid)]]
    assert_fixes(host, "gpu-passthrough.sh", str(ct.ctid), expected=expected, disruptive=True)
    assert "/dev/nvidia7" not in host.conf(ct.ctid)


def qdrant_probe(ctid: int) -> str:
    url = f"http://127.0.0.1:6333/collections/{QDRANT_COLLECTION['name']}"
    return f"curl -sS --max-time 10 -X GET {url}"


def test_qdrant_collection_created_when_missing(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    missing = {"status": {"error": "Not found: Collection `remediate_selftest` doesn't exist!"}, "time": 0.0}
    (host.state / "exec.json").write_text(json.dumps({qdrant_probe(ct.ctid): [0, json.dumps(missing), ""]}))
    url = f"http://127.0.0.1:6333/collections/{QDRANT_COLLECTION['name']}"
    body = json.dumps({"vectors": {"size": 384, "distance": "Cosine"}})
    create = ["pct", "exec", str(ct.ctid), "--", "curl", "-sS", "--fail", "--max-time", "30", "-X", "PUT"]
    create += ["-H", "Content-Type: application/json", "-d", body, url]
    dry = host.run("qdrant-collection.sh", str(ct.ctid))
    assert (dry.returncode, printed(dry), host.mutating_calls()) == (0, [create], []), dry.stderr
    applied = host.run("qdrant-collection.sh", str(ct.ctid), apply=True)
    assert applied.returncode == 0 and host.mutating_calls() == [create]


def test_qdrant_collection_defaults_to_the_embedding_dimension(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    edit_lxc_json(host, lambda cts: cts[str(ct.ctid)].pop("qdrant_collections"))
    dim = next(c.vllm.embedding_dim for c in host.inventory.services() if c.vllm and c.vllm.model_type == "embedding")
    probe = "curl -sS --max-time 10 -X GET http://127.0.0.1:6333/collections/embeddings"
    missing = {"status": {"error": "Not found: Collection `embeddings` doesn't exist!"}, "time": 0.0}
    (host.state / "exec.json").write_text(json.dumps({probe: [0, json.dumps(missing), ""]}))
    result = host.run("qdrant-collection.sh", str(ct.ctid))
    assert result.returncode == 0, result.stderr
    [create] = printed(result)
    assert create[-1] == "http://127.0.0.1:6333/collections/embeddings"
    assert json.loads(create[create.index("-d") + 1]) == {"vectors": {"size": dim, "distance": "Cosine"}}


def test_qdrant_collection_existing(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")

    def exists(size: int) -> None:
        answer = {"result": {"config": {"params": {"vectors": {"size": size, "distance": "Cosine"}}}}, "status": "ok"}
        (host.state / "exec.json").write_text(json.dumps({qdrant_probe(ct.ctid): [0, json.dumps(answer), ""]}))

    exists(384)
    same = host.run("qdrant-collection.sh", str(ct.ctid), apply=True)
    assert (same.returncode, same.stdout, host.mutating_calls()) == (0, "", [])
    assert "nothing to do" in same.stderr
    exists(768)
    other = host.run("qdrant-collection.sh", str(ct.ctid), apply=True)
    assert other.returncode == 3 and "deletes its points" in other.stderr
    assert host.mutating_calls() == []


def edit_lxc_json(host: FakeHost, change: Callable[[dict], None]) -> None:
    lxc = Path(host.env["PHOENIX_INVENTORY"]) / "phoenix_lxc_configs.json"
    data = json.loads(lxc.read_text())
    change(data["lxc_configs"])
    lxc.write_text(json.dumps(data))


def test_inventory_fix_prints_findings_and_exits_3(host: FakeHost) -> None:
    ct = next(c for c in host.inventory.services() if c.firewall.enabled)
    edit_lxc_json(host, lambda cts: cts[str(ct.ctid)].setdefault("ports", []).append("9999:9999"))
    result = host.run("inventory-fix.sh", apply=True)
    assert result.returncode == 3, result.stderr
    assert "not automatic" in result.stderr and f"ct{ct.ctid}: port 9999" in result.stderr
    assert host.mutating_calls() == []


def test_inventory_fix_reports_a_config_that_does_not_load(host: FakeHost) -> None:
    ct = next(iter(host.inventory.services()))
    edit_lxc_json(host, lambda cts: cts[str(ct.ctid)].update(dependencies=["999"]))
    result = host.run("inventory-fix.sh")
    assert result.returncode == 3 and "999" in result.stderr, result.stderr


def test_inventory_fix_on_the_clean_lab_inventory(host: FakeHost) -> None:
    result = host.run("inventory-fix.sh")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert "nothing to do" in result.stderr


def test_unknown_ctid_exits_2_without_calls(host: FakeHost) -> None:
    unknown = str(max(host.inventory.containers) + 1)
    for script in ("ct-start.sh", "idmap.sh", "mountpoint.sh"):
        result = host.run(script, unknown, apply=True)
        assert result.returncode == 2 and f"unknown CTID {unknown}" in result.stderr
    assert fakes.calls(host.state) == []


def test_planner_is_importable_without_side_effects() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "phoenix_verify.remediation.plan", "no-such-class"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "unknown class" in result.stderr


def test_ct_recreate_names_the_manual_step_and_changes_nothing(host: FakeHost) -> None:
    ct = by_role(host.inventory, "gateway")
    same = host.run("ct-recreate.sh", str(ct.ctid), apply=True)
    assert (same.returncode, same.stdout, host.mutating_calls()) == (0, "", []) and "nothing to do" in same.stderr
    host.edit_conf(ct.ctid, lambda lines: [line for line in lines if not line.startswith("unprivileged:")])
    differs = host.run("ct-recreate.sh", str(ct.ctid), apply=True, disruptive=True)
    assert (differs.returncode, differs.stdout, host.mutating_calls()) == (3, "", []), differs.stderr
    assert "unprivileged is 0 on the node, the inventory declares 1" in differs.stderr


DOCKER_OK = {"systemctl is-active docker": [0, "active\n", ""], "docker inspect -f {{.State.Status}} qdrant": [0, "running\n", ""]}


def _docker_state(host: FakeHost, **answers: list[object]) -> None:
    (host.state / "exec.json").write_text(json.dumps({**DOCKER_OK, **answers}))


def test_docker_restart_nothing_to_do_when_running(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    _docker_state(host)
    result = host.run("docker-restart.sh", str(ct.ctid), apply=True)
    assert (result.returncode, result.stdout, host.mutating_calls()) == (0, "", [])
    assert "nothing to do" in result.stderr


def test_docker_restart_starts_daemon_then_container(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    _docker_state(host, **{"systemctl is-active docker": [3, "inactive\n", ""]})
    inside = ["pct", "exec", str(ct.ctid), "--"]
    result = host.run("docker-restart.sh", str(ct.ctid), apply=True)
    assert result.returncode == 0, result.stderr
    assert printed(result)[:2] == [[*inside, "systemctl", "start", "docker"], [*inside, "docker", "start", "qdrant"]]
    assert printed(result)[2][:6] == [*inside, "timeout", "120"]
    assert host.mutating_calls() == [[*inside, "systemctl", "start", "docker"], [*inside, "docker", "start", "qdrant"]]


def test_docker_restart_starts_a_stopped_container(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    _docker_state(host, **{"docker inspect -f {{.State.Status}} qdrant": [0, "exited\n", ""]})
    dry = host.run("docker-restart.sh", str(ct.ctid))
    assert printed(dry)[0] == ["pct", "exec", str(ct.ctid), "--", "docker", "start", "qdrant"]
    assert host.mutating_calls() == []


def test_docker_restart_crash_loop_needs_the_application_script(host: FakeHost) -> None:
    ct = by_role(host.inventory, "qdrant")
    _docker_state(host, **{"docker inspect -f {{.State.Status}} qdrant": [0, "restarting\n", ""]})
    result = host.run("docker-restart.sh", str(ct.ctid), apply=True)
    assert result.returncode == 3 and "redeploy the application" in result.stderr
    assert host.mutating_calls() == []


def test_docker_restart_refuses_a_unit_service(host: FakeHost) -> None:
    ct = by_role(host.inventory, "vllm")
    result = host.run("docker-restart.sh", str(ct.ctid), apply=True)
    assert result.returncode == 2 and "runs no service in Docker" in result.stderr


def test_docker_restart_starts_every_stopped_container_of_a_multi_container_ct(host: FakeHost) -> None:
    """The qdrant CT redeclared as the monitoring stack (grafana + prometheus, phoenix_model/services.py): only the
    stopped container is started, and a crash-looping one sends the CT back to its application script."""
    path = Path(host.env["PHOENIX_INVENTORY"]) / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    ctid = str(by_role(host.inventory, "qdrant").ctid)
    data["lxc_configs"][ctid].update(name="monitoring-stack", application_script="phoenix_hypervisor_lxc_960.sh",
                                     ports=["3000:3000", "9090:9090"])
    path.write_text(json.dumps(data))
    inside = ["pct", "exec", ctid, "--"]
    running = {"systemctl is-active docker": [0, "active\n", ""], "docker inspect -f {{.State.Status}} grafana": [0, "running\n", ""]}
    (host.state / "exec.json").write_text(json.dumps({**running, "docker inspect -f {{.State.Status}} prometheus": [0, "exited\n", ""]}))
    result = host.run("docker-restart.sh", ctid, apply=True)
    assert result.returncode == 0, result.stderr
    assert host.mutating_calls() == [[*inside, "docker", "start", "prometheus"]]
    (host.state / "exec.json").write_text(json.dumps({**running, "docker inspect -f {{.State.Status}} prometheus": [0, "running\n", ""]}))
    assert "containers grafana, prometheus are running: nothing to do" in host.run("docker-restart.sh", ctid, apply=True).stderr
    (host.state / "exec.json").write_text(json.dumps({**running, "docker inspect -f {{.State.Status}} prometheus": [0, "restarting\n", ""]}))
    looping = host.run("docker-restart.sh", ctid, apply=True)
    assert looping.returncode == 3 and "so it runs prom/prometheus again" in looping.stderr
