"""The Docker layer: Debian's docker.io (Docker Engine, containerd, runc) for the lab's docker CTs.

Phoenix's docker CTs run Docker Engine inside an unprivileged CT with `features: keyctl=1,nesting=1`. The lab
installs docker.io once into an extra overlay lower layer (built like the SmolLM2 layer: apt in a chroot on an
overlay of the unshifted build tree, then uid-shifted) that sits under the CTs whose .conf carries `keyctl=1`.
The daemon is configured for this machine: `vfs` storage (the CT root is itself an overlay, and overlay on
overlay is refused) and bridge/pool addresses inside the lab range (network safety: Docker's defaults are
172.17.0.0/16 and friends)."""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_lab import image
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError, run

LAYER_VERSION = "phoenix-lab docker layer 1"
DAEMON_JSON = {"storage-driver": "vfs", "bip": "198.19.0.1/24",
               "default-address-pools": [{"base": "198.19.128.0/17", "size": 24}]}
APT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}


def layer(paths: LabPaths) -> Path:
    return paths.cache / "layer-docker"


def stamp(paths: LabPaths) -> Path:
    return paths.cache / "layer-docker.stamp"


def present(paths: LabPaths) -> bool:
    return layer(paths).is_dir() and stamp(paths).is_file() and stamp(paths).read_text().strip() == LAYER_VERSION


def ensure(paths: LabPaths, log: Callable[[str], None] = print) -> Path:
    if present(paths):
        log(f"[lab] docker layer: cached at {layer(paths)}")
        return layer(paths)
    build = image.build_root(paths)
    if not (build / "usr/bin/python3").exists():
        raise LabError(f"{build}: the base image build tree is missing; remove {paths.base_image} and run `phoenix-lab up` again")
    started = time.monotonic()
    work = paths.cache / "layer-docker.tmp"
    shutil.rmtree(work, ignore_errors=True)
    upper, ovl_work, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, ovl_work, merged):
        d.mkdir(parents=True)
    run(["mount", "-t", "overlay", "phx-docker-build", "-o", f"lowerdir={build},upperdir={upper},workdir={ovl_work}", str(merged)])
    mounted = [merged]
    try:
        for fs, dst, opts in (("proc", merged / "proc", ["-t", "proc"]), ("/dev", merged / "dev", ["--bind"]),
                              ("/etc/resolv.conf", merged / "etc/resolv.conf", ["--bind"])):
            run(["mount", *opts, fs, str(dst)])
            mounted.append(dst)
        log("[lab] docker layer: apt-get install docker.io (one time, about half a minute)")
        (merged / "usr/sbin/policy-rc.d").write_text("#!/bin/sh\nexit 101\n")  # install, never start, in the chroot
        (merged / "usr/sbin/policy-rc.d").chmod(0o755)
        run(["chroot", str(merged), "apt-get", "update", "-qq"], timeout=300, env=APT_ENV)
        run(["chroot", str(merged), "apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"],
            timeout=600, env=APT_ENV)
        run(["chroot", str(merged), "apt-get", "clean"], env=APT_ENV)
    finally:
        for mnt in reversed(mounted):
            run(["umount", str(mnt)], check=False)
    for leftover in ("var/lib/apt/lists", "usr/sbin/policy-rc.d"):
        path = upper / leftover
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    (upper / "etc/docker").mkdir(parents=True, exist_ok=True)
    (upper / "etc/docker/daemon.json").write_text(json.dumps(DAEMON_JSON, indent=2) + "\n")
    image.shift_ownership(upper, image.UID_SHIFT)
    shutil.rmtree(layer(paths), ignore_errors=True)
    upper.rename(layer(paths))
    shutil.rmtree(work, ignore_errors=True)
    stamp(paths).write_text(LAYER_VERSION + "\n")
    log(f"[lab] docker layer: ready in {time.monotonic() - started:.1f}s")
    return layer(paths)
