"""latest.html on the lab, as headless Chromium shows it: every guest of the lab inventory in the picture,
and with `net0-firewall-removed` the faulted CT drawn failed, its firewall ringed as root cause, the matrix cell
firewall x that CT red; the page requests nothing. Screenshots stay under reports/selftest/ (git-ignored)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from phoenix_lab import faults, lifecycle, provision
from phoenix_model.inventory import load_inventory
from phoenix_verify.suite.topology_svg import FILL
from selftest.lab.suite_runs import suite
from selftest.unit.chromium import available, render

SHOTS = Path(__file__).resolve().parents[2] / "reports" / "selftest"
FAULT = "net0-firewall-removed"

pytestmark = pytest.mark.skipif(not available(), reason="chromium is not installed (make setup installs it)")


def shown(report_dir: Path, tmp: Path, name: str) -> tuple[str, str]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    dom, requests = render(report_dir / "latest.html", SHOTS / f"{name}.png", tmp / name)
    assert requests == [], f"{name}: the report requested {requests}"
    return dom, dom[dom.index("<svg"): dom.index("</svg>")]


def test_review_names_every_guest_and_draws_the_firewall_fault(tmp_path: Path) -> None:
    inv = load_inventory(lifecycle.inventory_dir())
    provision.wait_ready(inv, lambda _: None, timeout=90)
    healthy = suite(tmp_path / "healthy", "-m", "firewall")
    assert healthy["exitstatus"] == 0
    dom, svg = shown(tmp_path / "healthy", tmp_path, "lab-firewall-healthy")
    assert "CONFORMANT: every check passed" in dom
    for ct in inv.containers.values():
        assert f"ct{ct.ctid} {ct.name}" in svg, f"ct{ct.ctid} is not in the picture"

    fault = faults.BY_NAME[FAULT]
    ctid = int(fault.describe(fault.target(inv, None))["object"][2:])
    faults.apply(FAULT)
    try:
        suite(tmp_path / "fault", "-m", "firewall")
    finally:
        faults.clear(FAULT)
    dom, svg = shown(tmp_path / "fault", tmp_path, "lab-firewall-fault")
    guest = re.search(rf'<g id="obj-guest-{ctid}"[^>]*>.*?</g>', svg, re.DOTALL)
    assert guest and 'data-outcome="failed"' in guest.group(0) and f'fill="{FILL["failed"]}"' in guest.group(0)
    assert re.search(rf'<g id="obj-fw-{ctid}"[^>]*data-root="yes"', svg), "the firewall is not marked as root cause"
    assert re.search(rf'<td class="failed" id="m-firewall-guest-{ctid}"', dom), "matrix cell firewall x the CT is not red"
    others = [m for m in re.findall(r'<g id="obj-guest-(\d+)"[^>]*data-outcome="failed"', svg) if int(m) != ctid]
    assert others == []
