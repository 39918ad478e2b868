"""`phoenix-verify lint-nginx PATH [--inventory DIR] [--json]` and `phoenix-verify routes [PATH] [--json]`.

lint-nginx: nginx's own verdict (`nginx -t`), the config rules and the route-table properties, before a deploy.
Exit 1 with findings, 0 clean, 2 when the input is unusable or nothing was analysed (no server block).
routes: the effective route table and what is wrong with it (same exit codes); without PATH, the target's
gateway CT's deployed config.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from phoenix_model.inventory import Inventory, InventoryError, load_inventory
from phoenix_verify.gateway import route_table
from phoenix_verify.gateway.nginx_lint import Config, LintInputError, lint, load
from phoenix_verify.gateway.nginx_verdict import verdict
from phoenix_verify.target import TargetError, load_target


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lint-nginx", help="check nginx gateway config files (nginx -t, rules, route properties)")
    p.add_argument("path", type=Path, help="nginx.conf, a site file, sites-available/, or a whole nginx/ directory")
    p.add_argument("--inventory", type=Path, metavar="DIR", help="Phoenix config directory (default: the target's)")
    p.add_argument("--no-nginx-t", action="store_true", help="skip nginx's own verdict")
    p.add_argument("--json", action="store_true", help="print findings as a JSON list")
    p.set_defaults(func=run)
    r = subparsers.add_parser("routes", help="print the gateway's effective route table")
    r.add_argument("path", type=Path, nargs="?", help="nginx config (default: read from the target's gateway CT)")
    r.add_argument("--inventory", type=Path, metavar="DIR", help="Phoenix config directory (default: the target's)")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=run_routes)


def _inventory(explicit: Path | None) -> Inventory | None:
    """The inventory named, else the target's if one is configured; None: routes stay unresolved."""
    if explicit is not None:
        return load_inventory(explicit)
    try:
        return load_inventory(load_target(None).inventory_dir)
    except (TargetError, InventoryError):
        return None


def _analysed(cfg: Config, path: Path) -> bool:
    if cfg.servers() or any(d.name == "server" for d in cfg.stream):
        return True
    print(f"nothing analysed: no server block in {path} (files read: {len(cfg.files)}); not a clean result",
          file=sys.stderr)
    return False


def run(args: argparse.Namespace) -> int:
    try:
        inv = _inventory(args.inventory)
        cfg = load(args.path)
        if not _analysed(cfg, args.path):
            return 2
        findings = lint(cfg, inv)
        if not args.no_nginx_t:
            findings = verdict(args.path) + findings
    except (InventoryError, LintInputError, FileNotFoundError) as exc:
        print(f"lint-nginx: {exc}", file=sys.stderr)
        return 2
    if inv is None:
        print("lint-nginx: no inventory (--inventory DIR or a target): guest and contract checks skipped", file=sys.stderr)
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for f in findings:
            print(f)
        print(f"{len(findings)} finding(s)" if findings else "clean: no findings")
    return 1 if findings else 0


def run_routes(args: argparse.Namespace) -> int:
    try:
        inv = _inventory(args.inventory)
        if args.path is None:
            return _routes_from_target(args, inv)
        return _print_routes(args, args.path, inv)
    except (InventoryError, LintInputError, TargetError) as exc:
        print(f"routes: {exc}", file=sys.stderr)
        return 2


def _routes_from_target(args: argparse.Namespace, inv: Inventory | None) -> int:
    from phoenix_verify.access import netns
    from phoenix_verify.access.gateway_files import NGINX_DIR, fetch_nginx_config
    from phoenix_verify.access.pct_backend import PctError

    target = load_target(None)
    gateway = inv.gateway() if inv else None
    if gateway is None or not target.is_live:
        print("routes: give a PATH, or a live target whose inventory declares a gateway CT", file=sys.stderr)
        return 2
    if target.is_lab:
        netns.enter_lab(target)
    with tempfile.TemporaryDirectory(prefix="phoenix-routes-") as tmp:
        try:
            fetch_nginx_config(gateway.ctid, target.pct, Path(tmp))
        except PctError as exc:
            print(f"routes: {exc}", file=sys.stderr)
            return 2
        return _print_routes(args, Path(tmp), inv, shown_as=(tmp, NGINX_DIR))


def _print_routes(args: argparse.Namespace, path: Path, inv: Inventory | None,
                  shown_as: tuple[str, str] | None = None) -> int:
    """`shown_as` (local copy, CT path): files fetched from the CT are shown where they are on the CT."""
    cfg = load(path)
    if not _analysed(cfg, path):
        return 2
    entries = route_table.build(cfg, inv)
    findings = lint(cfg, inv)
    if shown_as:
        entries = [replace(e, file=e.file.replace(shown_as[0], shown_as[1], 1)) for e in entries]
        findings = [replace(f, file=f.file.replace(shown_as[0], shown_as[1], 1)) for f in findings]
    if args.json:
        print(json.dumps({"routes": [e.as_dict() for e in entries], "findings": [f.as_dict() for f in findings]},
                         indent=2))
    else:
        print(route_table.render(entries))
        print("\n".join(["", *map(str, findings), f"{len(findings)} finding(s)"]) if findings else "\nclean: no findings")
    return 1 if findings else 0
