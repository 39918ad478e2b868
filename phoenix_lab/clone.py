"""`phoenix-lab clone SRC DST`: what phoenix_orchestrator.sh does for a new CT cloned from a template.

DST must be declared in the lab inventory (`clone_from_ctid` = SRC); the clone comes from SRC's template
snapshot, gets its declared config, firewall and application, and is started.
"""
from __future__ import annotations

from collections.abc import Callable

from phoenix_lab import firewall, lifecycle, lxc_runtime, pct, provision, rootfs
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError
from phoenix_model.inventory import load_inventory


def clone(src: int, dst: int, log: Callable[[str], None] = print) -> None:
    inv = load_inventory(lifecycle.inventory_dir())
    ct = inv.container(dst)
    source = inv.container(src)
    if ct.clone_from != src:
        raise LabError(f"ct{dst} is declared as a clone of {ct.clone_from}, not of {src}")
    paths = LabPaths.default()
    if paths.ct_conf(dst).exists():
        raise LabError(f"unable to create CT {dst} - CT {dst} already exists on node 'pve'")
    snap = source.template_snapshot or "pre-configured"
    code = pct.main(["clone", str(src), str(dst), "--snapname", snap, "--hostname", ct.name, "--storage", ct.storage_pool])
    if code != 0:
        raise LabError(f"pct clone {src} {dst} failed")
    provision.write_ct_state(ct, inv, paths)
    provision.push_services(ct, inv)
    if ct.start_at_boot or not ct.is_template:
        rootfs.mount(dst)
        lxc_runtime.start(dst)
        firewall.apply(paths)
    log(f"[lab] ct{dst} {ct.name}: cloned from {src}@{snap}, configured and started")
