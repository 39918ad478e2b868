"""The Proxmox REST API paths the suite reads (and the few it writes), over the lab's /etc/pve state.

Shared by the HTTPS server and `pvesh`; shapes follow docs/proxmox-formats.md §1: 0/1 integers, int vmid,
digest-only options for a missing .fw file, errors as (status, message) with the message in the reason phrase.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phoenix_lab import api_readonly, lxc_runtime
from phoenix_lab.api_auth import ROOT, Permissions
from phoenix_lab.paths import NODE, LabPaths
from phoenix_model.pve_formats import (
    FW_INT_OPTIONS,
    FirewallFile,
    FwRule,
    MountPoint,
    parse_ct_config,
    parse_firewall_file,
    parse_fw_option,
    parse_property_string,
    rules_as_api,
    write_firewall_file,
)

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
                 pid: Callable[[int], int | None] = lxc_runtime.init_pid,
                 recompile: Callable[[LabPaths], Any] | None = None, legacy_vmid: bool = False) -> None:
        """`state`/`pid` probe the CT runtime and `recompile` loads the firewall after a .fw write (the lab's nft
        compiler by default); unit tests inject fakes so they need neither LXC nor nftables. `legacy_vmid` makes
        the CT list return `vmid` as a string, as PVE <= 8.1 did, so clients' int() coercion can be exercised."""
        self.paths, self.state, self.pid, self.legacy_vmid = paths, state, pid, legacy_vmid
        self.recompile = recompile if recompile is not None else _apply_firewall
        self._write_lock = threading.Lock()  # PVE serialises writers with cfs locks; concurrent PUTs must not interleave

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
            "cpus": _cpus(cur), "cpu": 0, "maxmem": int(cur.get("memory", 512)) * 1024 * 1024,
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
    def handle(self, method: str, path: str, params: dict[str, str], identity: str = ROOT) -> Any:
        """Dispatch one call made by `identity` (`user@realm` or `user@realm!token`); raises ApiError."""
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
            ("POST", r"nodes/([^/]+)/lxc/([^/]+)/snapshot", self.lxc_snapshot_create),
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
            ("GET", r"nodes/([^/]+)/storage/([^/]+)/status", self.storage_status),
            ("GET", r"cluster/status", lambda: api_readonly.cluster_status()),
            ("GET", r"cluster/backup-info/not-backed-up", self.not_backed_up),
            ("GET", r"cluster/firewall/groups", lambda: api_readonly.groups(self._fw(None))),
            ("GET", r"cluster/firewall/groups/([^/]+)", self.cluster_fw_group),
            ("GET", r"cluster/firewall/aliases", lambda: api_readonly.aliases(self._fw(None))),
            ("GET", r"cluster/firewall/ipset", lambda: api_readonly.ipsets(self._fw(None))),
            ("GET", r"cluster/firewall/ipset/([^/]+)", self.cluster_fw_ipset),
            ("GET", r"nodes/([^/]+)/firewall/rules", self.node_fw_rules),
            ("GET", r"nodes/([^/]+)/status", self.node_status),
            ("GET", r"nodes/([^/]+)/subscription", self.node_subscription),
            ("GET", r"nodes/([^/]+)/replication", self.node_replication),
            ("GET", r"nodes/([^/]+)/tasks", self.node_tasks),
            ("GET", r"nodes/([^/]+)/qemu", self.qemu_list),
            ("GET", r"nodes/([^/]+)/qemu/([^/]+)(?:/config|/status/current)?", self.qemu_missing),
        ]
        for verb, pattern, func in routes:
            match = re.fullmatch(pattern, "/".join(parts))
            if match and verb == method:
                perms = Permissions.load(self.paths.pve / "user.cfg")
                required = _required_privilege(method, parts, params)
                if required and not perms.allowed(identity, *required):
                    raise ApiError(403, f"Permission check failed ({required[0]}, {required[1]})")
                kwargs = {"params": params} if "params" in func.__code__.co_varnames else {}
                if method == "GET":
                    return _visible(func(*match.groups(), **kwargs), parts, perms, identity)
                with self._write_lock:
                    return func(*match.groups(), **kwargs)
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
        entries = [self._status(v) for v in self._vmids()]
        return [{**e, "vmid": str(e["vmid"])} for e in entries] if self.legacy_vmid else entries

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
        return cfg.as_api(current=params.get("current") in ("1", "true", "on", "yes"))

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

    def lxc_snapshot_create(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        """POST .../snapshot: done by the lab's `pct snapshot` in the foreground; returns the task's UPID."""
        _node(node)
        ctid = _vmid(vmid)
        name = params.get("snapname")
        if not name:
            raise ApiError(400, "Parameter verification failed.", {"snapname": "property is missing and it is not optional"})
        self._conf(ctid)
        extra = ["--description", params["description"]] if params.get("description") else []
        self._pct(["snapshot", str(ctid), name, *extra])
        now = int(time.time())
        upid = f"UPID:{NODE}:{os.getpid():08X}:{0:08X}:{now:08X}:vzsnapshot:{ctid}:root@pam:"
        api_readonly.record_task(self.paths, upid)
        return upid

    def _options(self, fw) -> Any:
        if fw is None:
            return {"digest": EMPTY_DIGEST}
        return {**fw.options, "digest": fw.options_digest()}

    def _rules(self, fw) -> Any:
        return [] if fw is None else rules_as_api(fw.rules)

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
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text)
            tmp.replace(path)
        elif path.exists():
            path.unlink()
        self.recompile(self.paths)

    def ct_fw_options_set(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        _node(node)
        return self._set_options(_vmid(vmid), params)

    def cluster_fw_options_set(self, params: dict[str, str]) -> Any:
        return self._set_options(None, params)

    def _set_options(self, vmid: int | None, params: dict[str, str]) -> Any:
        fw = self._fw(vmid) or FirewallFile()
        _assert_unmodified(params, fw.options_digest())
        updates = {key: _option_value(key, value) for key, value in params.items() if key not in ("delete", "digest")}
        for key in [k.strip() for k in params.get("delete", "").split(",") if k.strip()]:
            fw.options.pop(key, None)
        fw.options.update(updates)
        self._save_fw(vmid, fw)
        return None

    def ct_fw_rule_create(self, node: str, vmid: str, params: dict[str, str]) -> Any:
        _node(node)
        ctid = _vmid(vmid)
        missing = {k: "property is missing and it is not optional" for k in ("type", "action") if not params.get(k)}
        if missing:
            raise ApiError(400, "Parameter verification failed.", missing)
        rtype = params["type"].lower()
        if rtype not in ("in", "out", "group"):
            raise ApiError(400, "Parameter verification failed.",
                           {"type": f"value '{params['type']}' does not have a value in the enumeration 'in, out, group'"})
        fw = self._fw(ctid) or FirewallFile()
        if fw.rules:
            _assert_unmodified(params, rules_as_api(fw.rules)[0]["digest"])
        action = params["action"] if rtype == "group" else params["action"].upper()
        rule = FwRule(type=rtype, action=action, macro=params.get("macro") or None,
                      enable=_option_value("enable", params.get("enable", "1")) == 1,
                      iface=params.get("iface"), source=params.get("source"), dest=params.get("dest"),
                      proto=params.get("proto"), dport=params.get("dport"), sport=params.get("sport"),
                      log=params.get("log"), icmp_type=params.get("icmp-type"), comment=params.get("comment"))
        pos = int(params["pos"]) if params.get("pos", "").isdigit() else 0
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

    def storage_status(self, node: str, storage: str) -> Any:
        for entry in self.storage(node):
            if entry["storage"] == storage:
                return {k: entry[k] for k in ("type", "content", "enabled", "active", "shared", "total", "used", "avail")}
        raise ApiError(500, f"storage '{storage}' does not exist")

    def not_backed_up(self) -> Any:
        return api_readonly.not_backed_up(self.paths.pve, [self._status(v) for v in self._vmids()])

    def cluster_fw_group(self, name: str) -> Any:
        fw = self._fw(None)
        if fw is None or name not in fw.groups:
            raise ApiError(500, f"no such security group '{name}'")
        return rules_as_api(fw.groups[name])

    def cluster_fw_ipset(self, name: str) -> Any:
        try:
            return api_readonly.ipset(self._fw(None), name)
        except KeyError:
            raise ApiError(500, f"no such IPSet '{name}'") from None

    def node_fw_rules(self, node: str) -> Any:
        _node(node)
        path = self.paths.pve / "nodes" / NODE / "host.fw"
        return self._rules(parse_firewall_file(path.read_text()) if path.exists() else None)

    def node_status(self, node: str) -> Any:
        _node(node)
        return api_readonly.node_status(VERSION, self.paths.home)

    def node_subscription(self, node: str) -> Any:
        _node(node)
        return api_readonly.subscription()

    def node_replication(self, node: str) -> Any:
        """No replication.cfg in the lab's /etc/pve (local storage only): no jobs."""
        _node(node)
        return []

    def node_tasks(self, node: str, params: dict[str, str]) -> Any:
        _node(node)
        return api_readonly.tasks(self.paths, params)

    def qemu_list(self, node: str) -> Any:
        """The lab runs no VMs: its /etc/pve/qemu-server holds no config."""
        _node(node)
        return []

    def qemu_missing(self, node: str, vmid: str) -> Any:
        _node(node)
        raise ApiError(500, f"Configuration file 'nodes/{NODE}/qemu-server/{_vmid(vmid)}.conf' does not exist")

    # ------------------------------------------------------------------ mutations through the lab's pct / firewall
    def _pct(self, args: list[str]) -> None:
        """Run the lab's `pct`; its `NNN message` + `key: error` stderr becomes the API error (500 otherwise)."""
        proc = subprocess.run([sys.executable, "-m", "phoenix_lab.pct", *args], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, PHOENIX_LAB_HOME=str(self.paths.home)), check=False)
        if proc.returncode != 0:
            raise _pct_error(proc.stderr)



