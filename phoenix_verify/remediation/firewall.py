"""Planners for the Proxmox firewall: CT enable option, CT rules, datacenter options (docs/proxmox-formats.md §1.8, §3)."""

from __future__ import annotations

from typing import Any

from phoenix_verify.remediation.context import (
    Command,
    Context,
    Plan,
)

RULE_FIELDS = ("type", "action", "macro", "iface", "source", "dest", "proto", "dport", "sport", "icmp-type", "enable")


def rule_key(rule: dict[str, Any]) -> tuple[str, ...]:
    """The fields that decide what a rule matches and does (comment, log level, digest and pos do not)."""
    return tuple(str(rule.get(k) or "").lower() for k in RULE_FIELDS)


def declared_rule(rule: Any) -> dict[str, Any]:
    fields = {"type": rule.direction, "action": rule.action, "source": rule.source, "dest": rule.dest}
    fields.update(proto=rule.proto, dport=rule.dport, enable=1, comment=rule.comment)
    return {k: v for k, v in fields.items() if v not in (None, "")}


def plan_ct_firewall_enable(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    path = f"/nodes/{ctx.node}/lxc/{ct.ctid}/firewall/options"
    want = 1 if ct.firewall.enabled else 0
    if int(ctx.pvesh_get(path).get("enable", 0)) == want:
        return Plan(notes=[f"ct{ct.ctid}: firewall enable is already {want}: nothing to do"])
    return Plan([("pvesh", "set", path, "--enable", str(want))])


def plan_ct_firewall_rules(ctx: Context, ctid: str) -> Plan:
    """Delete all rules, then create the declared ones, as HEAD's lxc-manager.sh apply_lxc_firewall_rules does."""
    ct = ctx.container(ctid)
    path = f"/nodes/{ctx.node}/lxc/{ct.ctid}/firewall/rules"
    current = ctx.pvesh_get(path)
    wanted = [declared_rule(rule) for rule in ct.firewall.rules]
    if sorted(map(rule_key, current)) == sorted(map(rule_key, wanted)):
        return Plan(notes=[f"ct{ct.ctid}: the {len(wanted)} declared firewall rule(s) are in place: nothing to do"])
    positions = sorted((int(rule["pos"]) for rule in current), reverse=True)
    commands: list[Command] = [("pvesh", "delete", f"{path}/{pos}") for pos in positions]
    for rule in reversed(wanted):  # PVE inserts a new rule at position 0: create the last one first
        commands.append(("pvesh", "create", path, *(arg for k, v in rule.items() for arg in (f"--{k}", str(v)))))
    return Plan(commands, [f"ct{ct.ctid}: replacing {len(current)} rule(s) with the {len(wanted)} declared"])


def plan_cluster_firewall(ctx: Context) -> Plan:
    host = ctx.inventory.host
    current = ctx.pvesh_get("/cluster/firewall/options")
    want = {"enable": "1" if host.firewall_enabled else "0", "policy_in": host.policy_in, "policy_out": host.policy_out}
    if all(str(current.get(k, "")).upper() == v.upper() for k, v in want.items()):
        return Plan(notes=["the cluster firewall options match the inventory: nothing to do"])
    args = [arg for k, v in want.items() for arg in (f"--{k}", v)]
    changes = ", ".join(f"{k} {current.get(k, '(unset)')} -> {v}" for k, v in want.items() if str(current.get(k, "")).upper() != v.upper())
    return Plan([("pvesh", "set", "/cluster/firewall/options", *args)],
                disruptive=[f"changes the datacenter-wide firewall of every node and guest ({changes})"])
