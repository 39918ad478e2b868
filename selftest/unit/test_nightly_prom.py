"""The Prometheus textfile: valid exposition format (parsed by prometheus_client), right values, atomic write."""
from __future__ import annotations

import stat
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from phoenix_verify.nightly import history, prom_textfile
from selftest.unit.nightly_docs import FW, GW, HEALTHY, run


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_textfile_parses_and_has_the_newest_runs_values() -> None:
    newest = run("20261126T023000Z", {**HEALTHY, FW: ("firewall", "failed"), GW: ("gateway", "error"),
                                      "tests/static/test_s.py::test_t": ("static", "skipped")},
                 started=1795729800.0, duration=61.5,
                 root_causes=[{"layer": "firewall"}, {"layer": "firewall"}, {"layer": "gateway"}])
    text = prom_textfile.render(newest, history.layers([newest]))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {f"phoenix_conformance_{n}" for n in ("tests", "last_run_timestamp_seconds", "duration_seconds", "exit_status", "root_causes")}
    assert all(f.type == "gauge" and f.documentation for f in families.values())
    values = _samples(text)
    assert values[("phoenix_conformance_tests", (("layer", "firewall"), ("outcome", "failed")))] == 1
    assert values[("phoenix_conformance_tests", (("layer", "firewall"), ("outcome", "passed")))] == 1
    assert values[("phoenix_conformance_tests", (("layer", "gateway"), ("outcome", "error")))] == 1
    assert values[("phoenix_conformance_tests", (("layer", "static"), ("outcome", "skipped")))] == 1
    assert values[("phoenix_conformance_tests", (("layer", "vllm"), ("outcome", "failed")))] == 0
    assert len([k for k in values if k[0] == "phoenix_conformance_tests"]) == 6 * 4
    assert values[("phoenix_conformance_last_run_timestamp_seconds", ())] == 1795729861.5
    assert values[("phoenix_conformance_duration_seconds", ())] == 61.5
    assert values[("phoenix_conformance_exit_status", ())] == 1
    assert values[("phoenix_conformance_root_causes", (("layer", "firewall"),))] == 2
    assert values[("phoenix_conformance_root_causes", (("layer", "gateway"),))] == 1
    assert values[("phoenix_conformance_root_causes", (("layer", "host"),))] == 0
    assert "# HELP phoenix_conformance_tests " in text and "# TYPE phoenix_conformance_tests gauge" in text


def test_label_values_are_escaped() -> None:
    odd = 'we"ird\\layer\nx'
    text = prom_textfile.render(run("20261126T023000Z", {"t::a": (odd, "failed")}), [odd])
    assert _samples(text)[("phoenix_conformance_tests", (("layer", odd), ("outcome", "failed")))] == 1


def test_write_is_atomic_and_world_readable(tmp_path: Path) -> None:
    target = tmp_path / "phoenix_conformance.prom"
    target.write_text("old\n")
    prom_textfile.write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