def _config_privilege(params: dict[str, str]) -> str:
    """PUT .../config: the VM.Config.* privilege of the first key set (PVE checks one per key)."""
    families = ((r"net\d+", "VM.Config.Network"), (r"mp\d+|rootfs", "VM.Config.Disk"), (r"memory|swap", "VM.Config.Memory"),
                (r"cores|cpulimit|cpuunits", "VM.Config.CPU"))
    for key in (k for k in params if k not in ("digest", "delete")):
        for pattern, priv in families:
            if re.fullmatch(pattern, key):
                return priv
    return "VM.Config.Options"


def _required_privilege(method: str, parts: list[str], params: dict[str, str]) -> tuple[str, str] | None:
    """(ACL path, privilege) a call needs; None for calls any user may make or whose lists are filtered instead."""
    if len(parts) >= 4 and parts[0] == "nodes" and parts[2] == "lxc":
        acl = f"/vms/{_vmid(parts[3])}"
        if method == "GET":
            return acl, "VM.Audit"
        if parts[4:5] == ["snapshot"]:
            return acl, "VM.Snapshot"
        return acl, _config_privilege(params) if parts[4:5] == ["config"] else "VM.Config.Network"
    if len(parts) >= 4 and parts[0] == "nodes" and parts[2] == "qemu":
        return f"/vms/{_vmid(parts[3])}", "VM.Audit"
    if parts[:2] == ["cluster", "firewall"]:
        return "/", "Sys.Audit" if method == "GET" else "Sys.Modify"
    if parts in (["cluster", "status"], ["cluster", "backup-info", "not-backed-up"]):
        return "/", "Sys.Audit"
    if len(parts) == 3 and parts[0] == "nodes" and parts[2] in ("status", "subscription"):
        return f"/nodes/{parts[1]}", "Sys.Audit"
    if len(parts) >= 3 and parts[0] == "nodes" and parts[2] == "firewall":
        return f"/nodes/{parts[1]}", "Sys.Audit" if method == "GET" else "Sys.Modify"
    return None


