"""Comparison logic for the lxc layer: declared Container vs. parsed control-plane config and in-CT facts.

Each function returns a list of problems (empty = conforming), every entry naming the CT and saying what was
expected and what was found, so the tests stay one-line asserts with readable failures.
"""
from __future__ import annotations

import re
import shlex

from phoenix_model.inventory import Container
from phoenix_model.pve_formats import CtConfig, MountPoint, Net0, Startup, parse_property_string
from phoenix_model.services import service_type
from phoenix_verify.access.ct_facts import MAPPED_ROOT, CtFacts, Process

DEFAULT_IDMAP = ((0, MAPPED_ROOT, 65536),)
APPARMOR_PROFILE = "lxc-container-default-with-mounting-phoenix"
NVIDIA_DEV = re.compile(r"^/dev/nvidia(\d+)\s")


def _diff(ct: Container, what: str, expected: object, found: object) -> list[str]:
    return [] if expected == found else [f"ct{ct.ctid} {what}: expected {expected!r}, found {found!r}"]


def status(ct: Container, found: str | None) -> list[str]:
    if found is None:
        return [f"ct{ct.ctid}: does not exist on the node"]
    return _diff(ct, "status", "running" if ct.start_at_boot else "stopped", found)


def field(ct: Container, cfg: CtConfig, key: str) -> list[str]:
    expected = {"hostname": ct.name, "cores": ct.cores, "memory": ct.memory_mb, "onboot": int(ct.start_at_boot)}[key]
    found = cfg.current.get(key, 0 if key == "onboot" else None)
    return _diff(ct, key, expected, found)


def startup_order(ct: Container, cfg: CtConfig) -> list[str]:
    raw = cfg.current.get("startup")
    found = Startup.parse(str(raw)).order if raw else None
    return _diff(ct, "startup order", ct.boot_order, found or 0)


def net0(ct: Container, cfg: CtConfig) -> list[str]:
    raw = cfg.current.get("net0")
    if not raw:
        return [f"ct{ct.ctid}: no net0 in the config"]
    net = Net0.parse(str(raw))
    expected = {"name": ct.network.name, "bridge": ct.network.bridge, "ip": str(ct.network.ip),
                "gw": str(ct.network.gateway), "hwaddr": ct.network.mac.upper()}
    found = {"name": net.name, "bridge": net.bridge, "ip": net.ip, "gw": net.gw, "hwaddr": net.hwaddr}
    return [f"ct{ct.ctid} net0 {k}: expected {expected[k]!r}, found {found[k]!r}" for k in expected if expected[k] != found[k]]


def network_inside(ct: Container, facts: CtFacts) -> list[str]:
    """The declared address is on the declared NIC inside and the default route uses the declared gateway."""
    found = [str(a) for name, a in facts.addresses if name == ct.network.name]
    problems = [] if ct.network.ip in [a for name, a in facts.addresses if name == ct.network.name] else \
        [f"ct{ct.ctid} {ct.network.name} inside: expected {ct.network.ip}, found {found}"]
    return problems + _diff(ct, "default gateway inside", str(ct.network.gateway), facts.default_gateway)


def _idmaps(cfg: CtConfig) -> tuple[tuple[str, int, int, int], ...]:
    out = []
    for key, value in cfg.lxc:
        parts = value.split()
        if key == "lxc.idmap" and len(parts) == 4 and all(p.isdigit() for p in parts[1:]):
            out.append((parts[0], int(parts[1]), int(parts[2]), int(parts[3])))
    return tuple(out)


def effective_idmap(cfg: CtConfig) -> dict[str, tuple[tuple[int, int, int], ...]]:
    """u/g ranges the CT runs with: custom lxc.idmap lines replace PVE's default map entirely."""
    maps = _idmaps(cfg)
    if not maps:
        return {"u": DEFAULT_IDMAP, "g": DEFAULT_IDMAP} if cfg.current.get("unprivileged") == 1 else {}
    return {kind: tuple(m[1:] for m in maps if m[0] == kind) for kind in ("u", "g")}


