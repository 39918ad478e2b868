"""Reading the two sides of a clone/template comparison: the running clone through `pct exec`, the stopped
template through `pct mount` on the host (read-only use; `pct unmount` afterwards, as an operator would)."""
from __future__ import annotations

import re
import shlex

from phoenix_verify.access.host_facts import host
from phoenix_verify.access.pct_backend import PctError, pct_host, spec_for
from phoenix_verify.promotion.clone_drift import DriftProbeError, RootfsFacts, parse_rootfs_facts, script_for_root

MOUNTED = re.compile(r"mounted CT \d+ in '([^']+)'")


def running_rootfs(ctid: int, access: str) -> RootfsFacts:
    try:
        out = pct_host(spec_for(ctid, access)).run(script_for_root(""))
    except PctError as exc:
        raise DriftProbeError(str(exc)) from None
    return parse_rootfs_facts(out.stdout, f"ct{ctid}")


def stopped_rootfs(ctid: int, access: str) -> RootfsFacts:
    pve = host(access)
    mounted = pve.run(f"pct mount {ctid}")
    match = MOUNTED.search(mounted.stdout)
    if mounted.rc != 0 or not match:
        raise DriftProbeError(f"ct{ctid}: pct mount failed: {(mounted.stderr or mounted.stdout).strip()[:200]}")
    try:
        out = pve.run(f"/bin/sh -c {shlex.quote(script_for_root(match.group(1)))}")
    finally:
        pve.run(f"pct unmount {ctid}")
    return parse_rootfs_facts(out.stdout, f"ct{ctid} (mounted at {match.group(1)})")


def rootfs_facts(ctid: int, status: str | None, access: str) -> RootfsFacts:
    return running_rootfs(ctid, access) if status == "running" else stopped_rootfs(ctid, access)
