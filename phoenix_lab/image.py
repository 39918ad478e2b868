"""The lab's base image: Debian bookworm by debootstrap, built once, uid-shifted for unprivileged CTs, cached.

Python dependencies of the in-CT services are installed offline from a host-side wheelhouse, so a warm
`phoenix-lab up` installs nothing and CTs never need a network route out of the lab.
"""
from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from pathlib import Path

from phoenix_lab.paths import LabPaths
from phoenix_lab.service_plan import REQUIREMENTS as VENVS
from phoenix_lab.sh import LabError, run

IMAGE_VERSION = "phoenix-lab-base 3"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("systemd,systemd-sysv,dbus,python3,python3-venv,python3-pip,nginx,curl,iproute2,procps,"
            "ca-certificates,openssl,netcat-openbsd,locales,iputils-ping,less")
UID_SHIFT = 100000


def ensure_base_image(paths: LabPaths, log=print) -> Path:
    image = paths.base_image
    stamp = image / ".phoenix-image"
    if stamp.is_file() and stamp.read_text().strip() == IMAGE_VERSION:
        log(f"[lab] base image: cached at {image}")
        return image
    start = time.monotonic()
    build = build_root(paths)
    if not (build / "usr/bin/python3").exists():
        shutil.rmtree(build, ignore_errors=True)
        log(f"[lab] base image: debootstrap bookworm into {build} (one time, about a minute)")
        run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(build), MIRROR], timeout=900)
    _configure(build)
    _install_venvs(paths, build, log)
    log("[lab] base image: shifting ownership to the unprivileged range (+100000)")
    tmp = paths.cache / "base-rootfs.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    run(["cp", "-a", "--reflink=auto", str(build), str(tmp)], timeout=600)
    shift_ownership(tmp, UID_SHIFT)
    shutil.rmtree(image, ignore_errors=True)
    tmp.rename(image)
    (image / ".phoenix-image").write_text(IMAGE_VERSION + "\n")
    log(f"[lab] base image: ready in {time.monotonic() - start:.1f}s")
    return image


def _configure(root: Path) -> None:
    """Container-friendly defaults: no services start unless the lab enables them, eth0 is set by LXC."""
    for unit in ("nginx.service",):
        link = root / "etc/systemd/system/multi-user.target.wants" / unit
        if link.is_symlink() or link.exists():
            link.unlink()
    for unit in ("systemd-networkd.service", "systemd-networkd-wait-online.service", "getty@tty1.service",
                 "systemd-timesyncd.service", "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer"):
        mask = root / "etc/systemd/system" / unit
        if not mask.exists():
            mask.symlink_to("/dev/null")
    (root / "etc/network").mkdir(parents=True, exist_ok=True)
    (root / "etc/network/interfaces").write_text("auto lo\niface lo inet loopback\n\niface eth0 inet manual\n")
    (root / "etc/locale.gen").write_text("en_US.UTF-8 UTF-8\n")
    (root / "etc/default/locale").write_text("LANG=en_US.UTF-8\n")
    (root / "etc/resolv.conf").write_text("nameserver 198.18.0.1\n")


def _install_venvs(paths: LabPaths, root: Path, log) -> None:
    wanted = sorted({pkg for pkgs in VENVS.values() for pkg in pkgs})
    log(f"[lab] base image: wheelhouse for {', '.join(wanted)}")
    download_wheels(paths, wanted)
    try:
        for venv, pkgs in VENVS.items():
            if (root / venv.lstrip("/") / "bin/python").exists():
                continue
            log(f"[lab] base image: venv {venv} ({', '.join(pkgs)})")
            run(["chroot", str(root), "python3", "-m", "venv", venv], timeout=300)
            pip_install_offline(paths, root, venv, pkgs)
    finally:
        shutil.rmtree(root / "tmp/wheels", ignore_errors=True)


def download_wheels(paths: LabPaths, pkgs: list[str], no_deps: bool = False) -> Path:
    """Fill the host-side wheelhouse with wheels for the CTs' python (bookworm's 3.11), from pip's configured sources."""
    wheels = paths.cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", "3.11",
         "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64", "-d", str(wheels),
         *(["--no-deps"] if no_deps else []), *pkgs], timeout=900)
    return wheels


def pip_install_offline(paths: LabPaths, root: Path, venv: str, pkgs: list[str], no_deps: bool = False) -> None:
    """pip install into a venv of the chroot `root` from the wheelhouse only (copied to its /tmp/wheels once)."""
    inside = root / "tmp/wheels"
    if not inside.is_dir():
        shutil.copytree(paths.cache / "wheels", inside)
    run(["chroot", str(root), f"{venv}/bin/pip", "install", "-q", "--no-index", "--find-links", "/tmp/wheels",
         *(["--no-deps"] if no_deps else []), *pkgs],
        timeout=900, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


def shift_ownership(root: Path, shift: int) -> None:
    """chown every entry by +shift (the default PVE idmap), keeping setuid/setgid bits that chown clears."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames, None]:
            path = dirpath if name is None else os.path.join(dirpath, name)
            st = os.lstat(path)
            if st.st_uid >= shift:
                continue
            os.lchown(path, st.st_uid + shift, st.st_gid + shift)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                os.chmod(path, stat.S_IMODE(st.st_mode))


def build_root(paths: LabPaths) -> Path:
    """The unshifted build tree the base image is copied from; extra layers are built on top of it."""
    return paths.cache / "rootfs-build"


def image_present(paths: LabPaths) -> bool:
    stamp = paths.base_image / ".phoenix-image"
    return stamp.is_file() and stamp.read_text().strip() == IMAGE_VERSION


if __name__ == "__main__":
    try:
        ensure_base_image(LabPaths.default())
    except LabError as exc:
        sys.exit(f"phoenix-lab: {exc}")
