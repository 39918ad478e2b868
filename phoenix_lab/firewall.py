"""The lab's pve-firewall: cluster.fw + <id>.fw + net0 `firewall=1` compiled into nftables on the host side.

Bridged CT traffic passes the host namespace's inet `forward` hook (bridge-nf-call-iptables, as PVE's
firewall bridges do), traffic from the host itself passes `output`; a CT's rules only apply when all three
gates are on: datacenter `enable: 1`, the CT's `enable: 1`, and `firewall=1` on its NIC.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError, run
from phoenix_model.pve_formats import FirewallFile, FwRule, Net0, parse_ct_config, parse_firewall_file

TABLE = "pve_firewall"


def _read_fw(path: Path) -> FirewallFile:
    return parse_firewall_file(path.read_text()) if path.exists() else FirewallFile()


def _ports(spec: str) -> str:
    parts = [p.replace(":", "-") for p in spec.split(",")]
    return parts[0] if len(parts) == 1 else "{ " + ", ".join(parts) + " }"


def rule_to_nft(rule: FwRule, stage_only: bool = False) -> str | None:
    """One PVE rule -> one nft rule (None for what the lab does not model, e.g. macros and groups)."""
    if not rule.enable or rule.macro or rule.type not in ("in", "out"):
        return None
    parts = []
    if rule.source:
        parts.append(f"ip saddr {rule.source}")
    if rule.dest:
        parts.append(f"ip daddr {rule.dest}")
    if rule.proto:
        parts.append(f"meta l4proto {rule.proto}")
    if rule.dport:
        parts.append(f"th dport {_ports(rule.dport)}")
    if rule.sport:
        parts.append(f"th sport {_ports(rule.sport)}")
    parts.append("return" if stage_only and rule.action.upper() == "ACCEPT" else _verdict(rule.action))
    return " ".join(parts)


def _verdict(action: str) -> str:
    return {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject with tcp reset"}.get(action.upper(), "drop")


def _policy(action: str, stage_only: bool = False) -> list[str]:
    """A CT's OUT stage that accepts only *returns*: the packet still has to pass the destination's IN stage."""
    if stage_only and action == "ACCEPT":
        return ["return"]
    if action == "REJECT":
        return ["meta l4proto tcp reject with tcp reset", "reject"]
    return [_verdict(action)]


def compile_ruleset(paths: LabPaths) -> tuple[bool, str]:
    """(datacenter enabled, nft script). The script always replaces the whole table."""
    cluster = _read_fw(paths.fw_file())
    enabled = cluster.options.get("enable") == 1
    lines = [f"table inet {TABLE} {{}}", f"delete table inet {TABLE}"]
    if not enabled:
        return False, "\n".join(lines) + "\n"
    jumps_fwd: list[str] = []
    jumps_out_stage: list[str] = []
    jumps_out: list[str] = []
    chains: list[str] = []
    for conf in sorted((paths.pve / "lxc").glob("*.conf")):
        ctid = int(conf.stem)
        cfg = parse_ct_config(conf.read_text())
        fw = _read_fw(paths.fw_file(ctid))
        if fw.options.get("enable") != 1:
            continue
        for key in sorted(k for k in cfg.current if re.fullmatch(r"net\d+", k)):
            net = Net0.parse(str(cfg.current[key]))
            if not net.firewall or not net.ip or "/" not in net.ip:
                continue
            addr = net.ip.split("/")[0]
            name = f"ct{ctid}-{key}"
            policy_in = str(fw.options.get("policy_in", "DROP")).upper()
            policy_out = str(fw.options.get("policy_out", "ACCEPT")).upper()
            ins = [r for r in (rule_to_nft(x) for x in fw.rules if x.type == "in") if r]
            outs = [r for r in (rule_to_nft(x, stage_only=True) for x in fw.rules if x.type == "out") if r]
            chains.append(f"  chain {name}-in {{\n" + "".join(f"    {r}\n" for r in ins + _policy(policy_in)) + "  }")
            chains.append(f"  chain {name}-out {{\n" + "".join(f"    {r}\n" for r in outs + _policy(policy_out, True)) + "  }")
            jumps_out_stage.append(f"    ip saddr {addr} jump {name}-out")
            jumps_fwd.append(f"    ip daddr {addr} jump {name}-in")
            jumps_out.append(f"    ip daddr {addr} jump {name}-in")
    body = [f"table inet {TABLE} {{"] + chains + [
        "  chain forward {",
        "    type filter hook forward priority 0; policy accept;",
        "    ct state established,related accept",
        *jumps_out_stage,
        *jumps_fwd,
        "  }",
        "  chain output {",
        "    type filter hook output priority 0; policy accept;",
        "    ct state established,related accept",
        *jumps_out,
        "  }",
        "}",
    ]
    return True, "\n".join(lines + body) + "\n"


def apply(paths: LabPaths) -> bool:
    _, script = compile_ruleset(paths)
    run(["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"], netns=True)
    run(["nft", "-f", "-"], netns=True, input=script)
    return True


def loaded() -> bool:
    return run(["nft", "list", "table", "inet", TABLE], netns=True, check=False).returncode == 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = LabPaths.default()
    cmd = args[0] if args else ""
    try:
        if cmd == "status":
            enabled, _ = compile_ruleset(paths)
            print(f"Status: {'enabled' if enabled else 'disabled'}/{'running' if loaded() else 'stopped'}")
        elif cmd == "compile":
            enabled, script = compile_ruleset(paths)
            print("nftables cmdlist:")
            sys.stdout.write(script)
            if not enabled:
                print("firewall disabled")
        elif cmd in ("start", "restart"):
            apply(paths)
        elif cmd == "stop":
            run(["nft", "delete", "table", "inet", TABLE], netns=True, check=False)
        else:
            print("USAGE: pve-firewall <status|compile|start|stop|restart>", file=sys.stderr)
            return 255
    except LabError as exc:
        print(str(exc), file=sys.stderr)
        return 255
    return 0


if __name__ == "__main__":
    sys.exit(main())
