"""`make as-declared`: the real Phoenix config as declared, live, and what the suite finds in it.

Brings the lab up with `phoenix-lab up --as-declared` (the reference config translated to lab addresses, the
lab_shape overlay only: none of the conformance corrections), runs the suite with that translated config as the
target inventory, and writes reports/as-declared.md: the root causes the diagnosis names, each in its layer,
then every failing check (the suite's own reports stay in reports/as-declared/). The lab goes down before and after (it is rebuilt from another inventory), all under the
lab lock (/run/phoenix-lab.lock: there is one lab per machine). Prints the time it took.
Usage: .venv/bin/python bench/as_declared.py [--keep-up]
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "reports" / "as-declared.md"
SUITE_REPORTS = REPO / "reports" / "as-declared"
LAB = [sys.executable, "-m", "phoenix_lab.cli"]
OVERLAY = REPO / "fixtures" / "lab-overlay.json"
LOCK = Path("/run/phoenix-lab.lock")


def take_lab_lock() -> IO[str] | None:
    """flock the lab lock for the whole run, waiting for whoever holds it; None when an ancestor already holds it
    (`flock /run/phoenix-lab.lock make as-declared`), whose lock this run then runs under."""
    handle = LOCK.open("a")
    if _held_by_ancestor(os.fstat(handle.fileno())):
        handle.close()
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"as-declared: waiting for the lab lock {LOCK} (another lab user holds it)", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _held_by_ancestor(st: os.stat_result) -> bool:
    """/proc/locks names the pid holding a flock on the lock file's device:inode; is it one of our ancestors?"""
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    holders = {int(f[4]) for f in (line.split() for line in Path("/proc/locks").read_text().splitlines())
               if len(f) > 5 and f[1] == "FLOCK" and f[5] == ident}
    pid = os.getppid()
    while pid > 1:
        if pid in holders:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


def lab(*args: str) -> None:
    proc = subprocess.run([*LAB, *args], cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"as-declared: phoenix-lab {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()[-600:]}")


def suite(report_dir: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--report-dir",
                           str(report_dir)], cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
    path = report_dir / "latest.json"
    if not path.exists():
        raise SystemExit(f"as-declared: the suite wrote no report: {(proc.stdout + proc.stderr).strip()[-600:]}")
    return json.loads(path.read_text())


def render(doc: dict, seconds: float) -> str:
    overlay = json.loads(OVERLAY.read_text())
    failed = [t for t in doc["tests"] if t["outcome"] in ("failed", "error")]
    summary = ", ".join(f"{n} {k}" for k, n in sorted(doc["summary"].items()))
    lines = [
        "# The real Phoenix config, as declared, live in the lab", "",
        ("Written by `make as-declared` (bench/as_declared.py): `phoenix-lab up --as-declared` brings up the reference "
         "config (`fixtures/reference/phoenix-config/`) translated to lab addresses, with only the `lab_shape` entries "
         "of fixtures/lab-overlay.json; the suite then runs with that translated config as its target inventory. "
         "The conformance corrections the healthy lab carries (below) are left out, so their defects are live."), "",
        f"Suite: {summary} in {seconds:.0f} s.", "",
        "## Defects the healthy lab corrects (fixtures/lab-overlay.json, `conformance`)", "",
        *[f"- {entry['why']}" for entry in overlay.get("conformance", [])], "",
        "## Root causes (diagnosis), by layer", "",
        "| layer | object | finding | remediation |", "|---|---|---|---|",
    ]
    for rc in sorted(doc.get("root_causes") or [], key=lambda r: (r["layer"], r["object"])):
        fix = rc.get("remediation") or f"manual: {rc.get('manual_step') or ''}"
        lines.append(f"| {rc['layer']} | {rc['object']} | {_cell(rc['summary'])} | {_cell(fix)} |")
    lines += ["", "## Every failing check, by layer", ""]
    by_layer: dict[str, list[dict]] = defaultdict(list)
    for test in failed:
        by_layer[test.get("layer") or "?"].append(test)
    for layer in sorted(by_layer):
        lines += [f"### {layer}", ""]
        lines += [f"- `{t['nodeid']}`: {_cell((t.get('evidence') or '').splitlines()[0] if t.get('evidence') else '')}"
                  for t in by_layer[layer]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-up", action="store_true", help="leave the as-declared lab up afterwards")
    args = parser.parse_args()
    lock = take_lab_lock()
    began = time.monotonic()
    try:
        lab("down")
        lab("up", "--as-declared")
        up = time.monotonic() - began
        try:
            started = time.monotonic()
            doc = suite(SUITE_REPORTS)
            ran = time.monotonic() - started
            OUT.write_text(render(doc, ran))
        finally:
            if not args.keep_up:
                lab("down")
    finally:
        if lock is not None:
            lock.close()
    print(f"as-declared: {OUT} (lab up {up:.0f} s, suite {ran:.0f} s, {time.monotonic() - began:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
