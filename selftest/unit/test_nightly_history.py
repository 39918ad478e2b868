"""Nightly history: run dirs named by UTC stamp, retention, loading, and the diff between the two newest runs."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from phoenix_verify.nightly import history
from selftest.unit.nightly_docs import FW, GW, HEALTHY, run, write_run


def test_run_dirs_are_utc_stamps_and_never_collide(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 22, 49, 0, tzinfo=UTC)
    first, second = history.new_run_dir(tmp_path, now), history.new_run_dir(tmp_path, now)
    assert (first.name, second.name) == ("20261126T224900Z", "20261126T224900Z-2")
    later = history.new_run_dir(tmp_path, datetime(2026, 11, 26, 22, 49, 1, tzinfo=UTC))
    assert history.run_dirs(tmp_path) == [first, second, later]


def test_retention_deletes_the_oldest_beyond_keep_and_nothing_else(tmp_path: Path) -> None:
    stamps = [f"202611{day:02d}T023000Z" for day in range(1, 8)]
    for stamp in stamps:
        write_run(tmp_path, stamp, HEALTHY)
    (tmp_path / "notes").mkdir()
    deleted = history.prune(tmp_path, 3)
    assert [p.name for p in deleted] == stamps[:4]
    assert [p.name for p in history.run_dirs(tmp_path)] == stamps[4:]
    assert (tmp_path / "notes").is_dir()
    assert history.prune(tmp_path, 3) == []


def test_load_skips_runs_without_a_usable_report(tmp_path: Path) -> None:
    write_run(tmp_path, "20261101T023000Z", HEALTHY)
    (tmp_path / "20261102T023000Z").mkdir()
    (tmp_path / "20261103T023000Z").mkdir()
    (tmp_path / "20261103T023000Z" / "latest.json").write_text("{not json")
    runs, problems = history.load_runs(tmp_path)
    assert [r.stamp for r in runs] == ["20261101T023000Z"]
    assert [p.split(":")[0] for p in problems] == ["20261102T023000Z", "20261103T023000Z"]
    assert history.load_runs(tmp_path / "missing") == ([], [])


def test_a_teardown_error_after_a_passed_call_counts_once_as_error() -> None:
    r = run("20261101T023000Z", HEALTHY)
    nodeid = next(iter(HEALTHY))
    r.doc["tests"].append({**r.doc["tests"][0], "outcome": "error"})
    again = history.Run.from_doc(r.stamp, r.doc)
    assert again.tests[nodeid]["outcome"] == "error"
    assert again.totals == {"passed": 4, "error": 1}
    assert again.counts["host"] == {"error": 1}


def test_diff_new_fixed_and_still_failing_by_nodeid() -> None:
    extra = "tests/vllm/test_vllm_api.py::test_models[ct951-vllm-granite-embed-r2]"
    before = run("20261101T023000Z", {**HEALTHY, FW: ("firewall", "failed"), GW: ("gateway", "error"), extra: ("vllm", "failed")})
    after = run("20261102T023000Z", {**HEALTHY, FW: ("firewall", "failed"), GW: ("gateway", "passed"),
                                     "tests/lxc/test_idmap.py::test_root_is_mapped[ct951]": ("lxc", "failed")})
    d = history.diff(before, after)
    assert [r["nodeid"] for r in d.new] == ["tests/lxc/test_idmap.py::test_root_is_mapped[ct951]"]
    assert [r["nodeid"] for r in d.fixed] == [GW]  # `extra` did not run again: not claimed as fixed
    assert [r["nodeid"] for r in d.still] == [FW]
    assert history.diff(after, after).new == [] and history.diff(after, after).fixed == []


def test_layers_are_the_five_then_any_other_seen() -> None:
    static = run("20261101T023000Z", {**HEALTHY, "tests/static/test_x.py::test_y": ("static", "passed")})
    assert history.layers([static]) == ["host", "lxc", "gateway", "vllm", "firewall", "static"]
    assert history.layers([]) == list(history.BASE_LAYERS)
