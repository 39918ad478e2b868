"""The fault matrix: for every fault, the suite fails, the diagnosis names exactly the fault's layer and object,
`phoenix-verify remediate --apply` fixes it (where a fix is automatic) and the suite is green again.

Slow (two full suite runs per fault): run with `make fault-matrix`; it writes reports/fault-matrix.md.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_lab import faults, lifecycle
from phoenix_model.inventory import load_inventory
from selftest.lab.suite_runs import assert_caught_in_its_layer, failing, root_causes, suite

REPO = Path(__file__).resolve().parents[2]
MATRIX = REPO / "reports" / "fault-matrix.md"
ROWS: dict[str, dict[str, str]] = {}

pytestmark = pytest.mark.slow


def write_matrix() -> None:
    """Rewritten after every fault, so an interrupted run still leaves its rows."""
    lines = ["# Fault matrix", "", "Written by `make fault-matrix` (selftest/lab/test_fault_matrix.py) against the lab.", "",
             "| fault | layer | detected by | diagnosed as | remediated by | green after |", "|---|---|---|---|---|---|"]
    lines += [f"| {n} | {r['layer']} | {r['detected']} | {r['diagnosed']} | {r['remediated']} | {r['green']} |" for n, r in ROWS.items()]
    MATRIX.parent.mkdir(exist_ok=True)
    MATRIX.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("name", [f.name for f in faults.CATALOGUE])
def test_fault_is_detected_diagnosed_and_remediated(name: str, tmp_path: Path) -> None:
    inv = load_inventory(lifecycle.inventory_dir())
    fault = faults.BY_NAME[name]
    expected = fault.describe(fault.target(inv, None))
    row = ROWS.setdefault(name, {"layer": expected["layer"], "detected": "-", "diagnosed": "-", "remediated": "-", "green": "-"})
    faults.apply(name)
    try:
        broken = suite(tmp_path / "broken")
        red = [t["nodeid"] for t in failing(broken)]
        row["detected"] = f"{len(red)} tests ({red[0].split('::')[-1][:60]})" if red else "NOT DETECTED"
        causes = root_causes(broken)
        row["diagnosed"] = ", ".join(f"{layer} {obj}" for layer, obj in causes) or "-"
        assert_caught_in_its_layer(name, broken, expected, inv)
        if expected["automatic"] == "no":
            manual = broken["root_causes"][0]
            row["remediated"] = f"manual: {manual.get('manual_step')}"
            assert not manual["automatic"] and manual["manual_step"]
            return
        fix = subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "remediate", "--apply", "--allow-disruptive", "--report",
                              str(tmp_path / "broken" / "latest.json")], check=False, cwd=REPO, capture_output=True, text=True, timeout=1200)
        row["remediated"] = " ".join(rc["remediation"].removeprefix("remediate/") for rc in broken["root_causes"])   # what ran
        healed = suite(tmp_path / "healed")
        still = [t["nodeid"] for t in failing(healed)]
        row["green"] = "yes" if not still else f"no ({len(still)} failing)"
        assert not still, f"{name}: after remediation still failing: {still[:5]}\n{fix.stdout[-1500:]}"
    finally:
        if name in faults.applied():
            faults.clear(name)
        write_matrix()
