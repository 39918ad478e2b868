"""Planners for the host layer: shared volume ownership, subordinate ids, the admin user, the bridge (manual)
and static inventory findings (manual)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

from phoenix_verify.remediation.context import (
    Command,
    Context,
    InvalidArgument,
    ManualStep,
    Plan,
    PlanFailure,
)

STRICT_MODE_VOLUMES = ("ssl_certs", "nginx_sites")  # phoenix_orchestrator.sh L716-735: 755/644, others 775/664
SUBID_RANGE = (100000, 65536)


def shared_volume(ctx: Context, name: str) -> tuple[Path, int, int]:
    """Host path and owner of a declared shared volume, from a container that mounts it (owner default
    100000:100000, container root under the default idmap)."""
    volumes = ctx.inventory.shared_volumes
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) or name not in volumes:
        known = ", ".join(sorted(volumes)) or "none"
        raise InvalidArgument(f"unknown shared volume {name!r}: the inventory declares {known}")
    for ct in ctx.inventory.containers.values():
        for mount in ct.shared_mounts:
            if mount.volume == name:
                return Path(mount.host_path), int(mount.owner_uid), int(mount.owner_gid)
    return Path(volumes[name].host_path), 100000, 100000


def file_mode_ok(mode: int, declared: int) -> bool:
    """A file is fine when it is no more open than declared and as readable as declared: services create files
    later with their own umask (nginx writes its logs 644 into the 664 nginx_logs volume)."""
    return mode & ~declared == 0 and mode & 0o444 == declared & 0o444


def plan_shared_volume_owner(ctx: Context, name: str) -> Plan:
    path, uid, gid = shared_volume(ctx, name)
    dir_mode, file_mode = (0o755, 0o644) if name in STRICT_MODE_VOLUMES else (0o775, 0o664)
    if not path.exists():
        return Plan(
            [
                ("mkdir", "-p", str(path)),
                ("chown", "-R", f"{uid}:{gid}", str(path)),
                ("chmod", f"{dir_mode:o}", str(path)),
            ]
        )
    wrong_owner = wrong_dir = wrong_file = False
    for entry in [path, *path.rglob("*")]:
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        wrong_owner |= (info.st_uid, info.st_gid) != (uid, gid)
        if stat.S_ISDIR(info.st_mode):
            wrong_dir |= stat.S_IMODE(info.st_mode) != dir_mode
        elif stat.S_ISREG(info.st_mode):
            wrong_file |= not file_mode_ok(stat.S_IMODE(info.st_mode), file_mode)
    commands: list[Command] = []
    if wrong_owner:
        commands.append(("chown", "-R", f"{uid}:{gid}", str(path)))
    for wrong, kind, mode in ((wrong_dir, "d", dir_mode), (wrong_file, "f", file_mode)):
        if wrong:
            commands.append(
                ("find", str(path), "-type", kind, "!", "-perm", f"{mode:o}", "-exec", "chmod", f"{mode:o}", "{}", "+")
            )
    if not commands:
        return Plan(notes=[f"{name}: {path} is owned {uid}:{gid} with modes {dir_mode:o}/{file_mode:o}: nothing to do"])
    return Plan(commands)


def covers_subid(path: Path, start: int, count: int) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return False
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) != 3 or parts[0] != "root" or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        if int(parts[1]) <= start and start + count <= int(parts[1]) + int(parts[2]):
            return True
    return False


def plan_subid(ctx: Context) -> Plan:
    start, count = SUBID_RANGE
    span = f"{start}-{start + count - 1}"
    commands: list[Command] = [
        ("usermod", option, span, "root")
        for kind, option in (("subuid", "--add-subuids"), ("subgid", "--add-subgids"))
        if not covers_subid(ctx.etc_dir / kind, start, count)
    ]
    if not commands:
        return Plan(notes=[f"root has {start}:{count} in {ctx.etc_dir}/subuid and subgid: nothing to do"])
    return Plan(commands)


def plan_admin_user(ctx: Context) -> Plan:
    host = ctx.inventory.host
    user = host.admin_user
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", user):
        raise PlanFailure(f"inventory: users.username {user!r} is not a valid user name")
    groups = ctx.run("id", "-nG", user)
    commands: list[Command] = []
    if groups.returncode != 0:
        commands.append(("useradd", "-m", "-s", "/bin/bash", user))
    if host.admin_sudo and "sudo" not in groups.stdout.split():
        commands.append(("usermod", "-aG", "sudo", user))
    if not commands:
        return Plan(notes=[f"user {user} exists{' and is in group sudo' if host.admin_sudo else ''}: nothing to do"])
    return Plan(commands)


def plan_host_bridge(ctx: Context) -> Plan:
    host = ctx.inventory.host
    raise ManualStep(
        f"on the Proxmox host, declare the bridge in /etc/network/interfaces: 'auto {host.bridge}' / "
        f"'iface {host.bridge} inet static' / 'address {host.address}' / 'gateway {host.gateway}' / "
        "'bridge-ports <physical NIC>' / 'bridge-stp off' / 'bridge-fd 0', then run 'ifreload -a' from a console "
        "(a mistake cuts the network)"
    )


def static_findings(inventory: Any) -> list[str]:
    """Every finding of phoenix_verify.checks.static_config over the inventory (the same as the `static` tests)."""
    from phoenix_verify.checks import static_config as checks

    findings: list[str] = []
    for document in checks.schema_files(inventory.source_dir):
        findings += checks.schema_findings(inventory.source_dir, document)
    findings += checks.gpu_oversubscription(inventory) + checks.duplicate_served_names(inventory)
    for ct in inventory.containers.values():
        findings += checks.ports_without_rule(ct) + checks.vllm_arg_disagreements(ct)
        findings += checks.dependency_order(inventory, ct)
    return findings


def plan_inventory_fix(ctx: Context) -> Plan:
    """Static findings are defects of the Phoenix JSON itself: only a human edit fixes them."""
    try:
        inventory = ctx.inventory
    except PlanFailure as exc:  # the JSON does not even load: that is a finding too
        raise ManualStep(f"edit the Phoenix JSON to fix: {exc}") from None
    findings = static_findings(inventory)
    if not findings:
        return Plan(notes=[f"the inventory in {inventory.source_dir} has no static findings: nothing to do"])
    raise ManualStep(
        f"edit the Phoenix JSON in {inventory.source_dir} to fix {len(findings)} finding(s): " + " | ".join(findings)
    )
