"""The review section of latest.html on synthetic runs: verdict, topology picture, layer x guest matrix, folding."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify.diagnosis.tree import diagnose
from phoenix_verify.suite import redact as redact_module
from phoenix_verify.suite import review, topology_svg
from phoenix_verify.suite.topology_svg import FILL, STROKE, anchor, layout, object_of

FW_FLAG = "tests/firewall/test_ct_firewall.py::test_net0_has_firewall_flag[ct951-vllm-granite-embed-r2]"
EMBED_ROUTE = "tests/gateway/test_routes.py::test_route_answers[phoenix.local/v1/embeddings]"


@pytest.fixture(autouse=True)
def no_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by earlier tests in this process (test_redact registers random ones, e.g. "000000")
    would be masked in the pages and break the comparisons."""
    monkeypatch.setattr(redact_module, "_secrets", set())


@pytest.fixture(scope="module")
def inv(lab_dir: Path) -> Any:
    return load_inventory(lab_dir)


# The rung each test function declares in tests/ (selftest/unit/test_rungs.py keeps every test declaring one).
RUNGS = {"test_net0_has_firewall_flag": "ct-config", "test_route_answers": "gateway-route", "test_ct_is_running": "ct-running",
         "test_status_matches": "ct-running", "test_dependencies_running": "deps"}


def rec(nodeid: str, outcome: str, layer: str, ctid: int | None, evidence: str = "", remediation: str | None = None) -> dict:
    function = nodeid.split("::")[-1].split("[")[0]
    rung = "host" if layer == "host" else RUNGS.get(function, "service")
    words = (remediation or "").split()   # the structured fix, as the plugin writes it next to the rendered one
    fix = {"script": words[0].removeprefix("remediate/"), "args": words[1:]} if words else None
    return {"nodeid": nodeid, "outcome": outcome, "layer": layer, "rung": rung, "ctid": ctid, "remediation": remediation,
            "fix": fix, "evidence": evidence}


def healthy_records(inv: Any) -> list[dict]:
    out = [rec("tests/host/test_host_live.py::test_bridge_has_declared_address", "passed", "host", None),
           rec("tests/host/test_host_live.py::test_datacenter_firewall_policy", "passed", "host", None),
           rec("tests/host/test_static_host.py::test_config_matches_its_phoenix_schema[x.json]", "skipped", "host", None,
               "Skipped: no x.schema.json next to x.json")]
    for ct in inv.containers.values():
        out.append(rec(f"tests/lxc/test_runtime.py::test_status_matches[ct{ct.ctid}-{ct.name}]", "passed", "lxc", ct.ctid))
        out.append(rec(f"tests/firewall/test_ct_firewall.py::test_net0_has_firewall_flag[ct{ct.ctid}-{ct.name}]", "passed",
                       "firewall", ct.ctid))
    out.append(rec(EMBED_ROUTE, "passed", "gateway", 951))
    return out


def run_doc(inv: Any, records: list[dict], exitstatus: int | None = None) -> dict:
    roots = [dataclasses.asdict(r) for r in diagnose(records, inv)]
    failing = any(r["outcome"] in ("failed", "error") for r in records)
    return {"started": 1796219510.0, "exitstatus": (1 if failing else 0) if exitstatus is None else exitstatus,
            "tests": records, "root_causes": roots, "topology": topology_svg.describe(inv)}


def faulted(inv: Any) -> dict:
    """net0 firewall flag gone on ct951: its firewall check fails, and the embeddings route with it (a consequence)."""
    records = [r for r in healthy_records(inv) if r["nodeid"] not in (FW_FLAG, EMBED_ROUTE)]
    records.append(rec(FW_FLAG, "failed", "firewall", 951, "AssertionError: net0 of ct951 has no firewall=1",
                       "remediate/net0-firewall.sh 951"))
    records.append(rec(EMBED_ROUTE, "failed", "gateway", 951, "502 Bad Gateway", "remediate/gateway-config.sh 953"))
    return run_doc(inv, records)


