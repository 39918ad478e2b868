"""Proxmox control-plane state through one small interface, `ControlPlane`, with two implementations chosen once
from the target: `ApiPlane` (the REST API through proxmoxer, token auth) and `HostPlane` (`pct config` /
`pct status` / `pct listsnapshot` and `/etc/pve/firewall/*.fw` on the host, locally or over ssh).

Either way callers get parsed structures from `pve_formats` (CtConfig, FirewallFile, FwRule), never raw strings.
Every call has a timeout; failures raise `ProxmoxError` with one line naming the host. `preflight()` checks once,
before any test, that the plane can answer at all (tool present, host reachable, token accepted and allowed).
"""
from __future__ import annotations

import functools
import shlex
import urllib.parse
from typing import Any, Protocol

from phoenix_model import pve_formats
from phoenix_model.pve_formats import CtConfig, FirewallFile, FwRule
from phoenix_verify.access import probe_log
from phoenix_verify.access.host_facts import host
from phoenix_verify.target import Target, TargetError

# What Proxmox says about a guest that is not there (`Configuration file 'nodes/pve/lxc/999.conf' does not exist`).
MISSING = "does not exist"
# The role the token needs (README "API token"); a privilege-separated token has only what its own ACL grants.
READ_ACL = "pveum acl modify / --tokens '{token}' --roles PVEAuditor"


class ProxmoxError(RuntimeError):
    """The control plane could not answer; one line naming the host."""


class ControlPlane(Protocol):
    """The facts the suite reads from the control plane; None means the CT (or snapshot) does not exist."""

    node: str
    where: str

    def preflight(self, ctids: list[int]) -> None: ...
    def version(self) -> dict[str, Any] | None: ...
    def ct_ids(self) -> set[int]: ...
    def status(self, ctid: int) -> str | None: ...
    def config(self, ctid: int) -> CtConfig | None: ...
    def snapshot_config(self, ctid: int, snapshot: str) -> CtConfig | None: ...
    def snapshots(self, ctid: int) -> dict[str, str | None] | None: ...
    def ct_firewall(self, ctid: int) -> FirewallFile | None: ...
    def cluster_firewall(self) -> FirewallFile: ...


def _rule_from_api(data: dict[str, Any]) -> FwRule:
    return FwRule(
        type=str(data.get("type", "")).lower(), action=str(data.get("action", "")), macro=data.get("macro"),
        enable=bool(int(data.get("enable", 1))), iface=data.get("iface"), source=data.get("source"),
        dest=data.get("dest"), proto=data.get("proto"), dport=None if data.get("dport") is None else str(data["dport"]),
        sport=None if data.get("sport") is None else str(data["sport"]), log=data.get("log"),
        icmp_type=data.get("icmp-type"), comment=data.get("comment"),
    )


def _config_from_api(data: dict[str, Any]) -> CtConfig:
    current = {k: v for k, v in data.items() if k not in ("lxc", "digest")}
    return CtConfig(current=current, lxc=[(k, v) for k, v in data.get("lxc", [])], digest=str(data.get("digest", "")))


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


class ApiPlane:
    """The REST API (`/api2/json`) with an API token."""

    def __init__(self, target: Target) -> None:
        self.node = target.node or "pve"
        self.where = target.api_url or ""
        self.token_id = target.token_id or ""
        url = urllib.parse.urlparse(self.where)
        user, _, token_name = self.token_id.partition("!")
        try:
            secret = target.token_secret()
        except TargetError as exc:
            raise ProxmoxError(str(exc)) from None
        from proxmoxer import ProxmoxAPI  # here, not at import: a run without an API target never pays for it

        self.api: Any = ProxmoxAPI(url.hostname, port=url.port or 8006, user=user, token_name=token_name,
                                   token_value=secret, verify_ssl=target.api_ca_bundle or True, timeout=target.api_timeout)

    def _get(self, path: str, **params: str) -> Any:
        from proxmoxer.core import ResourceException  # loaded with ProxmoxAPI in __init__
        from requests import RequestException

        probe_log.record("api", path=path, params=params)
        try:
            return self.api(path).get(**params)
        except ResourceException as exc:
            text = f"{exc.content or ''} {exc}"
            if MISSING in text:
                return None
            if exc.status_code == 401:
                raise ProxmoxError(f"{self.where}: API token {self.token_id} was rejected (401 {_first_line(str(exc.content))}): "
                                   "check the token id and its secret") from None
            if exc.status_code == 403:
                raise ProxmoxError(f"{self.where}: API token {self.token_id} may not read {path} (403 {_first_line(str(exc.content))}): "
                                   f"grant it read access: {READ_ACL.format(token=self.token_id)}") from None
            raise ProxmoxError(f"{self.where}: GET {path}: {_first_line(str(exc))}") from None
        except (RequestException, OSError, ValueError) as exc:  # connection/TLS/timeout/JSON: one line
            raise ProxmoxError(f"{self.where}: GET {path}: {type(exc).__name__}: {_first_line(str(exc))}") from None

    def preflight(self, ctids: list[int]) -> None:
        """Token accepted (`/version`), and allowed what the suite reads: Sys.Audit on / (datacenter firewall) and
        VM.Audit on the declared CTs (a list endpoint would silently hide them instead of saying 403)."""
        self._get("version")
        self._get("cluster/firewall/options")
        for ctid in ctids[:1]:
            self._get(f"nodes/{self.node}/lxc/{ctid}/config")

    def version(self) -> dict[str, Any] | None:
        return self._get("version")

    def ct_ids(self) -> set[int]:
        return {int(row["vmid"]) for row in self._get(f"nodes/{self.node}/lxc") or []}

    def status(self, ctid: int) -> str | None:
        data = self._get(f"nodes/{self.node}/lxc/{ctid}/status/current")
        return None if data is None else str(data.get("status"))

    def config(self, ctid: int) -> CtConfig | None:
        data = self._get(f"nodes/{self.node}/lxc/{ctid}/config")
        return None if data is None else _config_from_api(data)

    def snapshot_config(self, ctid: int, snapshot: str) -> CtConfig | None:
        data = self._get(f"nodes/{self.node}/lxc/{ctid}/config", snapshot=snapshot)
        return None if data is None else _config_from_api(data)

    def snapshots(self, ctid: int) -> dict[str, str | None] | None:
        rows = self._get(f"nodes/{self.node}/lxc/{ctid}/snapshot")
        return None if rows is None else {r["name"]: r.get("parent") for r in rows if r.get("name") != "current"}

    def ct_firewall(self, ctid: int) -> FirewallFile | None:
        options = self._get(f"nodes/{self.node}/lxc/{ctid}/firewall/options")
        rules = self._get(f"nodes/{self.node}/lxc/{ctid}/firewall/rules") or []
        if options is None:
            return None
        opts = {k: v for k, v in options.items() if k != "digest"}
        return FirewallFile(options=opts, rules=[_rule_from_api(r) for r in sorted(rules, key=lambda r: r.get("pos", 0))])

    def cluster_firewall(self) -> FirewallFile:
        options = self._get("cluster/firewall/options") or {}
        return FirewallFile(options={k: v for k, v in options.items() if k != "digest"})


