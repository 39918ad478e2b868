"""Before any test runs, an unusable Proxmox host stops the run with one line and exit 2: `pct` missing, ssh to the
host refused. (A rejected or under-privileged API token: test_api_emulator.py, against the emulated API.)"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_verify.access.proxmox import HostPlane, ProxmoxError
from phoenix_verify.target import parse_target

REPO = Path(__file__).resolve().parents[2]


def _target(tmp_path: Path, access: str) -> Path:
    shutil.copytree(REPO / "fixtures" / "lab", tmp_path / "inv")
    path = tmp_path / "phoenix.toml"
    path.write_text(f'[inventory]\nconfig_dir = "inv"\n[proxmox]\nnode = "pve"\n[access]\npct = "{access}"\n')
    return path


def _check(target: Path, cwd: Path, path_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path_env}
    env.pop("PHOENIX_TARGET", None)
    return subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "check", "--target", str(target), "-m", "lxc", "-q", "-p", "no:xdist"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "Traceback" not in out and not re.search(r"\d+ (passed|failed|error)", out), out[-3000:]
    lines = [line for line in out.splitlines() if "Exit:" in line or "!!!" in line]
    assert len(lines) == 1, out[-3000:]
    return lines[0]


def test_pct_missing_stops_the_run_in_one_line(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "timeout", "cat"):
        (bindir / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    line = _one_line(_check(_target(tmp_path, "local"), tmp_path, str(bindir)))
    assert "local host: pct: command not found" in line


def test_ssh_host_that_refuses_stops_the_run_in_one_line(tmp_path: Path) -> None:
    """Nothing listens on 127.0.0.1:9 (discard): ssh ends with rc 255 and its own one-line reason."""
    line = _one_line(_check(_target(tmp_path, "ssh://root@127.0.0.1:9"), tmp_path, os.environ["PATH"]))
    assert "ssh://root@127.0.0.1:9: ssh failed:" in line and "refused" in line


def test_host_plane_reports_missing_pct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "timeout").symlink_to(shutil.which("timeout") or "/usr/bin/timeout")
    (tmp_path / "sh").symlink_to("/bin/sh")
    plane = HostPlane(parse_target(_target(tmp_path, "local")))
    with pytest.raises(ProxmoxError, match="pct: command not found"):
        plane.preflight([])