def group(svg: str, key: str) -> str:
    """The <g> of one drawn object (objects do not nest)."""
    m = re.search(rf'<g id="obj-{re.escape(key.replace(":", "-"))}"[^>]*>.*?</g></a>', svg, re.DOTALL)
    assert m, f"no object {key} in the picture"
    return m.group(0)


def test_describe_lists_every_guest_the_gateway_and_its_routes(inv: Any) -> None:
    topo = topology_svg.describe(inv)
    assert [g["id"] for g in topo["guests"]] == sorted(inv.containers)
    assert topo["gateway"] == inv.gateway().ctid
    routed = {g["id"]: g["routes"] for g in topo["guests"] if g["routes"]}
    assert routed[951] == ["phoenix.local/v1/embeddings"] and inv.gateway().ctid not in routed
    assert topo["host"]["bridge"] == inv.host.bridge


def test_vms_of_a_later_generation_are_drawn_as_guests(reference_dir: Path) -> None:
    newer = reference_dir.parent / "phoenix-config-0385ea2"
    if not (newer / "phoenix_vm_configs.json").is_file():
        pytest.skip(f"no Phoenix generation with VMs at {newer}")
    inv = load_inventory(newer)
    assert inv.vms, "the 0385ea2 generation declares VMs"
    topo = topology_svg.describe(inv)
    assert {g["id"] for g in topo["guests"]} == set(inv.containers) | set(inv.vms)
    doc = {"exitstatus": 0, "topology": topo, "root_causes": [],
           "tests": [rec(f"tests/lxc/t.py::test_x[vm{vmid}]", "passed", "lxc", vmid) for vmid in inv.vms]}
    svg = topology_svg.render(doc)
    for vm in inv.vms.values():
        assert f"vm{vm.vmid} {vm.name}" in group(svg, f"guest:{vm.vmid}")
    assert all(f'id="m-guest-{vmid}"' in review.render_matrix(doc) for vmid in inv.vms)


def test_checks_are_placed_on_the_object_they_are_about(inv: Any) -> None:
    topo = topology_svg.describe(inv)
    gw = inv.gateway().ctid
    assert object_of(rec(FW_FLAG, "failed", "firewall", 951), topo) == "fw:951"
    assert object_of(rec(EMBED_ROUTE, "failed", "gateway", 951), topo) == "route:951"
    assert object_of(rec("tests/gateway/test_nginx_service.py::test_nginx_unit_active", "failed", "gateway", gw), topo) == f"guest:{gw}"
    assert object_of(rec("tests/lxc/test_runtime.py::test_x[ct952]", "failed", "lxc", 952), topo) == "guest:952"
    assert object_of(rec("tests/host/test_host_live.py::test_bridge_has_declared_address", "failed", "host", None), topo) == "bridge"
    assert object_of(rec("tests/host/test_host_live.py::test_datacenter_firewall_policy", "failed", "host", None), topo) == "host-fw"
    assert object_of(rec("tests/vllm/test_static_vllm.py::test_served_model_names_are_unique", "failed", "vllm", None), topo) == "global"
    assert object_of(rec("tests/lxc/test_runtime.py::test_x[ct4242]", "failed", "lxc", 4242), topo) == "global"


def test_healthy_picture_names_every_guest_in_the_passed_colour(inv: Any) -> None:
    svg = topology_svg.render(run_doc(inv, healthy_records(inv)))
    for ct in inv.containers.values():
        g = group(svg, f"guest:{ct.ctid}")
        assert f"ct{ct.ctid} {ct.name}" in g
        assert 'data-outcome="passed"' in g and f'stroke="{STROKE["passed"]}"' in g
        assert "url(#hatch)" not in g
    assert "ROOT CAUSE" not in svg
    assert "<script" not in svg and "http" not in svg


