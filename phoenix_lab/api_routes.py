"""The Proxmox REST API paths the suite reads (and the few it writes), over the lab's /etc/pve state.

Shared by the HTTPS server and `pvesh`; shapes follow proxmox-formats.md §1: 0/1 integers, int vmid,
digest-only options for a missing .fw file, errors as (status, message) with the message in the reason phrase.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any, Callable

from phoenix_lab import lxc_runtime
from phoenix_lab.paths import NODE, LabPaths
from phoenix_verify.pve_formats import FwRule, MountPoint, parse_ct_config, parse_firewall_file, parse_property_string, write_firewall_file

EMPTY_DIGEST = hashlib.sha1(b"").hexdigest()
VERSION = {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _vmid(value: str) -> int:
    if not re.fullmatch(r"\d+", value):
        raise ApiError(400, "Parameter verification failed.", {"vmid": f"type check ('integer') failed - got '{value}'"})
    vmid = int(value)
    if vmid < 100:
        raise ApiError(400, "Parameter verification failed.", {"vmid": "value must have a minimum value of 100"})
    return vmid


def _node(value: str) -> None:
    if value != NODE:
        raise ApiError(500, f"hostname lookup '{value}' failed - failed to get address info for: {value}: Name or service not known")


class Api:
    def __init__(self, paths: LabPaths, state: Callable[[int], str] = lxc_runtime.state,
                 pid: Callable[[int], int | None] = lxc_runtime.init_pid) -> None:
        self.paths, self.state, self.pid = paths, state, pid

    # ------------------------------------------------------------------ helpers
    def _conf(self, vmid: int):
        path = self.paths.ct_conf(vmid)
        if not path.exists():
            raise ApiError(500, f"Configuration file 'nodes/{NODE}/lxc/{vmid}.conf' does not exist")
        return parse_ct_config(path.read_text())

    def _vmids(self) -> list[int]:
        folder = self.paths.pve / "lxc"
        return sorted(int(p.stem) for p in folder.glob("*.conf")) if folder.exists() else []

    def _fw(self, vmid: int | None):
        path = self.paths.fw_file(vmid)
        return parse_firewall_file(path.read_text()) if path.exists() else None

    def _status(self, vmid: int) -> dict[str, Any]:
        cur = self._conf(vmid).current
        status = self.state(vmid)
        rootfs = parse_property_string(str(cur.get("rootfs", "")), "rootfs")
        size = rootfs.get("size", "4G")
        maxdisk = int(float(size[:-1]) * 1024 ** {"K": 1, "M": 2, "G": 3, "T": 4}.get(size[-1], 3)) if size[-1].isalpha() else int(size)
        data: dict[str, Any] = {
            "vmid": vmid, "type": "lxc", "name": re.sub(r"\s", "", str(cur.get("hostname", f"CT{vmid}"))), "status": status,
            "cpus": int(cur.get("cores", os.cpu_count() or 1)), "cpu": 0, "maxmem": int(cur.get("memory", 512)) * 1024 * 1024,
            "mem": 0, "maxswap": int(cur.get("swap", 512)) * 1024 * 1024, "swap": 0, "maxdisk": maxdisk, "disk": 0,
            "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0, "uptime": 0,
        }
        if cur.get("template") == 1:
            data["template"] = 1
        if cur.get("lock"):
            data["lock"] = cur["lock"]
        if cur.get("tags"):
            data["tags"] = cur["tags"]
        if status == "running":
            pid = self.pid(vmid)
            data.update({"pid": pid or 0, "uptime": _uptime(pid), "pressurecpusome": 0, "pressurecpufull": 0,
                         "pressureiosome": 0, "pressureiofull": 0, "pressurememorysome": 0, "pressurememoryfull": 0})
        return data

    # ------------------------------------------------------------------ dispatch
    def handle(self, method: str, path: str, params: dict[str, str]) -> Any:
        parts = [p for p in path.strip("/").split("/") if p]
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"version", self.version),
            ("GET", r"nodes", self.nodes),
            ("GET", r"nodes/([^/]+)/lxc", self.lxc_list),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)", self.lxc_index),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/status/current", self.lxc_status),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/config", self.lxc_config),
            ("PUT", r"nodes/([^/]+)/lxc/([^/]+)/config", self.lxc_config_set),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/snapshot", self.lxc_snapshots),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/firewall/options", self.ct_fw_options),
            ("PUT", r"nodes/([^/]+)/lxc/([^/]+)/firewall/options", self.ct_fw_options_set),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/firewall/rules", self.ct_fw_rules),
            ("POST", r"nodes/([^/]+)/lxc/([^/]+)/firewall/rules", self.ct_fw_rule_create),
            ("DELETE", r"nodes/([^/]+)/lxc/([^/]+)/firewall/rules/(\d+)", self.ct_fw_rule_delete),
            ("GET", r"nodes/([^/]+)/lxc/([^/]+)/firewall/rules/(\d+)", self.ct_fw_rule),
            ("GET", r"cluster/firewall/options", self.cluster_fw_options),
            ("PUT", r"cluster/firewall/options", self.cluster_fw_options_set),
            ("GET", r"cluster/firewall/rules", self.cluster_fw_rules),
            ("GET", r"nodes/([^/]+)/firewall/options", self.node_fw_options),
            ("GET", r"cluster/resources", self.resources),
            ("GET", r"nodes/([^/]+)/storage", self.storage),
        ]
        for verb, pattern, func in routes:
            match = re.fullmatch(pattern, "/".join(parts))
            if match and verb == method:
                return func(*match.groups(), **({"params": params} if "params" in func.__code__.co_varnames else {}))
        raise ApiError(501, f"Method '{method} /{path.strip('/')}' not implemented")

    # ------------------------------------------------------------------ endpoints
    def version(self) -> Any:
        return dict(VERSION)

    def nodes(self) -> Any:
        return [{"id": f"node/{NODE}", "type": "node", "node": NODE, "status": "online", "level": "", "cpu": 0.01,
                 "maxcpu": os.cpu_count() or 1, "mem": 0, "maxmem": _meminfo(), "disk": 0, "maxdisk": _disk(),
                 "uptime": int(time.monotonic()), "ssl_fingerprint": ""}]

    def lxc_list(self, node: str) -> Any:
        _node(node)
        return [self._status(v) for v in self._vmids()]

    def lxc_index(self, node: str, vmid: str) -> Any:
        _node(node)
        self._conf(_vmid(vmid))
        return [{"subdir": s} for s in ("config", "status", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy",
                                         "remote_migrate", "migrate", "clone", "rrd", "rrddata", "firewall", "snapshot",
                                         "resize", "move_volume", "feature", "template", "interfaces", "mtunnel", "pending")]

    def lxc_status(self, node: str, vmid: str) -> Any:
        _node(node)
        data = self._status(_vmid(vmid))
        data["ha"] = {"managed": 0}
        return data

    def lxc_config(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        _node(node)
        cfg = self._conf(_vmid(vmid))
        snap = params.get("snapshot")
        if snap and params.get("current"):
            raise ApiError(400, "Parameter verification failed.", {"current": "option conflicts with option 'snapshot'"})
        if snap:
            if snap not in cfg.snapshots:
                raise ApiError(500, f"snapshot '{snap}' does not exist")
            data = cfg.snapshots[snap].as_api()
            data["digest"] = cfg.digest
            return data
        return cfg.as_api()

    def lxc_config_set(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        _node(node)
        self._conf(_vmid(vmid))
        args = [item for key, value in params.items() if key != "digest" for item in (f"--{key}", value)]
        self._pct(["set", vmid, *args])
        return None

    def lxc_snapshots(self, node: str, vmid: str) -> Any:
        _node(node)
        cfg = self._conf(_vmid(vmid))
        out = []
        for name, snap in cfg.snapshots.items():
            entry: dict[str, Any] = {"name": name, "snaptime": int(snap.current.get("snaptime", 0)),
                                     "description": str(snap.current.get("description", ""))}
            if snap.current.get("parent"):
                entry["parent"] = snap.current["parent"]
            out.append(entry)
        current: dict[str, Any] = {"name": "current", "digest": cfg.digest, "running": int(self.state(int(vmid)) == "running"),
                                   "description": "You are here!"}
        if cfg.current.get("parent"):
            current["parent"] = cfg.current["parent"]
        return out + [current]

    def _options(self, fw) -> Any:
        if fw is None:
            return {"digest": EMPTY_DIGEST}
        return {**fw.options, "digest": fw.options_digest()}

    def _rules(self, fw) -> Any:
        if fw is None:
            return []
        digest = hashlib.sha1(write_firewall_file(fw).encode()).hexdigest()
        return [rule.as_api(i, digest) for i, rule in enumerate(fw.rules)]

    def ct_fw_options(self, node: str, vmid: str) -> Any:
        _node(node)
        return self._options(self._fw(_vmid(vmid)))

    def ct_fw_rules(self, node: str, vmid: str) -> Any:
        _node(node)
        return self._rules(self._fw(_vmid(vmid)))

    def ct_fw_rule(self, node: str, vmid: str, pos: str) -> Any:
        rules = self.ct_fw_rules(node, vmid)
        if int(pos) >= len(rules):
            raise ApiError(500, f"no rule at position {pos}")
        return rules[int(pos)]

    def _save_fw(self, vmid: int | None, fw) -> None:
        path = self.paths.fw_file(vmid)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = write_firewall_file(fw)
        if text:
            path.write_text(text)
        elif path.exists():
            path.unlink()
        self._recompile()

    def ct_fw_options_set(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        _node(node)
        return self._set_options(_vmid(vmid), params)

    def cluster_fw_options_set(self, params: dict[str, str]) -> Any:
        return self._set_options(None, params)

    def _set_options(self, vmid: int | None, params: dict[str, str]) -> Any:
        from phoenix_verify.pve_formats import FirewallFile, parse_fw_option

        fw = self._fw(vmid) or FirewallFile()
        for key in [k for k in params.get("delete", "").split(",") if k]:
            fw.options.pop(key, None)
        for key, value in params.items():
            if key not in ("delete", "digest"):
                if key in ("enable",) and value not in ("0", "1"):
                    raise ApiError(400, "Parameter verification failed.", {key: f"type check ('boolean') failed - got '{value}'"})
                fw.options[key] = parse_fw_option(key, value)
        self._save_fw(vmid, fw)
        return None

    def ct_fw_rule_create(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        from phoenix_verify.pve_formats import FirewallFile

        _node(node)
        ctid = _vmid(vmid)
        if params.get("type") not in ("in", "out", "group") or not params.get("action"):
            raise ApiError(400, "Parameter verification failed.", {"type": "property is missing and it is not optional"})
        fw = self._fw(ctid) or FirewallFile()
        rule = FwRule(type=params["type"], action=params["action"].upper(), enable=params.get("enable", "1") != "0",
                      iface=params.get("iface"), source=params.get("source"), dest=params.get("dest"),
                      proto=params.get("proto"), dport=params.get("dport"), sport=params.get("sport"),
                      log=params.get("log"), comment=params.get("comment"))
        pos = int(params.get("pos", 0))
        fw.rules.insert(min(pos, len(fw.rules)), rule)
        self._save_fw(ctid, fw)
        return None

    def ct_fw_rule_delete(self, node: str, vmid: str, pos: str) -> Any:
        _node(node)
        ctid = _vmid(vmid)
        fw = self._fw(ctid)
        if fw is None or int(pos) >= len(fw.rules):
            raise ApiError(500, f"no rule at position {pos}")
        fw.rules.pop(int(pos))
        self._save_fw(ctid, fw)
        return None

    def cluster_fw_options(self) -> Any:
        return self._options(self._fw(None))

    def cluster_fw_rules(self) -> Any:
        return self._rules(self._fw(None))

    def node_fw_options(self, node: str) -> Any:
        _node(node)
        path = self.paths.pve / "nodes" / NODE / "host.fw"
        fw = parse_firewall_file(path.read_text()) if path.exists() else None
        return self._options(fw)

    def resources(self, params: dict[str, str]) -> Any:
        kind = params.get("type")
        out: list[dict[str, Any]] = []
        if kind in (None, "vm"):
            for vmid in sorted(self._vmids(), key=str):
                st = self._status(vmid)
                out.append({"id": f"lxc/{vmid}", "type": "lxc", "vmid": vmid, "node": NODE, "name": st["name"],
                            "status": st["status"], "template": st.get("template", 0), "uptime": st["uptime"],
                            "maxcpu": st["cpus"], "cpu": 0, "maxmem": st["maxmem"], "mem": 0, "maxdisk": st["maxdisk"],
                            "disk": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0})
        if kind in (None, "node"):
            out.append({"id": f"node/{NODE}", "type": "node", "node": NODE, "status": "online", "level": "",
                        "uptime": int(time.monotonic()), "cpu": 0.01, "maxcpu": os.cpu_count() or 1, "mem": 0,
                        "maxmem": _meminfo(), "disk": 0, "maxdisk": _disk(), "cgroup-mode": 1})
        if kind in (None, "storage"):
            for st in self.storage(NODE):
                out.append({"id": f"storage/{NODE}/{st['storage']}", "type": "storage", "storage": st["storage"], "node": NODE,
                            "plugintype": st["type"], "status": "available", "shared": 0, "content": st["content"],
                            "disk": st["used"], "maxdisk": st["total"]})
        return out

    def storage(self, node: str) -> Any:
        _node(node)
        pools: set[str] = set()
        for vmid in self._vmids():
            cur = self._conf(vmid).current
            for key, value in cur.items():
                if key == "rootfs" or re.fullmatch(r"mp\d+", key):
                    mp = MountPoint.parse(str(value)) if key != "rootfs" else MountPoint(str(value).split(",")[0], "/", {})
                    if not mp.volume.startswith("/") and ":" in mp.volume:
                        pools.add(mp.volume.split(":")[0])
        usage = shutil.disk_usage(self.paths.home)
        return [{"storage": name, "type": "zfspool" if "lxc" in name else "dir", "content": "rootdir,images",
                 "enabled": 1, "active": 1, "shared": 0, "total": usage.total, "used": usage.used, "avail": usage.free,
                 "used_fraction": round(usage.used / usage.total, 5)} for name in sorted(pools)]

    # ------------------------------------------------------------------ mutations through the lab's pct / firewall
    def _pct(self, args: list[str]) -> None:
        proc = subprocess.run([sys.executable, "-m", "phoenix_lab.pct", *args], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, PHOENIX_LAB_HOME=str(self.paths.home)))
        if proc.returncode != 0:
            raise ApiError(500, (proc.stderr.strip().splitlines() or ["pct failed"])[-1])

    def _recompile(self) -> None:
        if self.state is lxc_runtime.state:
            from phoenix_lab import firewall

            firewall.apply(self.paths)


def _uptime(pid: int | None) -> int:
    if not pid:
        return 0
    try:
        start_ticks = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])
        return int(float(open("/proc/uptime").read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return 0


def _meminfo() -> int:
    try:
        return int(open("/proc/meminfo").read().split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return 0


def _disk() -> int:
    return shutil.disk_usage("/").total