def fixed_at_creation(ct: Container, cfg: CtConfig) -> list[str]:
    """`unprivileged` as declared (absent means 0, as PVE reads it); it cannot be changed on an existing CT."""
    return _diff(ct, "unprivileged", int(ct.unprivileged), cfg.current.get("unprivileged", 0))


def idmap_config(ct: Container, cfg: CtConfig) -> list[str]:
    problems: list[str] = []
    if ct.unprivileged:
        found = {k: v for k, v in effective_idmap(cfg).items()}
        problems += _diff(ct, "idmap in config", {"u": DEFAULT_IDMAP, "g": DEFAULT_IDMAP}, found)
        if "docker" not in ct.features:
            problems += _diff(ct, "lxc.idmap lines", (("u", 0, MAPPED_ROOT, 65536), ("g", 0, MAPPED_ROOT, 65536)), _idmaps(cfg))
    return problems


def idmap_inside(ct: Container, facts: CtFacts) -> list[str]:
    expected = DEFAULT_IDMAP if ct.unprivileged else ((0, 0, 4294967295),)
    return _diff(ct, "/proc/self/uid_map", expected, facts.uid_map) + _diff(ct, "/proc/self/gid_map", expected, facts.gid_map)


def apparmor(ct: Container, cfg: CtConfig) -> list[str]:
    found = [v for k, v in cfg.lxc if k == "lxc.apparmor.profile"]
    if not ct.unprivileged:
        return []
    expected = [] if "docker" in ct.features else [APPARMOR_PROFILE]
    return _diff(ct, "lxc.apparmor.profile", expected, found)


def features(ct: Container, cfg: CtConfig) -> list[str]:
    """`features: nesting=1` for docker CTs and for `pct_options` nesting=1; nothing otherwise."""
    found = parse_property_string(str(cfg.current.get("features", "")), "features")
    wants_nesting = "docker" in ct.features or any(o.replace(" ", "") == "nesting=1" for o in ct.pct_options)
    return _diff(ct, "features nesting", "1" if wants_nesting else None, found.get("nesting"))


def mountpoints(cfg: CtConfig) -> dict[str, MountPoint]:
    """mp path -> parsed mpN of the current config."""
    mps = (MountPoint.parse(str(v)) for k, v in cfg.current.items() if re.fullmatch(r"mp\d+", k))
    return {mp.mp.rstrip("/") or "/": mp for mp in mps}


def declared_mount_paths(ct: Container) -> set[str]:
    return {m.mount_path.rstrip("/") for m in ct.shared_mounts} | {v.mount_point.rstrip("/") for v in ct.dedicated_volumes}


def mount_in_config(ct: Container, cfg: CtConfig, path: str, volume: str) -> list[str]:
    """`volume` is the host path of a shared mount or the storage pool (`pool:`) of a dedicated one."""
    mp = mountpoints(cfg).get(path.rstrip("/"))
    if mp is None:
        return [f"ct{ct.ctid}: no mpN with mp={path} in the config"]
    if volume.endswith(":"):
        return [] if mp.volume.startswith(volume) else [f"ct{ct.ctid} mp={path}: expected a volume on {volume[:-1]}, found {mp.volume!r}"]
    return _diff(ct, f"mp={path} host path", volume.rstrip("/"), mp.volume.rstrip("/"))


def undeclared_mounts(ct: Container, cfg: CtConfig) -> list[str]:
    extra = sorted(set(mountpoints(cfg)) - declared_mount_paths(ct))
    return [f"ct{ct.ctid}: mount {p} ({mountpoints(cfg)[p].volume}) is not declared for this CT" for p in extra]


def mount_inside(ct: Container, facts: CtFacts, path: str) -> list[str]:
    return [] if facts.mount_at(path) else [f"ct{ct.ctid}: nothing is mounted at {path} inside the CT"]


