"""Running host commands for the lab, inside the lab's host namespace when the command needs it."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from phoenix_lab.paths import NETNS


class LabError(Exception):
    """A lab step failed; the message says which step and what the command printed."""


def in_lab_netns() -> bool:
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat(f"/run/netns/{NETNS}").st_ino
    except FileNotFoundError:
        return False


def run(cmd: Sequence[str], *, check: bool = True, netns: bool = False, timeout: float = 120,
        input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv = list(cmd)
    if netns and not in_lab_netns():
        argv = ["nsenter", f"--net=/run/netns/{NETNS}", *argv]  # not `ip netns exec`: it remounts /sys (and hides cgroups)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(argv)}: timed out after {timeout}s") from None
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)}: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc


def write_file(path: Path, text: str, mode: int = 0o644, uid: int | None = None, gid: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    if uid is not None:
        os.chown(path, uid, gid if gid is not None else uid)
