"""Planners for the container layer: start, config drift, net0 firewall flag, idmap, mount points, template
snapshot and GPU passthrough lines (docs/proxmox-formats.md, phoenix-expectations §1.2, §2.1)."""

from __future__ import annotations

import re
from typing import Any

from phoenix_model.pve_formats import parse_property_string, print_property_string
from phoenix_verify.remediation.context import (
    Context,
    InvalidArgument,
    ManualStep,
    Plan,
    PlanFailure,
    conf_edit,
    conf_value,
    ct_status,
    raw_lines,
    read_ct_config,
    with_stop_start,
)

GPU_COMMON_LINES = (
    "lxc.cgroup2.devices.allow: c 195:* rwm",
    "lxc.cgroup2.devices.allow: c 243:* rwm",
    "lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file",
    "lxc.mount.entry: /dev/nvidia-uvm dev/nvidia-uvm none bind,optional,create=file",
    "lxc.mount.entry: /dev/nvidia-uvm-tools dev/nvidia-uvm-tools none bind,optional,create=file",
)
DEFAULT_IDMAP = ("lxc.idmap: u 0 100000 65536", "lxc.idmap: g 0 100000 65536")
FEATURE_KEYS = ("fuse", "keyctl", "mknod", "mount", "nesting", "force_rw_sys")


def plan_ct_start(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    if ct.is_template:
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) is a template: templates stay stopped")
    if ct_status(ctx, ct.ctid) == "running":
        return Plan(notes=[f"ct{ct.ctid} is already running: nothing to do"])
    return Plan([("pct", "start", str(ct.ctid))])


def desired_net0(ct: Any, current: dict[str, str]) -> dict[str, str]:
    """The declared net0 fields over the current ones (keeps type, tag, mtu, … that Phoenix does not declare)."""
    net = ct.network
    wanted = dict(current)
    wanted.update(name=net.name, bridge=net.bridge, ip=str(net.ip), gw=str(net.gateway), hwaddr=net.mac.upper())
    if ct.firewall.enabled:
        wanted["firewall"] = "1"
    wanted.setdefault("type", "veth")
    return wanted


def same_net0(a: dict[str, str], b: dict[str, str]) -> bool:
    """Compare net0 property dicts; the MAC is case-insensitive."""

    def norm(props: dict[str, str]) -> dict[str, str]:
        return {k: (v.upper() if k == "hwaddr" else v) for k, v in props.items()}

    return norm(a) == norm(b)


def desired_features(ct: Any) -> dict[str, str]:
    """nesting=1 for docker CTs (orchestrator L540) plus `pct_options` such as nesting=1 (L525-533)."""
    wanted: dict[str, str] = {}
    if "docker" in ct.features:
        wanted["nesting"] = "1"
    for option in ct.pct_options:
        key, sep, value = option.partition("=")
        if sep and key in FEATURE_KEYS:
            wanted[key] = value
    return wanted


