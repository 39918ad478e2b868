"""`phoenix-verify diagnose [SERVICE]` and `phoenix-verify remediate [--apply]`.

`diagnose` runs the suite for one service's CT (or all) and prints the decision tree it walked, rung by rung;
`remediate` reads the last run's root causes, runs (or prints) their remediations bottom-up, re-runs the
affected tests and reports before/after.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from phoenix_model.inventory import InventoryError, load_inventory
from phoenix_verify import locations
from phoenix_verify.access import netns
from phoenix_verify.diagnosis.tree import RootCause, diagnose, failure_of, place, remediation_order
from phoenix_verify.remediation import runner
from phoenix_verify.suite.markers import RUNGS
from phoenix_verify.suite.run import run_suite
from phoenix_verify.target import TargetError, load_target

SETTLE_ATTEMPTS, SETTLE_SECONDS = 4, 5
LATEST = locations.reports_dir() / "latest.json"


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("diagnose", help="run the decision tree for one service (CTID, CT name or role) or all")
    d.add_argument("service", nargs="?", help="e.g. 951, vllm-granite-embed-r2, qdrant; default: every service")
    d.add_argument("--target", help="phoenix.toml (default: $PHOENIX_TARGET, ./phoenix.toml, the lab)")
    d.set_defaults(func=run_diagnose)
    r = sub.add_parser("remediate", help="run the remediations of the last run's root causes, bottom-up")
    r.add_argument("--apply", action="store_true", help="act (default: print the commands)")
    r.add_argument("--allow-disruptive", action="store_true",
                   help="with --apply: also run fixes that delete data, stop or reboot a guest, or change datacenter policy")
    r.add_argument("--report", default=str(LATEST), help="the run to remediate (default: reports/latest.json)")
    r.add_argument("--target", help="phoenix.toml")
    r.set_defaults(func=run_remediate)


def run_diagnose(args: argparse.Namespace) -> int:
    try:
        target = load_target(args.target)
        inv = load_inventory(target.inventory_dir)
        cts = [inv.container(args.service)] if args.service and args.service.isdigit() else [
            c for c in inv.services() if not args.service or args.service.lower() in (c.name.lower(), c.role)]
        if not cts:
            raise InventoryError("phoenix_lxc_configs.json", "lxc_configs", f"no service matches {args.service!r}")
    except (TargetError, InventoryError) as exc:
        print(f"phoenix-verify: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        selection = [f"--ctid={ct.ctid}" for ct in cts] if args.service else []
        try:
            doc = run_suite(["tests", *selection], Path(tmp), args.target)
        except TargetError as exc:
            print(f"phoenix-verify: {exc}", file=sys.stderr)
            return 2
    records = doc["tests"]
    for ct in cts:
        print(f"ct{ct.ctid} {ct.name} ({ct.role}): decision tree, inside out")
        placed = [place(failure_of(r), inv) for r in records if r.get("ctid") == ct.ctid]
        for rung in RUNGS:
            here = [(f, r) for f, r in zip(placed, [r for r in records if r.get("ctid") == ct.ctid]) if f.rung == rung]
            if not here:
                continue
            bad = [f for f, r in here if r["outcome"] in ("failed", "error")]
            print(f"  {rung:<14} {'FAIL' if bad else 'ok  '}  {len(here) - len(bad)}/{len(here)} checks pass")
            for f in bad[:5]:
                print(f"      {f.nodeid}")
            if bad:
                print(f"  -> stopped at {rung}: the layers above are consequences")
                break
    roots = diagnose(records, inv)
    for rc in roots:
        print(f"root cause [{rc.layer}] {rc.object}: {rc.summary}\n    fix: {rc.remediation if rc.automatic else 'manual: ' + str(rc.manual_step)}")
    return 1 if roots else 0


def _enter_target(explicit: str | None) -> None:
    """Remediation scripts call `pct`/`pvesh`: against the lab they must run on its host (netns, PATH, /etc/pve)."""
    target = load_target(explicit)
    if target.is_lab:
        netns.enter_lab(target)


def run_remediate(args: argparse.Namespace) -> int:
    path = Path(args.report)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        print(f"phoenix-verify: {path}: cannot read the last run ({exc})", file=sys.stderr)
        return 2
    roots = [RootCause(**{k: v for k, v in rc.items() if k in RootCause.__dataclass_fields__}) for rc in doc.get("root_causes", [])]
    try:
        _enter_target(args.target)
    except TargetError as exc:
        print(f"phoenix-verify: {exc}", file=sys.stderr)
        return 2
    if not roots:
        print("nothing to remediate: the last run has no root causes")
        return 0
    status = 0
    for rc in remediation_order(roots):
        if not rc.automatic or not rc.remediation:
            print(f"[{rc.layer}] {rc.object}: manual step: {rc.manual_step or rc.summary}")
            status = max(status, 3)
            continue
        try:
            cmd = runner.command(rc.fix, args.apply, args.allow_disruptive)
        except runner.UnsafeFix as exc:
            print(f"[{rc.layer}] {rc.object}: not run: {exc}", file=sys.stderr)
            status = max(status, 1)
            continue
        print(f"[{rc.layer}] {rc.object}: {' '.join(shlex.quote(c) for c in cmd[1:])}")
        proc = subprocess.run(cmd, text=True, timeout=600, env={**os.environ, "PHOENIX_PYTHON": sys.executable}, check=False)
        if proc.returncode == 4:
            status = max(status, 4)
        elif proc.returncode != 0:
            status = max(status, 1)
    if not args.apply:
        return status
    tests = sorted({t for rc in roots for t in rc.tests} | {c.split(" (blocked by")[0] for rc in roots for c in rc.consequences})
    before_failed = len(tests)
    after_failed = before_failed
    for attempt in range(SETTLE_ATTEMPTS):  # services take a few seconds to listen again after a restart
        time.sleep(SETTLE_SECONDS if attempt else 2)
        with tempfile.TemporaryDirectory() as tmp:
            after = run_suite(tests, Path(tmp), args.target)
        after_failed = sum(1 for r in after["tests"] if r["outcome"] in ("failed", "error"))
        if after_failed == 0:
            break
    print(f"before: {before_failed} failing tests in {len(roots)} root causes; after: {after_failed} failing")
    return 0 if after_failed == 0 and status == 0 else 1
