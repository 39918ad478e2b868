"""`phoenix-lab`: up | down | status [--json] | run -- CMD | shell | clone SRC DST | fault apply|clear|list."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from phoenix_lab import lifecycle, lxc_runtime, options
from phoenix_lab.host import netns_exists
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError
from phoenix_model.inventory import InventoryError, load_inventory


def _env(paths: LabPaths) -> dict[str, str]:
    return dict(os.environ, PATH=f"{paths.bin}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}",
                PHOENIX_LAB_HOME=str(paths.home))


def cmd_run(args: argparse.Namespace) -> int:
    paths = LabPaths.default()
    if not netns_exists():
        print("phoenix-lab: the lab is not running: run 'phoenix-lab up' (or 'make demo')", file=sys.stderr)
        return 2
    command = args.command[1:] if args.command[:1] == ["--"] else args.command  # later `--` belong to CMD (pct exec)
    command = command or [os.environ.get("SHELL", "/bin/bash")]
    argv = lxc_runtime.shell_argv(command)
    os.execvpe(argv[0], argv, _env(paths))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    lifecycle.up(chat_engine=args.chat_engine, config_dir=args.config_dir, as_declared=args.as_declared)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    lifecycle.down()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    paths = LabPaths.default()
    up = netns_exists() and paths.target.exists()
    inv = load_inventory(lifecycle.inventory_dir())
    gateway = inv.gateway()
    facts: dict[str, Any] = {
        "up": up, "node": "pve", "api_url": f"https://{lifecycle.API_HOST}:8006", "ca_bundle": str(paths.pki / "ca.pem"),
        "token_id": "root@pam!phoenix-verify", "token_secret_file": str(paths.secrets / "pve-token"),
        "gateway": str(gateway.network.ip.ip) if gateway else None, "target": str(paths.target),
        "chat_engine": options.load(paths).chat_engine,
        "containers": {str(ct.ctid): {"address": str(ct.network.ip.ip), "name": ct.name,
                                      "status": lxc_runtime.state(ct.ctid) if up else "absent"}
                       for ct in inv.containers.values()},
    }
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print(f"lab: {'up' if up else 'down'}  node {facts['node']}  API {facts['api_url']}  gateway {facts['gateway']}"
              f"  chat engine {facts['chat_engine']}")
        for ctid, ct in facts["containers"].items():
            print(f"  ct{ctid:<6} {ct['address']:<15} {ct['status']:<8} {ct['name']}")
    return 0 if up else 3


def cmd_clone(args: argparse.Namespace) -> int:
    from phoenix_lab import clone

    clone.clone(int(args.src), int(args.dst), print)
    return 0


def cmd_app_script(args: argparse.Namespace) -> int:
    from phoenix_lab import app_script

    app_script.redeploy(int(args.ctid))
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    from phoenix_lab import faults

    return faults.main(args)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly, as Unix tools do
    parser = argparse.ArgumentParser(prog="phoenix-lab", description="an embedded Phoenix Hypervisor host")
    sub = parser.add_subparsers(dest="command", required=True)
    upp = sub.add_parser("up", help="bring the lab up (idempotent)")
    upp.add_argument("--chat-engine", choices=options.CHAT_ENGINES, default=None,
                     help="echo (default, fast, deterministic) or smollm2 (the real SmolLM2-135M, for semantic checks)")
    upp.add_argument("--config-dir", type=Path, default=None,
                     help="derive the lab's inventory from this real Phoenix config dir (translated + overlay)")
    upp.add_argument("--as-declared", action="store_true",
                     help="the real config as declared (translated, without the conformance overlay): its defects live")
    upp.set_defaults(func=cmd_up)
    sub.add_parser("down", help="remove everything the lab made").set_defaults(func=cmd_down)
    st = sub.add_parser("status", help="the lab's facts")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    run = sub.add_parser("run", help="run a command on the lab's Proxmox host (its network namespace)")
    run.add_argument("command", nargs=argparse.REMAINDER)
    run.set_defaults(func=cmd_run)
    sub.add_parser("shell", help="a shell on the lab's Proxmox host").set_defaults(func=lambda a: cmd_run(argparse.Namespace(command=[])))
    cl = sub.add_parser("clone", help="clone a template CT to a new CT declared in the inventory")
    cl.add_argument("src")
    cl.add_argument("dst")
    cl.set_defaults(func=cmd_clone)
    for name, text in (("app-script", "re-run a CT's application script (service files, units, restart)"),
                       ("gateway-config", "re-render and reload the gateway's nginx config")):
        app = sub.add_parser(name, help=text)
        app.add_argument("ctid", type=int)
        app.set_defaults(func=cmd_app_script)
    fault = sub.add_parser("fault", help="the fault catalogue")
    fsub = fault.add_subparsers(dest="fault_command", required=True)
    fsub.add_parser("list")
    fa = fsub.add_parser("apply")
    fa.add_argument("name")
    fa.add_argument("--ct", type=int, default=None)
    fc = fsub.add_parser("clear")
    fc.add_argument("name", nargs="?")
    fault.set_defaults(func=cmd_fault)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (LabError, InventoryError) as exc:
        print(f"phoenix-lab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
