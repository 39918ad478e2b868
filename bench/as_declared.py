"""`make as-declared`: the real Phoenix config as declared, live, and what the suite finds in it.

Brings the lab up with `phoenix-lab up --as-declared` (the reference config translated to lab addresses, the
lab_shape overlay only: none of the conformance corrections), runs the suite with that translated config as the
target inventory, and writes reports/as-declared.md: the root causes the diagnosis names, each in its layer,
then every failing check. The lab goes down before and after (it is rebuilt from another inventory).
Usage: .venv/bin/python bench/as_declared.py [--keep-up]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "reports" / "as-declared.md"
LAB = [sys.executable, "-m", "phoenix_lab.cli"]
OVERLAY = REPO / "fixtures" / "lab-overlay.json"


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
    lab("down")
    lab("up", "--as-declared")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            doc = suite(Path(tmp))
            OUT.write_text(render(doc, time.monotonic() - started))
    finally:
        if not args.keep_up:
            lab("down")
    print(f"as-declared: {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
