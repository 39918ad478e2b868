"""`phoenix-verify lint-nginx PATH --inventory DIR [--json]`: the drift checks on files, before a deploy.
Exit 1 with findings, 0 clean, 2 when the input (config or inventory) is unusable."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from phoenix_model.inventory import InventoryError, load_inventory
from phoenix_verify.gateway.nginx_lint import LintInputError, lint, load


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lint-nginx", help="check nginx gateway config files against the inventory")
    p.add_argument("path", type=Path, help="nginx.conf, a site file, or a directory of them")
    p.add_argument("--inventory", type=Path, required=True, metavar="DIR", help="Phoenix config directory")
    p.add_argument("--json", action="store_true", help="print findings as a JSON list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        inv = load_inventory(args.inventory)
        findings = lint(load(args.path), inv)
    except (InventoryError, LintInputError) as exc:
        print(f"lint-nginx: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for f in findings:
            print(f)
        print(f"{len(findings)} finding(s)" if findings else "clean: no findings")
    return 1 if findings else 0
