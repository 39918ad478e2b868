"""The nightly overview page: the SVG trend (well-formed, one line per layer) and index.html (escaped, redacted)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from phoenix_verify.nightly import history, index_page, trend_svg
from selftest.unit.nightly_docs import FW, GW, HEALTHY, SECRET, run

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)


def _nights() -> list[history.Run]:
    return [
        run("20261124T023000Z", HEALTHY),
        run("20261125T023000Z", {**HEALTHY, GW: ("gateway", "failed")}),
        run("20261126T023000Z", {**HEALTHY, GW: ("gateway", "failed"), FW: ("firewall", "failed")},
            root_causes=[{"layer": "firewall", "object": "ct951", "summary": "net0 firewall off"}]),
    ]


def test_svg_is_well_formed_with_one_line_per_layer() -> None:
    runs = _nights()
    root = ET.fromstring(trend_svg.render(runs, history.layers(runs)))
    assert root.tag == f"{SVG}svg"
    paths = root.findall(f"{SVG}path")
    assert [p.get("data-layer") for p in paths] == ["host", "lxc", "gateway", "vllm", "firewall"]
    assert len(root.findall(f"{SVG}circle")) == 5 * 3
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "failing tests" in texts and "nightly run (UTC), oldest to newest" in texts and "11-26 02:30" in texts
    gateway = next(p for p in paths if p.get("data-layer") == "gateway")
    heights = [float(y) for y in re.findall(r"[ML][\d.]+ ([\d.]+)", gateway.get("d"))]
    assert heights[0] > heights[1] == heights[2]  # 0 -> 1 -> 1 failing: the line goes up, then stays


def test_a_layer_that_did_not_run_leaves_a_gap_and_a_note() -> None:
    only_static = {k: v for k, v in HEALTHY.items() if v[0] != "gateway"}
    runs = [run("20261124T023000Z", HEALTHY), run("20261125T023000Z", only_static), run("20261126T023000Z", HEALTHY)]
    root = ET.fromstring(trend_svg.render(runs, history.layers(runs)))
    gateway = next(p for p in root.findall(f"{SVG}path") if p.get("data-layer") == "gateway")
    assert gateway.get("d").count("M") == 2 and "L" not in gateway.get("d")
    single = ET.fromstring(trend_svg.render(runs[1:2], history.layers(runs[1:2])))
    assert "gateway" not in [p.get("data-layer") for p in single.findall(f"{SVG}path")]
    assert "not run in the newest run" in [t.text for t in single.iter(f"{SVG}text")]


def test_index_shows_the_new_failure_escaped_and_redacted() -> None:
    page = index_page.render(_nights(), NOW)
    new = page.split("<h3>New failures (1)</h3>")[1].split("</div>")[0]
    assert FW in new and GW not in new
    assert GW in page.split("<h3>Still failing (1)</h3>")[1].split("</div>")[0]
    assert "<h3>Fixed (0)</h3>" in page
    failures = page.split("<h2>Newest failures</h2>")[1].split("</table>")[0]
    assert FW in failures and "ct951" in failures and "remediate/ct-firewall.sh 951" in failures
    assert "net0 has firewall=0 &lt;b&gt;&amp;amp;" in failures and "second line" not in failures
    assert SECRET.split("=")[-1] not in page and "***REDACTED***" in page
    assert "<b>" not in page
    assert 'href="history/20261126T023000Z/latest.html"' in page and 'href="history/20261124T023000Z/latest.html"' in page
    assert "1 root cause;" in page and "<script" not in page


def test_index_for_a_first_run_and_for_no_runs() -> None:
    first = index_page.render(_nights()[:1], NOW)
    assert "first kept run" in first and "No failures in the newest run." in first
    assert 'class="status ok"' in first and "did not run to the end" not in first
    empty = index_page.render([], NOW)
    assert "No runs yet" in empty and "<svg" not in empty


def test_a_night_that_did_not_run_to_the_end_is_not_shown_green() -> None:
    broken = run("20261126T023000Z", {})
    broken.doc["exitstatus"] = 2  # e.g. a collection error: no test records at all
    page = index_page.render([broken], NOW)
    assert 'class="status bad"' in page and "did not run to the end" in page
