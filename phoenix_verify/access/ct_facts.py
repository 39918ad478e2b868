"""One batched probe per CT: a single `pct exec` running a small POSIX sh script, parsed into `CtFacts`.

Every lxc check reads these facts instead of running its own command, so the number of `pct exec` calls grows
with the number of CTs, not with the number of checks. Results (and failures) are cached for the session.
"""
from __future__ import annotations

import ipaddress
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from phoenix_model.deployment import DAEMON_UNIT, docker_service, role_unit
from phoenix_model.inventory import Container
from phoenix_verify.access.pct_backend import PctError, pct_host, spec_for

SECTION = "@@"
MAPPED_ROOT = 100000


@dataclass(frozen=True)
class Process:
    pid: int
    user: str
    args: str


@dataclass(frozen=True)
class Mount:
    mount_point: str
    fstype: str
    source: str
    options: str


@dataclass(frozen=True)
class DockerContainer:
    """One `docker inspect` entry, reduced to what the checks judge."""

    name: str
    image: str
    status: str                                      # created|running|paused|restarting|exited|dead
    restarting: bool
    restart_count: int
    restart_policy: str                              # no|always|unless-stopped|on-failure
    published: frozenset[tuple[int, str]]            # (host port, "6333/tcp") from HostConfig.PortBindings
    mounts: tuple[tuple[str, str, str], ...]         # (type, source, destination)


@dataclass(frozen=True)
class ProbePlan:
    """What to look at besides the fixed sections: paths to stat, (path, uid) write tests, units, Docker."""

    paths: tuple[str, ...] = ()
    writers: tuple[tuple[str, int], ...] = ()
    units: tuple[str, ...] = ()
    docker: bool = False


@dataclass(frozen=True)
class CtFacts:
    ctid: int
    uid_map: tuple[tuple[int, int, int], ...]
    gid_map: tuple[tuple[int, int, int], ...]
    hostname: str
    addresses: tuple[tuple[str, ipaddress.IPv4Interface], ...]
    default_gateway: str | None
    listening: frozenset[tuple[str, int]]
    processes: tuple[Process, ...]
    mounts: tuple[Mount, ...]
    stats: Mapping[str, str] = field(default_factory=dict)       # path -> "uid:gid:mode" or "error: ..."
    writable: Mapping[str, bool] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)        # unit -> is-active output
    containers: tuple[DockerContainer, ...] | None = None         # None: not a docker CT (or docker absent)

    def listening_ports(self) -> frozenset[int]:
        return frozenset(port for _, port in self.listening)

    def mount_at(self, path: str) -> Mount | None:
        return next((m for m in reversed(self.mounts) if m.mount_point == path.rstrip("/") or m.mount_point == path), None)


def plan_for(ct: Container) -> ProbePlan:
    """Declared mount paths (stat + write test as the in-CT owner) and the role's unit."""
    paths = [m.mount_path for m in ct.shared_mounts] + [v.mount_point for v in ct.dedicated_volumes]
    writers = [(m.mount_path, m.owner_uid - MAPPED_ROOT if m.owner_uid >= MAPPED_ROOT else m.owner_uid) for m in ct.shared_mounts]
    writers += [(v.mount_point, 0) for v in ct.dedicated_volumes]
    unit = DAEMON_UNIT if docker_service(ct) else role_unit(ct)
    return ProbePlan(tuple(paths), tuple(writers), (unit,) if unit else (), docker=docker_service(ct) is not None)


def probe_script(plan: ProbePlan) -> str:
    q = shlex.quote
    lines = [
        "s() { printf '@@%s\\n' \"$1\"; }",
        "s uid_map; cat /proc/self/uid_map",
        "s gid_map; cat /proc/self/gid_map",
        "s hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname",
        "s addr; ip -4 -o addr show 2>/dev/null",
        "s route; ip -4 route show default 2>/dev/null",
        ("if command -v ss >/dev/null 2>&1; then s listen_ss; ss -tlnH; "
         "else s listen_proc; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; fi"),
        ("if command -v ps >/dev/null 2>&1; then s ps; ps -ww -eo pid=,user=,args=; else s ps; "
         "for d in /proc/[0-9]*; do printf '%s %s %s\\n' \"${d#/proc/}\" \"$(stat -c %U \"$d\")\" "
         "\"$(tr '\\0' ' ' < \"$d/cmdline\" 2>/dev/null)\"; done; fi"),
        "s mountinfo; cat /proc/self/mountinfo",
    ]
    for path in plan.paths:
        lines.append(f"s {q('stat:' + path)}; stat -c '%u:%g:%a' -- {q(path)} 2>&1 | sed 's/^stat: /error: /'")
    for path, uid in plan.writers:
        probe = q(f"{path.rstrip('/')}/.phoenix-verify-write")
        test = f"sh -c 'touch \"$1.$$\" && rm -f \"$1.$$\"' _ {probe}"
        if uid != 0:
            test = f"setpriv --reuid={uid} --regid={uid} --clear-groups {test}"
        lines.append(f"s {q('write:' + path)}; if {test} >/dev/null 2>&1; then echo yes; else echo no; fi")
    for unit in plan.units:
        lines.append(f"s {q('unit:' + unit)}; systemctl is-active {q(unit)} 2>/dev/null || true")
    if plan.docker:  # every container, running or not: one JSON array on one line (empty when there is none)
        lines.append("s docker; ids=$(docker ps -aq 2>/dev/null) || ids=; "
                     "if [ -n \"$ids\" ]; then docker inspect $ids 2>/dev/null | tr -d '\\n'; echo; "
                     "elif command -v docker >/dev/null 2>&1; then echo '[]'; fi")
    lines.append("s end")
    return "\n".join(lines) + "\n"


