"""Per-CT root filesystems: an overlay of the shared base image plus the CT's own upper layer.

A clone or snapshot copies only the upper layer (kilobytes to a few MB), which is what makes a warm
`phoenix-lab up` fast; the CT still sees one ordinary writable root owned by its mapped root (100000).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from phoenix_lab import docker_layer, options
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import run
from phoenix_model.pve_formats import parse_ct_config, parse_property_string

PATHS = LabPaths.default()


def layer_dir(ctid: int, snapshot: str | None = None) -> Path:
    base = PATHS.ct_dir(ctid)
    return base / "snapshots" / snapshot / "upper" if snapshot else base / "upper"


def merged(ctid: int) -> Path:
    return PATHS.ct_dir(ctid) / "rootfs"


def lower_layers(ctid: int | None = None) -> list[Path]:
    """The read-only layers under a CT, top first: the Docker layer for docker CTs (`keyctl=1` in the .conf's
    features, as Proxmox sets for Docker), the SmolLM2 layer when the lab runs that engine, the base image."""
    extra = [PATHS.model_layer] if options.load(PATHS).chat_engine == "smollm2" else []
    if ctid is not None and is_docker_ct(ctid) and docker_layer.present(PATHS):
        extra.insert(0, docker_layer.layer(PATHS))
    return [*extra, PATHS.base_image]


def is_docker_ct(ctid: int) -> bool:
    conf = PATHS.ct_conf(ctid)
    if not conf.exists():
        return False
    features = parse_property_string(str(parse_ct_config(conf.read_text()).current.get("features", "")), "features")
    return features.get("keyctl") == "1"


def is_mounted(ctid: int) -> bool:
    return run(["mountpoint", "-q", str(merged(ctid))], check=False).returncode == 0


def mount(ctid: int) -> Path:
    target = merged(ctid)
    if is_mounted(ctid):
        return target
    work = PATHS.ct_dir(ctid) / "work"
    for d in (layer_dir(ctid), work, target):
        d.mkdir(parents=True, exist_ok=True)
    import os

    os.chown(layer_dir(ctid), 100000, 100000)
    os.chmod(layer_dir(ctid), 0o755)
    run(["mount", "-t", "overlay", f"phx-ct{ctid}", "-o",
         f"lowerdir={':'.join(map(str, lower_layers(ctid)))},upperdir={layer_dir(ctid)},workdir={work}", str(target)])
    return target


def umount(ctid: int) -> None:
    if is_mounted(ctid):
        run(["umount", str(merged(ctid))], check=False)
        if is_mounted(ctid):
            run(["umount", "-l", str(merged(ctid))])


def create_empty(ctid: int) -> None:
    shutil.rmtree(PATHS.ct_dir(ctid) / "upper", ignore_errors=True)
    mount(ctid)


def copy_layer(src: Path, dst_ctid: int) -> None:
    umount(dst_ctid)
    dst = layer_dir(dst_ctid)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.rmtree(PATHS.ct_dir(dst_ctid) / "work", ignore_errors=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", str(src), str(dst)])
    mount(dst_ctid)


def snapshot_layer(ctid: int, name: str) -> None:
    dst = layer_dir(ctid, name)
    shutil.rmtree(dst, ignore_errors=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", str(layer_dir(ctid)), str(dst)])


def delete_snapshot_layer(ctid: int, name: str) -> None:
    shutil.rmtree(layer_dir(ctid, name).parent, ignore_errors=True)


def destroy(ctid: int) -> None:
    umount(ctid)
    shutil.rmtree(PATHS.ct_dir(ctid), ignore_errors=True)
