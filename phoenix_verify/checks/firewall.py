"""Comparison logic for the firewall layer: declared rules vs. parsed .fw state, and reachability cells."""
from __future__ import annotations

import ipaddress

from phoenix_model.inventory import Container, FirewallRule
from phoenix_model.pve_formats import CtConfig, FirewallFile, FwRule, Net0, print_fw_rule
from phoenix_verify.access.reachability import Cell


def as_fw_rule(rule: FirewallRule) -> FwRule:
    return FwRule(type=rule.direction.lower(), action=rule.action.upper(), source=rule.source, dest=rule.dest,
                  proto=rule.proto, dport=None if rule.dport is None else str(rule.dport))


def net0_firewall(ct: Container, cfg: CtConfig | None) -> list[str]:
    if cfg is None:
        return [f"ct{ct.ctid}: does not exist on the node"]
    net = Net0.parse(str(cfg.current.get("net0", "")))
    return [] if net.firewall else [f"ct{ct.ctid}: net0 lacks firewall=1 (PVE skips the CT's rules on this NIC)"]


def fw_enabled(ct: Container, fw: FirewallFile | None) -> list[str]:
    if fw is None:
        return [f"ct{ct.ctid}: no firewall config ({ct.ctid}.fw missing)"]
    return [] if fw.options.get("enable") == 1 else [f"ct{ct.ctid}: {ct.ctid}.fw enable is {fw.options.get('enable', 0)}, expected 1"]


def rule_present(ct: Container, rule: FirewallRule, fw: FirewallFile | None) -> list[str]:
    wanted = as_fw_rule(rule)
    found = [r for r in (fw.rules if fw else []) if r.enable]
    if any(wanted.matches(r) for r in found):
        return []
    return [f"ct{ct.ctid}: declared rule `{print_fw_rule(wanted)}` is missing (found: {[print_fw_rule(r) for r in found]})"]


def _dport_covers(dport: str | None, port: int) -> bool:
    if dport is None:
        return True
    for part in str(dport).split(","):
        lo, _, hi = part.partition(":")
        if lo.isdigit() and int(lo) <= port <= int(hi or lo):
            return True
    return False


def _source_covers(source: str | None, address: str) -> bool:
    if source is None:
        return True
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(source, strict=False)
    except ValueError:
        return False


def port_has_live_rule(ct: Container, port: int, fw: FirewallFile | None) -> list[str]:
    ok = any(r.enable and r.type == "in" and r.action == "ACCEPT" and r.proto in (None, "tcp") and _dport_covers(r.dport, port)
             for r in (fw.rules if fw else []))
    return [] if ok else [f"ct{ct.ctid}: no enabled IN ACCEPT rule opens tcp/{port}"]


def allowed(ct: Container, source_ip: str, port: int) -> bool:
    """Would the declared firewall let `source_ip` reach `port`? (no firewall: everything is reachable)"""
    if not ct.firewall.enabled:
        return True
    return any(r.direction.lower() == "in" and r.action.upper() == "ACCEPT" and (r.proto or "tcp") == "tcp"
               and _source_covers(r.source, source_ip) and _dport_covers(r.dport, port) for r in ct.firewall.rules)


def cell(c: Cell) -> list[str]:
    """Judges the firewall only: an allowed cell fails when the SYN is dropped (timeout), a blocked cell when it
    connects. `refused` proves the packet crossed the firewall to a closed port; whether the service listens is
    the lxc layer's check, so a stopped service does not turn the firewall layer red."""
    ok = c.observed in ("connected", "refused") if c.expected == "allowed" else c.observed in ("refused", "timeout")
    return [] if ok else [f"{c.source} -> {c.destination}:{c.port}: expected {c.expected}, observed {c.observed}"]


def exposed(ct: Container, port: int, cfg: CtConfig | None, fw: FirewallFile | None) -> list[str]:
    """A declared port behind no effective CT firewall (declared off, `.fw` not enabled, or net0 without
    firewall=1) is reachable from every source, against Phoenix's policy_in DROP intent."""
    guarded = ct.firewall.enabled and fw is not None and fw.options.get("enable") == 1 and not net0_firewall(ct, cfg)
    return [] if guarded else [f"ct{ct.ctid}: tcp/{port} is exposed to every source: the CT's firewall is not in effect"]
