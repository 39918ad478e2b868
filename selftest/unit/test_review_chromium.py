"""latest.html as a reviewer sees it: real suite runs (the static checks on the lab inventory, healthy and with a
CT's firewall rules gone) rendered by headless Chromium. The picture names every guest, the faulted guest is drawn
failed with its firewall ringed as root cause, and the page requests nothing from the network. The screenshots are
kept under reports/selftest/ (gitignored) for a human to look at."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify.suite.topology_svg import FILL
from selftest.unit.chromium import available, render

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "reports" / "selftest"
FAULT_CT = 951
EXTERNAL = re.compile(r"""(?:\bsrc|<link[^>]*\bhref|\bxlink:href|@import|url\()\s*=?\s*["'(]?\s*(?:https?:)?//""", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not available(), reason="chromium is not installed (make setup installs it)")


def test_a_page_that_loads_from_the_network_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://example.invalid/pixel.png"><p>leaky</p></body></html>')
    dom, requests = render(page, tmp_path / "leaky.png", tmp_path / "work")
    assert "leaky" in dom
    assert set(requests) == {"http://example.invalid/pixel.png"}
    assert EXTERNAL.findall(page.read_text())


def suite_run(pytester: pytest.Pytester, lab_dir: Path, name: str, break_firewall: bool) -> Path:
    inv_dir = pytester.path / f"inv-{name}"
    shutil.copytree(lab_dir, inv_dir)
    if break_firewall:
        path = inv_dir / "phoenix_lxc_configs.json"
        doc = json.loads(path.read_text())
        doc["lxc_configs"][str(FAULT_CT)]["firewall"]["rules"] = []
        path.write_text(json.dumps(doc))
    (pytester.path / f"{name}.toml").write_text(f'[inventory]\nconfig_dir = "inv-{name}"\n')
    out = pytester.path / f"reports-{name}"
    proc = pytester.run(sys.executable, "-m", "pytest", str(REPO / "tests"), "-m", "static", "-q", "-p", "no:cacheprovider",
                        f"--target={pytester.path / f'{name}.toml'}", "--report-dir", str(out), timeout=600)
    assert proc.ret == (1 if break_firewall else 0), proc.stdout.str()[-2000:]
    return out


def look(report: Path, tmp: Path, shot: str) -> tuple[str, list[str]]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return render(report / "latest.html", SHOTS / shot, tmp / shot)


def obj(dom: str, key: str) -> str:
    m = re.search(rf'<g id="obj-{key}"[^>]*>', dom)
    assert m, f"no {key} in the picture"
    return dom[m.start(): dom.index("</g>", m.start())]


@pytest.mark.slow
def test_healthy_and_faulted_reports_in_chromium(pytester: pytest.Pytester, lab_dir: Path, tmp_path: Path) -> None:
    inv = load_inventory(lab_dir)
    healthy = suite_run(pytester, lab_dir, "healthy", False)
    page = (healthy / "latest.html").read_text()
    assert not EXTERNAL.findall(page), EXTERNAL.findall(page)[:5]
    dom, requests = look(healthy, tmp_path, "review-healthy.png")
    assert requests == [], f"the report tried the network: {requests}"
    assert dom.index('id="review"') < dom.index('<details id="rows"') < dom.index('id="results-table"')
    assert "CONFORMANT: every check passed" in dom
    svg = dom[dom.index("<svg"): dom.index("</svg>")]
    for ct in inv.containers.values():
        assert f"ct{ct.ctid} {ct.name}" in svg, f"ct{ct.ctid} missing from the picture"
    assert (SHOTS / "review-healthy.png").stat().st_size > 10_000

    faulted = suite_run(pytester, lab_dir, "fault", True)
    dom, requests = look(faulted, tmp_path, "review-fault.png")
    assert requests == []
    assert "NOT CONFORMANT" in dom
    guest = obj(dom, f"guest-{FAULT_CT}")
    assert 'data-outcome="failed"' in guest and f'fill="{FILL["failed"]}"' in guest
    assert 'data-root="yes"' in obj(dom, f"fw-{FAULT_CT}")
    cell = re.search(rf'<td class="(\w+)" id="m-firewall-guest-{FAULT_CT}"', dom)
    assert cell and cell.group(1) == "failed"
    other = next(ct for ct in inv.services() if ct.ctid != FAULT_CT and ct.firewall.enabled and ct.ports)
    assert 'data-outcome="failed"' not in obj(dom, f"guest-{other.ctid}")
    rows = re.findall(r'class="col-layer" id="(t-[0-9a-f]+)"', dom)
    link = re.search(rf'<a href="#(t-[0-9a-f]+)"><g id="obj-fw-{FAULT_CT}"', dom)
    assert link and link.group(1) in rows, "the firewall's link does not land on a row of the table"