def test_firewall_fault_fails_the_guest_and_rings_its_firewall_as_root_cause(inv: Any) -> None:
    doc = faulted(inv)
    assert [(r["layer"], r["object"]) for r in doc["root_causes"]] == [("firewall", "ct951")]
    svg = topology_svg.render(doc)
    guest = group(svg, "guest:951")
    assert 'data-outcome="failed"' in guest and f'fill="{FILL["failed"]}"' in guest
    fw = group(svg, "fw:951")
    assert 'data-root="yes"' in fw and "ROOT CAUSE" in fw and f'stroke="{STROKE["failed"]}"' in fw
    assert f'href="#{anchor(FW_FLAG)}"' in svg
    route = group(svg, "route:951")
    assert 'data-outcome="failed"' in route and 'data-root="no"' in route
    assert 'data-outcome="passed"' in group(svg, "guest:952")


def test_consequences_are_hatched_not_ringed(inv: Any) -> None:
    records = healthy_records(inv) + [
        rec("tests/lxc/test_runtime.py::test_ct_is_running[ct952-qdrant-VSCodeRag]", "failed", "lxc", 952, "ct952 is stopped"),
        rec("tests/lxc/test_runtime.py::test_dependencies_running[ct954-n8n-phoenix]", "failed", "lxc", 954, "ct952 is not running"),
    ]
    doc = run_doc(inv, records)
    states = topology_svg.states(doc)
    assert states["guest:952"].root and not states["guest:952"].consequence
    assert states["guest:954"].consequence and not states["guest:954"].root
    svg = topology_svg.render(doc)
    assert 'fill="url(#hatch)"' in group(svg, "guest:954") and "ROOT CAUSE" not in group(svg, "guest:954")


@pytest.mark.parametrize("n", [1, 6, 20, 23])
def test_layout_keeps_every_guest_inside_and_apart(n: int) -> None:
    topo = {"gateway": 100, "guests": [{"id": 100 + i} for i in range(n + 1)]}
    lay = layout(topo)
    boxes = list(lay.guests.values())
    assert len(boxes) == n
    for b in boxes:
        assert b.x >= 0 and b.x + b.w <= topology_svg.WIDTH and b.y + b.h <= lay.height and b.w >= 100
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y, (a, b)


def test_matrix_counts_links_and_skip_reasons(inv: Any) -> None:
    doc = faulted(inv)
    layers, cells = review.matrix(doc)
    assert layers[:5] == ["host", "lxc", "gateway", "vllm", "firewall"]
    fw = cells[("firewall", "guest-951")]
    assert fw.outcome == "failed" and fw.counts["failed"] == 1 and fw.first == FW_FLAG
    assert cells[("firewall", "guest-952")].outcome == "passed"
    host = cells[("host", review.HOST_COLUMN)]
    assert host.counts == {"passed": 2, "skipped": 1} and "no x.schema.json next to x.json" in host.skips
    html = review.render_matrix(doc)
    cell = re.search(r'<td class="failed" id="m-firewall-guest-951"[^>]*>.*?</td>', html).group(0)
    assert f'href="#{anchor(FW_FLAG)}"' in cell and 'data-outcome="failed"' in cell
    assert "skipped (1): no x.schema.json next to x.json" in html
    assert all(f'id="m-guest-{ctid}"' in html for ctid in inv.containers)


@pytest.mark.parametrize(("case", "expected"), [("healthy", "conformant"), ("fault", "not-conformant"),
                                                 ("interrupted", "no-verdict"), ("empty", "no-verdict")])
def test_verdict_line(inv: Any, case: str, expected: str) -> None:
    doc = {"healthy": lambda: run_doc(inv, healthy_records(inv)), "fault": lambda: faulted(inv),
           "interrupted": lambda: run_doc(inv, healthy_records(inv), exitstatus=2),
           "empty": lambda: run_doc(inv, [], exitstatus=0)}[case]()
    css, line = review.verdict(doc)
    assert css == expected
    if case == "fault":
        assert line.startswith("NOT CONFORMANT: 1 root cause")
        top = review.block(doc, None)
        assert "<code>remediate/net0-firewall.sh 951</code>" in top and "[firewall]" in top


