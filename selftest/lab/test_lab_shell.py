"""`phoenix-lab run`/`shell` is the lab's Proxmox host as a user meets it (issue 15 item 5): `pct stop` then
`pct start`/`pct reboot` of a CT must bring it back, which needs the cgroup tree that `ip netns exec` hides,
and /etc/pve must still be the lab's state there."""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_lab.paths import LabPaths
from phoenix_model.inventory import Inventory, load_inventory

REPO = Path(__file__).resolve().parents[2]
PATHS = LabPaths.default()


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return load_inventory(REPO / "fixtures" / "lab")


def vllm_ct(inv: Inventory) -> int:
    """A running vLLM CT (951 in the reference): the one the issue's acceptance line restarts."""
    return max(ct.ctid for ct in inv.services() if ct.vllm is not None)


def test_stop_then_start_from_the_lab_shell(lab_cli, inv: Inventory) -> None:
    ctid = vllm_ct(inv)
    proc = lab_cli("run", "--", "bash", "-c", f"pct stop {ctid} && pct start {ctid} && pct status {ctid}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "status: running"


def test_reboot_from_the_lab_shell(lab_cli, inv: Inventory) -> None:
    ctid = vllm_ct(inv)
    proc = lab_cli("run", "--", "bash", "-c", f"pct reboot {ctid} && pct status {ctid}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "status: running"


def test_lab_shell_sees_lab_state_and_cgroups(lab_cli, inv: Inventory) -> None:
    ctid = vllm_ct(inv)
    proc = lab_cli("run", "--", "sh", "-c", f"cat /etc/pve/lxc/{ctid}.conf && ls /sys/fs/cgroup && ls /sys/class/net")
    assert proc.returncode == 0, proc.stderr
    assert PATHS.ct_conf(ctid).read_text() in proc.stdout
    assert "memory" in proc.stdout.split()  # the cgroup v1 hierarchies are there
    assert "vmbr0" in proc.stdout.split()  # and sysfs is the lab netns's
