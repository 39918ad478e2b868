"""Enter the lab's host network namespace, so plain `pytest` from the root namespace reaches the lab."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

from phoenix_verify.target import Target, TargetError

CLONE_NEWNET = 0x40000000


def current_netns_inode() -> int:
    return os.stat("/proc/self/ns/net").st_ino


def enter_lab(target: Target) -> None:
    """setns(2) into /run/netns/<lab netns> unless already there; also put the lab's pct/pvesh on PATH."""
    name = target.lab_netns or "phx-host"
    path = Path("/run/netns", name)
    try:
        wanted = path.stat().st_ino
    except FileNotFoundError:
        raise TargetError("the lab is not running: run 'phoenix-lab up' (or 'make demo')") from None
    lab_bin = str(target.source.parent / "bin")
    if lab_bin not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = f"{lab_bin}:{os.environ.get('PATH', '')}"
    if current_netns_inode() == wanted:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise TargetError(f"{path}: cannot enter the lab network namespace: {os.strerror(err)} (run as root)")
    finally:
        os.close(fd)
