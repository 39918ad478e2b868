"""Proxmox control-plane state: the REST API through proxmoxer (token auth) when the target configures it,
else the same facts from `pct config` / `pct status` / `pct listsnapshot` / `/etc/pve/firewall/*.fw` on the host.

Either way callers get parsed structures from `pve_formats` (CtConfig, FirewallFile, FwRule), never raw
strings. Every call has a timeout; failures raise `ProxmoxError` with one line naming the host.
"""
from __future__ import annotations

import functools
import shlex
import urllib.parse
from typing import Any

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException
from requests import RequestException

from phoenix_model import pve_formats
from phoenix_model.pve_formats import CtConfig, FirewallFile, FwRule
from phoenix_verify.access import probe_log
from phoenix_verify.access.host_facts import host
from phoenix_verify.target import Target, TargetError

MISSING_MARKERS = ("does not exist", "no such", "not found")


class ProxmoxError(RuntimeError):
    """The control plane could not answer; one line naming the host."""


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


class ProxmoxState:
    """One node's CT and firewall state; `api` when configured, else the host's pct and /etc/pve."""

    def __init__(self, target: Target) -> None:
        self.node = target.node or "pve"
        self.access = target.pct
        self.where = target.api_url or ("local host" if target.pct == "local" else target.pct)
        self.api: Any = None
        if target.has_api:
            url = urllib.parse.urlparse(target.api_url or "")
            user, _, token_name = (target.token_id or "").partition("!")
            try:
                secret = target.token_secret()
            except TargetError as exc:
                raise ProxmoxError(str(exc)) from None
            self.api = ProxmoxAPI(url.hostname, port=url.port or 8006, user=user, token_name=token_name,
                                  token_value=secret, verify_ssl=target.api_ca_bundle or True,
                                  timeout=target.api_timeout)

    @property
    def uses_api(self) -> bool:
        return self.api is not None

    # ------------------------------------------------------------------ transport
    def _get(self, path: str, **params: str) -> Any:
        probe_log.record("api", path=path, params=params)
        try:
            return self.api(path).get(**params)
        except ResourceException as exc:
            if any(m in str(exc).lower() for m in MISSING_MARKERS):
                return None
            raise ProxmoxError(f"{self.where}: GET {path}: {str(exc).splitlines()[0]}") from None
        except (RequestException, OSError, ValueError) as exc:  # connection/TLS/timeout/JSON: one line
            raise ProxmoxError(f"{self.where}: GET {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None

    def _sh(self, command: str) -> tuple[int, str, str]:
        try:
            out = probe_log.shell(host(self.access), f"timeout 30 {command}")
        except RuntimeError as exc:
            raise ProxmoxError(f"{self.where}: {command}: {str(exc).splitlines()[0] if str(exc) else 'failed'}") from None
        return out.rc, out.stdout, out.stderr

    def _pct(self, *args: str) -> str | None:
        rc, out, err = self._sh("pct " + " ".join(shlex.quote(a) for a in args))
        if rc == 0:
            return out
        if any(m in err.lower() for m in MISSING_MARKERS):
            return None
        raise ProxmoxError(f"{self.where}: pct {' '.join(args)}: {(err.strip().splitlines() or ['rc ' + str(rc)])[0]}")

    def _fw_file(self, name: str) -> FirewallFile | None:
        rc, out, _ = self._sh(f"cat /etc/pve/firewall/{shlex.quote(name)}")
        return pve_formats.parse_firewall_file(out) if rc == 0 else None

    # ------------------------------------------------------------------ facts
    def version(self) -> dict[str, Any] | None:
        """`GET /version` (None without an API: pct gives no equivalent)."""
        return self._get("version") if self.api else None

    def ct_ids(self) -> set[int]:
        if self.api:
            return {int(row["vmid"]) for row in self._get(f"nodes/{self.node}/lxc") or []}
        return {int(row["vmid"]) for row in pve_formats.parse_pct_list(self._pct("list") or "")}

    def status(self, ctid: int) -> str | None:
        """"running" / "stopped", or None when the CT does not exist."""
        if self.api:
            data = self._get(f"nodes/{self.node}/lxc/{ctid}/status/current")
            return None if data is None else str(data.get("status"))
        out = self._pct("status", str(ctid))
        return None if out is None else out.split(":", 1)[-1].strip()

    def config(self, ctid: int) -> CtConfig | None:
        if self.api:
            data = self._get(f"nodes/{self.node}/lxc/{ctid}/config")
            return None if data is None else _config_from_api(data)
        out = self._pct("config", str(ctid))
        return None if out is None else pve_formats.parse_ct_config(out)

    def snapshot_config(self, ctid: int, snapshot: str) -> CtConfig | None:
        """The config a snapshot recorded (what a clone `--snapname` starts from); None when CT or snapshot is missing."""
        if self.api:
            data = self._get(f"nodes/{self.node}/lxc/{ctid}/config", snapshot=snapshot)
            return None if data is None else _config_from_api(data)
        out = self._pct("config", str(ctid), "--snapshot", snapshot)
        return None if out is None else pve_formats.parse_ct_config(out)

    def snapshots(self, ctid: int) -> dict[str, str | None] | None:
        """Snapshot name -> parent snapshot (without `current`); None when the CT does not exist."""
        if self.api:
            rows = self._get(f"nodes/{self.node}/lxc/{ctid}/snapshot")
            return None if rows is None else {r["name"]: r.get("parent") for r in rows if r.get("name") != "current"}
        out = self._pct("listsnapshot", str(ctid))
        return None if out is None else {n: None for n in pve_formats.parse_listsnapshot(out) if n != "current"}

    def ct_firewall(self, ctid: int) -> FirewallFile | None:
        """The CT's firewall options and rules; None when it has no firewall config."""
        if self.api:
            options = self._get(f"nodes/{self.node}/lxc/{ctid}/firewall/options")
            rules = self._get(f"nodes/{self.node}/lxc/{ctid}/firewall/rules") or []
            if options is None:
                return None
            opts = {k: v for k, v in options.items() if k != "digest"}
            return FirewallFile(options=opts, rules=[_rule_from_api(r) for r in sorted(rules, key=lambda r: r.get("pos", 0))])
        return self._fw_file(f"{ctid}.fw")

    def cluster_firewall(self) -> FirewallFile:
        if self.api:
            options = self._get("cluster/firewall/options") or {}
            return FirewallFile(options={k: v for k, v in options.items() if k != "digest"})
        return self._fw_file("cluster.fw") or FirewallFile()


@functools.cache
def _state(target: Target) -> ProxmoxState:
    return ProxmoxState(target)


def proxmox_state(target: Target) -> ProxmoxState:
    """One ProxmoxState per target and session (proxmoxer keeps its HTTP session)."""
    return _state(target)


@functools.cache
def cached(target: Target, what: str, ctid: int | None = None) -> Any:
    """Memoised reads so many one-line tests about one CT cost one API call."""
    state = proxmox_state(target)
    return getattr(state, what)() if ctid is None else getattr(state, what)(ctid)