class HostPlane:
    """`pct` and `/etc/pve` on the Proxmox host: this machine, or `ssh://user@host` (the user's ssh config)."""

    def __init__(self, target: Target) -> None:
        self.node = target.node or "pve"
        self.access = target.pct
        self.where = "local host" if target.pct == "local" else target.pct

    def _sh(self, command: str) -> tuple[int, str, str]:
        try:
            out = probe_log.shell(host(self.access), f"timeout 30 {command}")
        except RuntimeError as exc:   # testinfra's ssh backend raises with the CommandResult when ssh itself fails
            result = exc.args[0] if exc.args else None
            reason = _first_line(getattr(result, "stderr", None) or str(exc)) or "failed"
            raise ProxmoxError(f"{self.where}: ssh failed: {reason}" if self.access != "local" else f"{self.where}: {command}: {reason}") from None
        if out.rc == 255 and self.access != "local":
            raise ProxmoxError(f"{self.where}: ssh failed: {_first_line(out.stderr) or 'rc 255'}")
        if out.rc == 127:
            raise ProxmoxError(f"{self.where}: {command.split()[0]}: command not found: run the suite on the Proxmox host "
                               "or set access.pct = \"ssh://root@<host>\" in the target")
        return out.rc, out.stdout, out.stderr

    def _pct(self, *args: str) -> str | None:
        rc, out, err = self._sh("pct " + " ".join(shlex.quote(a) for a in args))
        if rc == 0:
            return out
        if MISSING in err:
            return None
        raise ProxmoxError(f"{self.where}: pct {' '.join(args)}: {_first_line(err) or 'rc ' + str(rc)}")

    def _fw_file(self, name: str) -> FirewallFile | None:
        rc, out, _ = self._sh(f"cat /etc/pve/firewall/{shlex.quote(name)}")
        return pve_formats.parse_firewall_file(out) if rc == 0 else None

    def preflight(self, ctids: list[int]) -> None:
        """The host answers and has `pct` (`pct list`)."""
        self._pct("list")

    def version(self) -> dict[str, Any] | None:
        """None: pct gives no equivalent of `GET /version`."""
        return None

    def ct_ids(self) -> set[int]:
        return {int(row["vmid"]) for row in pve_formats.parse_pct_list(self._pct("list") or "")}

    def status(self, ctid: int) -> str | None:
        out = self._pct("status", str(ctid))
        return None if out is None else out.split(":", 1)[-1].strip()

    def config(self, ctid: int) -> CtConfig | None:
        out = self._pct("config", str(ctid))
        return None if out is None else pve_formats.parse_ct_config(out)

    def snapshot_config(self, ctid: int, snapshot: str) -> CtConfig | None:
        out = self._pct("config", str(ctid), "--snapshot", snapshot)
        return None if out is None else pve_formats.parse_ct_config(out)

    def snapshots(self, ctid: int) -> dict[str, str | None] | None:
        out = self._pct("listsnapshot", str(ctid))
        return None if out is None else {n: None for n in pve_formats.parse_listsnapshot(out) if n != "current"}

    def ct_firewall(self, ctid: int) -> FirewallFile | None:
        return self._fw_file(f"{ctid}.fw")

    def cluster_firewall(self) -> FirewallFile:
        return self._fw_file("cluster.fw") or FirewallFile()


def make_plane(target: Target) -> ControlPlane:
    """The API when the target configures one, else the host's pct and /etc/pve."""
    return ApiPlane(target) if target.has_api else HostPlane(target)


@functools.cache
def control_plane(target: Target) -> ControlPlane:
    """One plane per target and session (proxmoxer keeps its HTTP session)."""
    return make_plane(target)
