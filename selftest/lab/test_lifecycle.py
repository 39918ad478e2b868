"""`phoenix-lab down` leaves no trace (namespaces, containers, mounts, routes, nft, processes, subids), and `up`
brings the lab back idempotently. Runs last in the lab self-tests."""
from __future__ import annotations

import subprocess
from pathlib import Path


def sh(cmd: str) -> str:
    return subprocess.run(cmd, check=False, shell=True, capture_output=True, text=True, timeout=60).stdout


def trace() -> dict[str, str]:
    return {
        "netns": sh("ip netns list"),
        "lxc": sh("lxc-ls -P /var/lib/phoenix-lab/lxc 2>/dev/null"),
        "mounts": "".join(line + "\n" for line in sh("cat /proc/mounts").splitlines() if "phoenix-lab" in line or "phx-" in line),
        "routes": sh("ip route show table all type unreachable"),
        "nft": sh("nft list tables"),
        # zombies are skipped: this machine's PID 1 does not reap orphans, so an exited lxc-start stays <defunct>
        "processes": "".join(line + "\n" for line in sh("ps -eo stat=,args=").splitlines()
                             if ("phoenix_lab.api_server" in line or "lxc-start" in line) and not line.startswith("Z")),
        "subuid": Path("/etc/subuid").read_text() if Path("/etc/subuid").exists() else "",
        "subgid": Path("/etc/subgid").read_text() if Path("/etc/subgid").exists() else "",
        "passwd": "".join(line for line in Path("/etc/passwd").read_text().splitlines(True) if "phoenix_admin" in line),
    }


def test_down_leaves_no_trace_and_up_restores(lab_cli) -> None:
    down = lab_cli("down")
    assert down.returncode == 0, down.stderr
    gone = trace()
    assert "phx-host" not in gone["netns"]
    assert gone["lxc"].strip() == ""
    assert gone["mounts"] == ""
    assert "198.18.0.0/15" not in gone["routes"]
    assert gone["processes"] == ""
    assert "root:100000:65536" not in gone["subuid"] + gone["subgid"]
    assert gone["passwd"] == ""
    assert not Path("/var/lib/phoenix-lab").exists()
    up = lab_cli("up", timeout=900)
    assert up.returncode == 0, up.stderr + up.stdout
    again = lab_cli("up", timeout=300)
    assert again.returncode == 0 and "created from the base image" not in again.stdout
    back = trace()
    assert "phx-host" in back["netns"] and "198.18.0.0/15" in back["routes"]
    assert "pve_firewall" not in gone["nft"]