def _visible(data: Any, parts: list[str], perms: Permissions, identity: str) -> Any:
    """List endpoints silently drop what the caller may not see (PVE filters, it does not 403)."""
    def audit(entry: dict[str, Any]) -> bool:
        if entry.get("type") in ("lxc", "qemu") or ("vmid" in entry and "type" not in entry):
            return perms.allowed(identity, f"/vms/{entry['vmid']}", "VM.Audit")
        if "storage" in entry:
            return any(perms.allowed(identity, f"/storage/{entry['storage']}", p) for p in ("Datastore.Audit", "Datastore.AllocateSpace"))
        if entry.get("type") == "node":
            return perms.allowed(identity, f"/nodes/{entry['node']}", "Sys.Audit")
        return True

    if parts == ["nodes"]:
        return [e if audit(e) else {k: e[k] for k in ("id", "type", "node", "status")} for e in data]
    listing = (len(parts) == 3 and parts[0] == "nodes" and parts[2] in ("lxc", "storage")) or parts == ["cluster", "resources"]
    return [e for e in data if audit(e)] if listing else data


def _option_value(key: str, value: str) -> Any:
    """API parameter checks for firewall options: booleans as 0/1 (PVE accepts yes/no/on/off/true/false), policy enum."""
    if key in FW_INT_OPTIONS:
        word = value.strip().lower()
        if word in ("1", "yes", "on", "true"):
            return 1
        if word in ("0", "no", "off", "false"):
            return 0
        raise ApiError(400, "Parameter verification failed.", {key: f"type check ('boolean') failed - got '{value}'"})
    if key.startswith("policy_") and value.upper() not in ("ACCEPT", "REJECT", "DROP"):
        raise ApiError(400, "Parameter verification failed.",
                       {key: f"value '{value}' does not have a value in the enumeration 'ACCEPT, REJECT, DROP'"})
    return parse_fw_option(key, value)


def _assert_unmodified(params: dict[str, str], digest: str) -> None:
    """PVE::Tools::assert_if_modified: a stale `digest` parameter refuses the write."""
    if params.get("digest") and params["digest"] != digest:
        raise ApiError(500, "detected modified configuration - file changed by other user? Try again.")


def _pct_error(stderr: str) -> ApiError:
    lines = [line for line in stderr.strip().splitlines() if line.strip()] or ["pct failed"]
    coded = re.match(r"^(\d{3}) (.+)$", lines[0])
    if not coded:
        return ApiError(500, lines[0])
    errors = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return ApiError(int(coded.group(1)), coded.group(2), errors or None)


def _apply_firewall(paths: LabPaths) -> None:
    from phoenix_lab import firewall

    firewall.apply(paths)


def _cpus(conf: dict[str, Any]) -> int | float:
    """vmstatus `cpus`: cores, else cpulimit, else the host's CPU count."""
    if conf.get("cores"):
        return int(conf["cores"])
    if conf.get("cpulimit") and float(conf["cpulimit"]) > 0:
        return float(conf["cpulimit"])
    return os.cpu_count() or 1


def _uptime(pid: int | None) -> int:
    if not pid:
        return 0
    try:
        start_ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        return int(float(Path("/proc/uptime").read_text().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return 0


def _meminfo() -> int:
    try:
        return int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return 0


def _disk() -> int:
    return shutil.disk_usage("/").total
