"""`phoenix-verify promote CTID`: the clone promotion gate; exit 0 promote, 1 blocked, 2 could not decide."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phoenix_verify import locations
from phoenix_verify.access import netns
from phoenix_verify.promotion.gate import Undecided, decide, write_record
from phoenix_verify.target import TargetError, load_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("promote", help="may this clone of a template be promoted? (exit 0 promote, 1 blocked, 2 undecided)")
    p.add_argument("ctid", help="the cloned CT, e.g. 950")
    p.add_argument("--target", help="phoenix.toml (default: $PHOENIX_TARGET, ./phoenix.toml, the lab)")
    p.add_argument("--reports", default=str(locations.reports_dir() / "promotions"), help="where verdicts go (default: reports/promotions/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.ctid.isdigit() or not 100 <= int(args.ctid) <= 999999999:
        print(f"phoenix-verify: promote: {args.ctid!r} is not a CTID (100-999999999)", file=sys.stderr)
        return 2
    try:
        target = load_target(args.target)
        if target.is_lab:
            netns.enter_lab(target)   # pct and the rootfs mounts live on the lab's host
        verdict = decide(target, int(args.ctid), Path(args.reports))
    except (Undecided, TargetError) as exc:
        print(f"phoenix-verify: promote ct{args.ctid}: undecided: {exc}", file=sys.stderr)
        return 2
    path = write_record(verdict, Path(args.reports))
    print(f"ct{verdict.ctid} {verdict.name} from {verdict.template}: {verdict.verdict.upper()} ({verdict.reason})")
    for f in verdict.failing:
        print(f"  failing [{f['layer']}] {f['nodeid']}")
    for d in verdict.drift:
        print(f"  drift {d['area']}: {d['item']}: template {d['template']!r}, clone {d['clone']!r}")
    print(f"verdict: {path} (+ .html)")
    return verdict.exit_code