def split_sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(SECTION):
            current = sections.setdefault(line[len(SECTION):], [])
        elif current is not None:
            current.append(line)
    return sections


def _idmap(lines: list[str]) -> tuple[tuple[int, int, int], ...]:
    return tuple(tuple(int(x) for x in line.split()) for line in lines if len(line.split()) == 3)  # type: ignore[misc]


def _addresses(lines: list[str]) -> tuple[tuple[str, ipaddress.IPv4Interface], ...]:
    out = []
    for line in lines:
        parts = line.split()
        if "inet" in parts:
            out.append((parts[1], ipaddress.IPv4Interface(parts[parts.index("inet") + 1])))
    return tuple(out)


def _split_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def _listen_ss(lines: list[str]) -> frozenset[tuple[str, int]]:
    out = set()
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "LISTEN":
            out.add(_split_hostport(parts[3]))
    return frozenset(out)


def _listen_proc(lines: list[str]) -> frozenset[tuple[str, int]]:
    out = set()
    for line in lines:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A" and ":" in parts[1]:
            addr, port = parts[1].split(":")
            host = str(ipaddress.IPv4Address(bytes.fromhex(addr)[::-1])) if len(addr) == 8 else addr
            out.add((host, int(port, 16)))
    return frozenset(out)


def _processes(lines: list[str]) -> tuple[Process, ...]:
    out = []
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0].isdigit():
            out.append(Process(int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
    return tuple(out)


def _mounts(lines: list[str]) -> tuple[Mount, ...]:
    out = []
    for line in lines:
        pre, sep, post = line.partition(" - ")
        fields, tail = pre.split(), post.split()
        if sep and len(fields) >= 6 and len(tail) >= 2:
            point = fields[4].replace("\\040", " ")
            out.append(Mount(point, tail[0], tail[1], fields[5]))
    return tuple(out)


def _containers(lines: list[str]) -> tuple[DockerContainer, ...] | None:
    text = "".join(lines).strip()
    if not text:
        return None   # no docker CLI in the CT (or the daemon did not answer `ps`)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return None
    out = []
    for entry in raw if isinstance(raw, list) else []:
        state, host = entry.get("State") or {}, entry.get("HostConfig") or {}
        bindings = host.get("PortBindings") or {}
        out.append(DockerContainer(
            name=str(entry.get("Name", "")).lstrip("/"),
            image=str((entry.get("Config") or {}).get("Image", "")),
            status=str(state.get("Status", "unknown")),
            restarting=bool(state.get("Restarting")),
            restart_count=int(entry.get("RestartCount") or 0),
            restart_policy=str((host.get("RestartPolicy") or {}).get("Name") or "no"),
            published=frozenset((int(b["HostPort"]), port) for port, binds in bindings.items() for b in binds or []
                                if str(b.get("HostPort", "")).isdigit()),
            mounts=tuple((str(m.get("Type", "")), str(m.get("Source", "")), str(m.get("Destination", "")))
                         for m in entry.get("Mounts") or []),
        ))
    return tuple(out)


def parse_facts(ctid: int, text: str) -> CtFacts:
    sec = split_sections(text)
    if "end" not in sec:
        raise PctError(f"ct{ctid}: the fact probe stopped early (no end marker)")
    route = next((line.split()[2] for line in sec.get("route", []) if line.startswith("default via")), None)
    listening = _listen_ss(sec["listen_ss"]) if "listen_ss" in sec else _listen_proc(sec.get("listen_proc", []))
    pick = lambda prefix: {k[len(prefix):]: v for k, v in sec.items() if k.startswith(prefix)}
    return CtFacts(
        ctid=ctid,
        uid_map=_idmap(sec.get("uid_map", [])),
        gid_map=_idmap(sec.get("gid_map", [])),
        hostname=" ".join(sec.get("hostname", [])).strip(),
        addresses=_addresses(sec.get("addr", [])),
        default_gateway=route,
        listening=listening,
        processes=_processes(sec.get("ps", [])),
        mounts=_mounts(sec.get("mountinfo", [])),
        stats={k: " ".join(v).strip() for k, v in pick("stat:").items()},
        writable={k: " ".join(v).strip() == "yes" for k, v in pick("write:").items()},
        units={k: " ".join(v).strip() or "unknown" for k, v in pick("unit:").items()},
        containers=_containers(sec["docker"]) if "docker" in sec else None,
    )


_cache: dict[tuple[int, str], CtFacts | PctError] = {}


def ct_facts(ct: Container, access: str = "local") -> CtFacts:
    """The CT's facts, probed once per session (a failed probe is remembered and re-raised, not retried)."""
    key = (ct.ctid, access)
    if key not in _cache:
        try:
            out = pct_host(spec_for(ct.ctid, access)).run(probe_script(plan_for(ct)))
            _cache[key] = parse_facts(ct.ctid, out.stdout)
        except PctError as exc:
            _cache[key] = exc
    value = _cache[key]
    if isinstance(value, PctError):
        raise value
    return value