def test_changes_since_the_previous_run(inv: Any) -> None:
    healthy, fault = run_doc(inv, healthy_records(inv)), faulted(inv)
    assert "2 new failing" in review.changes(healthy, fault) and "test_net0_has_firewall_flag" in review.changes(healthy, fault)
    assert "2 fixed" in review.changes(fault, healthy)
    assert "No previous run" in review.changes(None, healthy)


def test_inject_puts_the_review_first_and_folds_the_rows() -> None:
    page = ('<html><body><h1 id="title">Phoenix conformance report</h1><p>generated</p><div id="environment-header"></div>'
            '<table id="results-table"></table><footer><div id="data-container"></div></footer></body></html>')
    out = review.inject(page, '<section id="review">R</section>', 3)
    assert out.index('id="review"') < out.index('<details id="rows">') < out.index("environment-header") < out.index("</details>") < out.index("<footer>")
    with pytest.raises(ValueError, match="pytest-html"):
        review.inject("<html><body>no report</body></html>", "x", 0)


def test_previous_run_is_the_older_history_dir_or_the_left_over_latest_json(tmp_path: Path) -> None:
    hist = tmp_path / "history"
    for stamp, n in (("20261201T000000Z", 1), ("20261202T000000Z", 2)):
        (hist / stamp).mkdir(parents=True)
        (hist / stamp / "latest.json").write_text(f'{{"tests": [], "n": {n}}}')
    assert review.previous_doc(hist / "20261202T000000Z")["n"] == 1
    assert review.previous_doc(hist / "20261201T000000Z") is None
    (tmp_path / "latest.json").write_text("not json")
    assert review.previous_doc(tmp_path) is None


def test_nightly_index_draws_the_newest_run_linking_into_its_report(inv: Any) -> None:
    from phoenix_verify.nightly import index_page
    from phoenix_verify.nightly.history import Run

    runs = [Run.from_doc("20261201T023000Z", run_doc(inv, healthy_records(inv))), Run.from_doc("20261202T023000Z", faulted(inv))]
    page = index_page.render(runs)
    svg = page[page.index("<svg"): page.index("</svg>")]
    assert 'data-outcome="failed"' in group(svg, "guest:951") and 'data-root="yes"' in group(svg, "fw:951")
    assert f'href="history/20261202T023000Z/latest.html#{anchor(FW_FLAG)}"' in svg
    assert 'href="history/20261202T023000Z/latest.html#m-guest-952"' in svg
    assert "No topology in this run" in index_page.render([Run.from_doc("20261201T023000Z", {"tests": [], "exitstatus": 0})])


def test_promotion_page_outlines_the_candidate(inv: Any, tmp_path: Path) -> None:
    from phoenix_verify.promotion import gate

    (tmp_path / "ct951-20261202T000000Z").mkdir()
    (tmp_path / "ct951-20261202T000000Z" / "latest.json").write_text(json.dumps(faulted(inv)))
    verdict = gate.Verdict(951, "vllm-granite-embed-r2", "ct920@pre-configured", "blocked", "1 failing check",
                           decided_at=1796169600.0, report="ct951-20261202T000000Z/latest.html")
    page = gate.write_record(verdict, tmp_path).with_suffix(".html").read_text()
    svg = page[page.index("<svg"): page.index("</svg>")]
    assert 'class="highlight"' in group(svg, "guest:951") and "promotion candidate" in group(svg, "guest:951")
    assert 'class="highlight"' not in group(svg, "guest:952")
    assert f'href="ct951-20261202T000000Z/latest.html#{anchor(FW_FLAG)}"' in svg
    assert "<svg" not in gate.render(json.loads(gate.write_record(verdict, tmp_path).read_text()))