def plan_ct_config(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    conf = read_ct_config(ctx, ct.ctid)
    startup = f"order={ct.boot_order},up={ct.boot_delay},down={ct.boot_delay}"
    wanted = {
        "hostname": ct.name,
        "cores": str(ct.cores),
        "memory": str(ct.memory_mb),
        "onboot": "1" if ct.start_at_boot else "0",
        "startup": startup,
    }
    options: list[str] = []
    for key, value in wanted.items():
        current = conf_value(conf, key)
        equal = parse_property_string(current, key) == parse_property_string(value, key) if key == "startup" else current == value
        if not equal:
            options += [f"--{key}", value]
    net0 = parse_property_string(conf_value(conf, "net0"), "net0")
    if not same_net0(net0, desired_net0(ct, net0)):
        options += ["--net0", print_property_string(desired_net0(ct, net0), "net0")]
    features = parse_property_string(conf_value(conf, "features"), "features")
    if any(features.get(k) != v for k, v in desired_features(ct).items()):
        options += ["--features", print_property_string({**features, **desired_features(ct)}, "features")]
    plan = Plan([("pct", "set", str(ct.ctid), *options)] if options else [])
    if not options:
        plan.notes.append(f"ct{ct.ctid}: hostname/cores/memory/onboot/startup/net0/features match: nothing to do")
    plan.extend(plan_idmap(ctx, ctid))
    return plan


def plan_net0_firewall(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    if not ct.firewall.enabled:
        return Plan(notes=[f"ct{ct.ctid}: the inventory declares no firewall: nothing to do"])
    net0 = parse_property_string(conf_value(read_ct_config(ctx, ct.ctid), "net0"), "net0")
    if not net0:
        raise PlanFailure(f"ct{ct.ctid} has no net0: re-apply the config with remediate/ct-config.sh {ct.ctid}")
    if net0.get("firewall") == "1":
        return Plan(notes=[f"ct{ct.ctid}: net0 already has firewall=1: nothing to do"])
    return Plan([("pct", "set", str(ct.ctid), "--net0", print_property_string({**net0, "firewall": "1"}, "net0"))])


def desired_idmap(ct: Any) -> tuple[str, ...]:
    """Non-docker unprivileged CTs get the default map written out; docker CTs get none (orchestrator L505-516)."""
    if not ct.unprivileged or "docker" in ct.features:
        return ()
    return DEFAULT_IDMAP


def fixed_at_creation(ct: Any, conf: Any) -> None:
    """Proxmox refuses to change `unprivileged`, `arch` or `ostype` of an existing CT (`pct set` rejects them; flipping
    unprivileged by hand leaves every file owned by the wrong uid range). The fix is manual: re-create the CT."""
    wanted = {"unprivileged": "1" if ct.unprivileged else "0"}
    differs = [f"{k} is {conf_value(conf, k, '0')} on the node, the inventory declares {v}"
               for k, v in wanted.items() if conf_value(conf, k, "0") != v]
    if differs:
        raise ManualStep(
            f"ct{ct.ctid}: {'; '.join(differs)}: Proxmox fixes this when a CT is created, so it cannot be changed in place. "
            f"Manual step: back up ct{ct.ctid} (vzdump {ct.ctid}), then re-create it from its template with the declared value "
            f"(pct destroy {ct.ctid}; phoenix_orchestrator.sh {ct.ctid}, or pct restore {ct.ctid} <backup> --unprivileged "
            f"{wanted['unprivileged']}). Nothing was changed.")


def plan_ct_recreate(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    fixed_at_creation(ct, read_ct_config(ctx, ct.ctid))
    return Plan(notes=[f"ct{ct.ctid}: unprivileged is as declared: nothing to do"])


def plan_idmap(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    conf = read_ct_config(ctx, ct.ctid)
    fixed_at_creation(ct, conf)
    current = tuple(line for line in raw_lines(conf) if line.startswith("lxc.idmap"))
    if current == desired_idmap(ct):
        return Plan(notes=[f"ct{ct.ctid}: unprivileged {conf_value(conf, 'unprivileged', '0')} and its idmap match: nothing to do"])
    # lxc.* raw keys have no `pct set` option: Proxmox documents them as lines of the CT's config file.
    options = ["--drop-raw-prefix", "lxc.idmap"]
    for line in desired_idmap(ct):
        options += ["--add-raw", line]
    return with_stop_start(ctx, ct, [conf_edit(ctx, ct.ctid, *options)], f"ct{ct.ctid}: restoring the idmap")


def declared_mounts(ct: Any) -> dict[str, str]:
    """Mount path -> the mpN value to create: shared bind mounts, then dedicated volumes (`pool:sizeGB`)."""
    mounts = {m.mount_path: f"{m.host_path},mp={m.mount_path}" for m in ct.shared_mounts}
    for volume in ct.dedicated_volumes:
        mounts.setdefault(volume.mount_point, f"{volume.pool}:{volume.size_gb},mp={volume.mount_point}")
    return mounts


def plan_mountpoint(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    current = {k: str(v) for k, v in read_ct_config(ctx, ct.ctid).current.items() if re.fullmatch(r"mp\d+", k)}
    wanted = declared_mounts(ct)
    bind_sources = {m.mount_path: str(m.host_path) for m in ct.shared_mounts}
    plan = Plan()
    kept: dict[str, str] = {}
    for key in sorted(current, key=lambda k: int(k[2:])):
        props = parse_property_string(current[key], key)
        path = props.get("mp", "")
        source_ok = path not in bind_sources or props.get("volume") == bind_sources[path]
        if path in wanted and path not in kept.values() and source_ok:
            kept[key] = path
            continue
        plan.commands.append(("pct", "set", str(ct.ctid), "--delete", key))
        why = "declared with another source" if path in wanted else "not declared"
        plan.notes.append(f"ct{ct.ctid}: removing {key}: {current[key]} ({why})")
    free = (f"mp{i}" for i in range(256) if f"mp{i}" not in kept)
    for path, value in wanted.items():
        if path not in kept.values():
            plan.commands.append(("pct", "set", str(ct.ctid), f"--{next(free)}", value))
    if not plan.commands:
        plan.notes.append(f"ct{ct.ctid}: the {len(wanted)} declared mount point(s) are in place: nothing to do")
    elif ct_status(ctx, ct.ctid) == "running":
        plan.commands.append(("pct", "reboot", str(ct.ctid)))
        plan.notes.append(f"ct{ct.ctid}: mount point changes apply when the CT starts: rebooting it")
        plan.disruptive.append(f"reboots the running ct{ct.ctid}")
    for key in (k for k in current if k not in kept):
        plan.disruptive.append(f"detaches {key} of ct{ct.ctid} ({current[key]}); a volume left unused can be deleted with it")
    for path, value in wanted.items():
        if path not in kept.values() and path not in bind_sources:
            plan.disruptive.append(f"creates a new, empty volume {value.split(',')[0]} at {path} in ct{ct.ctid}")
    return plan


def plan_template_snapshot(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    name = ct.template_snapshot
    if not name:
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) declares no template_snapshot_name")
    names = {
        line.replace("`->", " ").split()[0]
        for line in ctx.query("pct", "listsnapshot", str(ct.ctid)).splitlines()
        if line.strip()
    }
    if name in names:
        return Plan(notes=[f"ct{ct.ctid} has snapshot {name}: nothing to do"])
    return Plan([("pct", "snapshot", str(ct.ctid), name)])


def desired_gpu_lines(ct: Any) -> tuple[str, ...]:
    if not ct.gpus:
        return ()
    devices = tuple(f"lxc.mount.entry: /dev/nvidia{n} dev/nvidia{n} none bind,optional,create=file" for n in ct.gpus)
    return GPU_COMMON_LINES + devices


def is_gpu_line(line: str) -> bool:
    return line in GPU_COMMON_LINES or bool(re.match(r"lxc\.mount\.entry:\s*/dev/nvidia", line))


def plan_gpu_passthrough(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    current = [line for line in raw_lines(read_ct_config(ctx, ct.ctid)) if is_gpu_line(line)]
    wanted = desired_gpu_lines(ct)
    stale = [line for line in current if line not in wanted]
    missing = [line for line in wanted if line not in current]
    if not stale and not missing:
        return Plan(notes=[f"ct{ct.ctid}: the GPU lines match gpu_assignment {list(ct.gpus)}: nothing to do"])
    options = [arg for line in stale for arg in ("--drop-raw", line)]
    options += [arg for line in missing for arg in ("--add-raw", line)]
    plan = with_stop_start(ctx, ct, [conf_edit(ctx, ct.ctid, *options)], f"ct{ct.ctid}: rewriting the GPU lines")
    plan.notes += [f"ct{ct.ctid}: removing stale line: {line}" for line in stale]
    return plan
