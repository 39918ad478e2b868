"""The read-only API surface monitoring clients walk (prometheus-pve-exporter's collectors, dashboards): cluster
status, node status, subscription, replication, tasks, qemu lists, backup coverage, the firewall's groups,
aliases and ipsets. Everything is computed from the lab's /etc/pve state and this host's /proc, as PVE does.

The lab is a standalone node (the reference config declares no cluster), so `/cluster/status` is the single
local-node entry PVE returns without corosync."""
from __future__ import annotations

import hashlib
import ipaddress
import os
import platform
import re
import shutil
import time
from pathlib import Path
from typing import Any

from phoenix_lab.paths import HOST_ADDR, NODE, LabPaths

TASK_INDEX = "tasks-index"   # under the lab's run dir: PVE's /var/log/pve/tasks/index format, one `UPID endtime status`
UPID = re.compile(r"UPID:(?P<node>[^:]+):(?P<pid>[0-9A-F]{8}):(?P<pstart>[0-9A-F]{8,9}):(?P<starttime>[0-9A-F]{8}):"
                  r"(?P<type>[^:]*):(?P<id>[^:]*):(?P<user>[^:]+):$")


def cluster_status() -> list[dict[str, Any]]:
    """No corosync: PVE fakes one entry for the local node (`local` 1, `nodeid` 0, `level` the subscription's)."""
    return [{"type": "node", "id": f"node/{NODE}", "name": NODE, "ip": HOST_ADDR.split("/")[0], "local": 1,
             "nodeid": 0, "online": 1, "level": ""}]


def subscription() -> dict[str, Any]:
    """A node with no key: status `notfound`; `serverid` is derived from the node (PVE hashes its MAC addresses)."""
    serverid = hashlib.md5(f"{NODE}/{HOST_ADDR}".encode()).hexdigest().upper()
    return {"status": "notfound", "message": "There is no subscription key", "serverid": serverid,
            "url": "https://www.proxmox.com/en/proxmox-virtual-environment/pricing"}


def node_status(version: dict[str, str], home: Path) -> dict[str, Any]:
    """GET /nodes/{node}/status from this host's /proc (memory, swap, load, CPU) and the lab's disk."""
    mem = _meminfo()
    disk = shutil.disk_usage(home)
    uname = platform.uname()
    cpus = os.cpu_count() or 1
    return {
        "uptime": int(float(Path("/proc/uptime").read_text().split()[0])),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "cpu": 0, "wait": 0, "idle": 0,
        "cpuinfo": {"cpus": cpus, "sockets": 1, "cores": cpus, "model": _cpu_model(), "mhz": _cpu_mhz(),
                    "hvm": "1", "user_hz": os.sysconf("SC_CLK_TCK"), "flags": ""},
        "memory": {"total": mem["MemTotal"], "free": mem["MemAvailable"], "used": mem["MemTotal"] - mem["MemAvailable"]},
        "swap": {"total": mem["SwapTotal"], "free": mem["SwapFree"], "used": mem["SwapTotal"] - mem["SwapFree"]},
        "rootfs": {"total": disk.total, "used": disk.used, "avail": disk.free, "free": disk.free},
        "ksm": {"shared": 0},
        "kversion": f"{uname.system} {uname.release} {uname.version}",
        "current-kernel": {"sysname": uname.system, "release": uname.release, "version": uname.version,
                           "machine": uname.machine},
        "boot-info": {"mode": "efi" if Path("/sys/firmware/efi").exists() else "legacy-bios"},
        "pveversion": f"pve-manager/{version['version']}/{version['repoid']}",
    }


def _meminfo() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[key] = int(fields[0]) * 1024
    return out


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _cpu_mhz() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            return line.split(":", 1)[1].strip()
    return "0"


def record_task(paths: LabPaths, upid: str, status: str = "OK") -> None:
    """Append a finished task to the index `/nodes/{node}/tasks` lists (the lab runs its tasks in the foreground)."""
    paths.run.mkdir(parents=True, exist_ok=True)
    with open(paths.run / TASK_INDEX, "a", encoding="utf-8") as index:
        index.write(f"{upid} {int(time.time()):08X} {status}\n")