def owner_inside(ct: Container, facts: CtFacts, path: str, uid: int, gid: int) -> list[str]:
    expected = f"{uid - MAPPED_ROOT if uid >= MAPPED_ROOT else 65534}:{gid - MAPPED_ROOT if gid >= MAPPED_ROOT else 65534}"
    found = facts.stats.get(path, "not probed")
    return _diff(ct, f"owner of {path} inside", expected, ":".join(found.split(":")[:2]) if ":" in found else found)


def writable_inside(ct: Container, facts: CtFacts, path: str, uid: int) -> list[str]:
    ok = facts.writable.get(path)
    return [] if ok else [f"ct{ct.ctid}: uid {uid} cannot create a file in {path} inside the CT"]


def gpu_lines(ct: Container, cfg: CtConfig) -> list[str]:
    found = sorted({int(m.group(1)) for k, v in cfg.lxc if k == "lxc.mount.entry" for m in [NVIDIA_DEV.match(v)] if m})
    problems = _diff(ct, "GPU device lines (/dev/nvidiaN)", sorted(ct.gpus), found)
    allows = [v for k, v in cfg.lxc if k.startswith("lxc.cgroup2.devices.allow") and v.startswith("c 195:")]
    if ct.gpus and not allows:
        problems.append(f"ct{ct.ctid}: no lxc.cgroup2.devices.allow for the NVIDIA devices (c 195:*)")
    return problems


def dependencies_running(ct: Container, statuses: dict[int, str | None]) -> list[str]:
    return [f"ct{ct.ctid} depends on ct{dep}, which is {statuses.get(dep) or 'missing'}" for dep in ct.dependencies
            if statuses.get(dep) != "running"]


def port_listening(ct: Container, facts: CtFacts, port: int) -> list[str]:
    return [] if port in facts.listening_ports() else \
        [f"ct{ct.ctid}: nothing listens on tcp/{port} inside (listening: {sorted(facts.listening_ports())})"]


def _has_arg(tokens: list[str], flag: str, value: str | None) -> bool:
    if value is None:
        return flag in tokens
    return f"{flag}={value}" in tokens or any(t == flag and tokens[i + 1:i + 2] == [value] for i, t in enumerate(tokens))


def _tokens(proc: Process) -> list[str]:
    try:
        return shlex.split(proc.args)
    except ValueError:
        return proc.args.split()


def service_process(ct: Container, facts: CtFacts) -> list[str]:
    if ct.role == "vllm" and ct.vllm:
        # Running the declared model is this layer's question; the rest of the args are the vllm layer's
        # (checks.vllm_process), so a wrong served name is reported there once.
        model = ct.vllm.model
        running = any("vllm" in p.args and _has_arg(_tokens(p), "--model", model) for p in facts.processes)
        return [] if running else [f"ct{ct.ctid}: no vLLM process with --model {model}"]
    st = service_type(ct.role)
    needle = st.process if st else None
    if needle is None:
        return []
    return [] if any(needle in p.args for p in facts.processes) else [f"ct{ct.ctid}: no {ct.role} process ({needle!r}) running"]


def unit_active(ct: Container, facts: CtFacts, unit: str) -> list[str]:
    return _diff(ct, f"systemctl is-active {unit}", "active", facts.units.get(unit, "not probed"))


def template_snapshot(ct: Container, snapshots: dict[str, str | None] | None) -> list[str]:
    if snapshots is None:
        return [f"ct{ct.ctid}: does not exist on the node"]
    name = ct.template_snapshot
    return [] if name in snapshots else [f"ct{ct.ctid}: snapshot {name!r} missing (snapshots: {sorted(snapshots)})"]


def clone_source(ct: Container, source: Container, snapshots: dict[str, str | None] | None) -> list[str]:
    """A clone was made from `pct clone <src> --snapname <snap>`: the source must still carry that snapshot."""
    if snapshots is None:
        return [f"ct{ct.ctid}: its clone source ct{source.ctid} does not exist"]
    name = source.template_snapshot or "pre-configured"
    return [] if name in snapshots else [f"ct{ct.ctid}: clone source ct{source.ctid} lacks snapshot {name!r} (has {sorted(snapshots)})"]
