"""Enter the lab's host network namespace, so plain `pytest` from the root namespace reaches the lab."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

from phoenix_verify.target import LAB_HOME, Target, TargetError

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE, MS_BIND, MNT_DETACH = 0x4000, 0x40000, 0x1000, 0x2


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
    lab_bin = str(Path(target.lab_home or LAB_HOME) / "bin")
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
    _private_mounts_like_ip_netns_exec(libc, name)


def _private_mounts_like_ip_netns_exec(libc: ctypes.CDLL, name: str) -> None:
    """What `ip netns exec` does besides setns: a sysfs of this netns, and /etc/netns/<name>/* over /etc/*
    (the lab's /etc/pve). Done in a private mount namespace, so nothing outside this process changes."""
    def check(rc: int, what: str) -> None:
        if rc != 0:
            raise TargetError(f"cannot {what} for the lab namespace: {os.strerror(ctypes.get_errno())}")

    check(libc.unshare(CLONE_NEWNS), "unshare the mount namespace")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    cgroups = b"/run/phoenix-verify-cgroup"
    os.makedirs(cgroups, exist_ok=True)
    check(libc.mount(b"/sys/fs/cgroup", cgroups, None, MS_BIND | MS_REC, None), "keep the cgroup mounts")
    check(libc.umount2(b"/sys", MNT_DETACH), "unmount /sys")
    check(libc.mount(b"sysfs", b"/sys", b"sysfs", 0, None), "mount this namespace's sysfs")
    check(libc.mount(cgroups, b"/sys/fs/cgroup", None, MS_BIND | MS_REC, None), "restore the cgroup mounts")
    etc = Path("/etc/netns", name)
    for entry in sorted(etc.iterdir()) if etc.is_dir() else []:
        dest = Path("/etc", entry.name)
        if dest.exists():
            check(libc.mount(str(entry).encode(), str(dest).encode(), None, MS_BIND, None), f"bind {entry} over {dest}")
