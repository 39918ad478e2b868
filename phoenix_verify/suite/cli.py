"""`phoenix-verify inventory`: print the resolved expectations as a table or JSON."""
from __future__ import annotations

import argparse
import json
import sys

from phoenix_model.inventory import Container, Inventory, InventoryError, load_inventory, to_jsonable
from phoenix_verify.target import TargetError, load_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inventory", help="print the declared state resolved into expectations")
    p.add_argument("--config-dir", help="directory with phoenix_hypervisor_config.json and phoenix_lxc_configs.json (default: the target's)")
    p.add_argument("--target", help="phoenix.toml (default: $PHOENIX_TARGET, ./phoenix.toml, the lab)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config_dir = args.config_dir or load_target(args.target).inventory_dir
        inv = load_inventory(config_dir)
    except (InventoryError, TargetError) as exc:
        print(f"phoenix-verify: {exc}", file=sys.stderr)
        return 2
    for warning in inv.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for finding in inv.findings:     # never carries a credential's value (phoenix_model.findings)
        print(f"finding: {finding}", file=sys.stderr)
    print(json.dumps(to_jsonable(inv), indent=2) if args.json else table(inv))
    return 0


def _row(ct: Container) -> list[str]:
    rules = len(ct.firewall.rules)
    return [
        str(ct.ctid),
        ct.name,
        str(ct.network.ip),
        ct.role,
        ",".join(ct.features) or "-",
        ",".join(m.mount_path for m in ct.shared_mounts) or "-",
        ",".join(str(p.host) for p in ct.ports) or "-",
        f"on/{rules}" if ct.firewall.enabled else "off",
    ]


def table(inv: Inventory) -> str:
    header = ["CTID", "NAME", "IP", "ROLE", "FEATURES", "SHARED MOUNTS", "PORTS", "FW/RULES"]
    rows = [header] + [_row(ct) for ct in inv.containers.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    host = inv.host
    lines = [
        (
            f"host {host.hostname}: {host.bridge} {host.address} gw {host.gateway}, firewall "
            f"{'on' if host.firewall_enabled else 'off'} in={host.policy_in} out={host.policy_out}, admin {host.admin_user}"
        ),
        "",
    ]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    if inv.vms:
        vm_rows = [["VMID", "NAME", "IP", "SERVICES", "STACKS"]] + [
            [str(vm.vmid), vm.name, str(vm.ip or "dhcp"), ",".join(f"{s.name}:{s.port}" for s in vm.services) or "-",
             ",".join(vm.docker_stacks) or "-"] for vm in inv.vms.values()]
        vm_widths = [max(len(r[i]) for r in vm_rows) for i in range(5)]
        lines += ["", *("  ".join(c.ljust(w) for c, w in zip(r, vm_widths)).rstrip() for r in vm_rows)]
    return "\n".join(lines)