def tasks(paths: LabPaths, params: dict[str, str]) -> list[dict[str, Any]]:
    """GET /nodes/{node}/tasks: newest first, `start`/`limit` paging (default 50), optional `vmid` and `typefilter`."""
    index = paths.run / TASK_INDEX
    entries = []
    for line in index.read_text().splitlines() if index.exists() else []:
        upid, _, rest = line.partition(" ")
        match = UPID.fullmatch(upid)
        if not match:
            continue
        endtime, _, status = rest.partition(" ")
        entry: dict[str, Any] = {"upid": upid, "node": match["node"], "pid": int(match["pid"], 16),
                                 "pstart": int(match["pstart"], 16), "starttime": int(match["starttime"], 16),
                                 "type": match["type"], "id": match["id"], "user": match["user"]}
        if endtime:
            entry.update(endtime=int(endtime, 16), status=status)
        entries.append(entry)
    entries.sort(key=lambda e: e["starttime"], reverse=True)
    if params.get("vmid"):
        entries = [e for e in entries if e["id"] == params["vmid"]]
    if params.get("typefilter"):
        entries = [e for e in entries if e["type"] == params["typefilter"]]
    start = int(params.get("start", "0") or 0)
    limit = int(params.get("limit", "50") or 50)
    return entries[start:start + limit]


def backup_jobs(pve: Path) -> list[dict[str, str]]:
    """The `vzdump: <id>` sections of /etc/pve/jobs.cfg (section-config: header line, then indented `key value`)."""
    path = pve / "jobs.cfg"
    jobs: list[dict[str, str]] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        header = re.fullmatch(r"(\w+):\s*(\S+)\s*", line)
        if header:
            jobs.append({"__type": header[1], "__id": header[2]})
        elif line[:1] in (" ", "\t") and line.strip() and jobs:
            key, _, value = line.strip().partition(" ")
            jobs[-1][key] = value.strip()
    return [job for job in jobs if job["__type"] == "vzdump"]


def not_backed_up(pve: Path, guests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GET /cluster/backup-info/not-backed-up: guests that no backup job includes (templates are never listed).

    A job includes `vmid` (comma list), or with `all 1` every guest but its `exclude` list."""
    covered: set[int] = set()
    ids = [g["vmid"] for g in guests]
    for job in backup_jobs(pve):
        if job.get("all") == "1":
            excluded = {int(v) for v in re.split(r"[,\s]+", job.get("exclude", "")) if v.isdigit()}
            covered |= {v for v in ids if v not in excluded}
        covered |= {int(v) for v in re.split(r"[,\s]+", job.get("vmid", "")) if v.isdigit()}
    return [{"type": g["type"], "vmid": g["vmid"], "name": g["name"]}
            for g in sorted(guests, key=lambda g: g["vmid"]) if g["vmid"] not in covered and not g.get("template")]


def _with_digest(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PVE's copy_list_with_digest: one SHA-1 over every entry's sorted `k:v\\n`, repeated on each entry."""
    sha = hashlib.sha1()
    for entry in entries:
        for key in sorted(entry):
            sha.update(f"{key}:{entry[key]}\n".encode())
    return [{**entry, "digest": sha.hexdigest()} for entry in entries]


def aliases(fw: Any) -> list[dict[str, Any]]:
    out = []
    for name in sorted(fw.aliases if fw else {}):
        cidr = fw.aliases[name]
        entry: dict[str, Any] = {"name": name, "cidr": cidr}
        try:
            entry["ipversion"] = ipaddress.ip_network(cidr, strict=False).version
        except ValueError:
            pass
        out.append(entry)
    return _with_digest(out)


def ipsets(fw: Any) -> list[dict[str, Any]]:
    return _with_digest([{"name": name} for name in sorted(fw.ipsets if fw else {})])


def ipset(fw: Any, name: str) -> list[dict[str, Any]]:
    members = (fw.ipsets if fw else {}).get(name)
    if members is None:
        raise KeyError(name)
    out = []
    for line in members:
        member, _, comment = line.partition("#")
        entry: dict[str, Any] = {"cidr": member.strip().lstrip("!")}
        if member.strip().startswith("!"):
            entry["nomatch"] = 1
        if comment.strip():
            entry["comment"] = comment.strip()
        out.append(entry)
    return _with_digest(out)


def groups(fw: Any) -> list[dict[str, Any]]:
    return _with_digest([{"group": name} for name in sorted(fw.groups if fw else {})])
