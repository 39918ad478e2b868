"""Every fault of the catalogue applies and clears cleanly, leaving the lab's observable state as it was."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from phoenix_lab import faults, lifecycle, lxc_runtime, provision, service_plan
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import run
from phoenix_model.inventory import load_inventory

PATHS = LabPaths.default()


def fingerprint() -> dict[str, str]:
    """What `clear` must restore exactly: PVE state files, shared volume contents/owners, CT states, nft ruleset."""
    out: dict[str, str] = {}
    for path in sorted(PATHS.pve.rglob("*")):
        if path.is_file():
            out[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
    for path in sorted((PATHS.home / "shared").rglob("*")):
        if "logs" in path.parts:
            continue
        st = path.lstat()
        out[str(path)] = f"{st.st_uid}:{st.st_gid}:{oct(st.st_mode)}" + (f":{hashlib.sha1(path.read_bytes()).hexdigest()}" if path.is_file() else "")
    for conf in sorted((PATHS.pve / "lxc").glob("*.conf")):
        out[f"state:{conf.stem}"] = lxc_runtime.state(int(conf.stem))
    out["nft"] = run(["nft", "list", "table", "inet", "pve_firewall"], netns=True, check=False).stdout
    inv = load_inventory(lifecycle.inventory_dir())
    for ct in inv.services():
        unit = service_plan.unit_name(ct)
        if service_plan.is_docker(ct) and lxc_runtime.state(ct.ctid) == "running":
            inspect = ("{{.Name}} {{.State.Status}} {{json .Config.Cmd}} {{json .HostConfig.PortBindings}} "
                       "{{json .Mounts}} {{.HostConfig.RestartPolicy.Name}}")
            # loopback listeners left out: dockerd/containerd bind a random 127.0.0.1 port at every start
            probe = (f"ss -tlnH | awk '{{print $4}}' | grep -v -e '^127\\.' -e '^\\[::1\\]' | sort; systemctl is-active docker; "
                     f"docker ps -aq | xargs -r docker inspect -f '{inspect}'")
            out[f"runtime:{ct.ctid}"] = run(lxc_runtime.attach_argv(ct.ctid, ["sh", "-c", probe]), check=False).stdout
            continue
        if unit is None or lxc_runtime.state(ct.ctid) != "running":
            continue
        probe = f"ss -tlnH | awk '{{print $4}}' | sort; systemctl is-active {unit}; test -e /run/vllm-engine-dead && echo engine-dead; " \
                f"cat /etc/systemd/system/{unit} 2>/dev/null | sha1sum"
        out[f"runtime:{ct.ctid}"] = run(lxc_runtime.attach_argv(ct.ctid, ["sh", "-c", probe]), check=False).stdout
    out["subuid"] = Path("/etc/subuid").read_text()
    return out


def test_catalogue_is_complete(lab_cli) -> None:
    assert len(faults.CATALOGUE) >= 20
    assert {f.layer for f in faults.CATALOGUE} == {"host", "lxc", "gateway", "vllm", "firewall"}
    listing = lab_cli("fault", "list")
    assert listing.returncode == 0
    for fault in faults.CATALOGUE:
        assert fault.name in listing.stdout


@pytest.mark.parametrize("name", [f.name for f in faults.CATALOGUE])
def test_apply_and_clear_round_trip(name: str, lab_cli) -> None:
    provision.wait_ready(load_inventory(lifecycle.inventory_dir()), lambda _: None, timeout=90)
    before = fingerprint()
    applied = lab_cli("fault", "apply", name)
    assert applied.returncode == 0, applied.stderr
    try:
        assert name in faults.applied()
        assert fingerprint() != before, f"{name} changed nothing observable"
    finally:
        cleared = lab_cli("fault", "clear", name)
    assert cleared.returncode == 0, cleared.stderr
    assert faults.applied() == {}
    after = fingerprint()
    assert {k: v for k, v in after.items() if after.get(k) != before.get(k)} == {}


def test_unknown_fault_is_one_line(lab_cli) -> None:
    result = lab_cli("fault", "apply", "no-such-fault")
    assert result.returncode == 2
    assert result.stderr.strip() == "phoenix-lab: unknown fault 'no-such-fault' (see `phoenix-lab fault list`)"
