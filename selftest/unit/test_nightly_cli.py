"""`phoenix-verify nightly`: history + index + textfile from a run, --index-only, and one-line exit 2 on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_verify.cli import main
from phoenix_verify.nightly import cli as nightly_cli
from selftest.unit.nightly_docs import FW, HEALTHY, doc, write_run

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "fixtures" / "targets" / "lab-static.toml"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "nightly", *args],
                          check=False, capture_output=True, text=True, timeout=120, cwd=REPO)


def test_index_only_rebuilds_index_and_textfile_from_history(tmp_path: Path, capsys) -> None:
    write_run(tmp_path / "history", "20261125T023000Z", HEALTHY)
    write_run(tmp_path / "history", "20261126T023000Z", {**HEALTHY, FW: ("firewall", "failed")})
    textfile = tmp_path / "textfile" / "phoenix.prom"
    textfile.parent.mkdir()
    assert main(["nightly", "--index-only", "--reports", str(tmp_path), "--textfile", str(textfile)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert FW in page.split("<h3>New failures (1)</h3>")[1]
    assert 'phoenix_conformance_tests{layer="firewall",outcome="failed"} 1' in textfile.read_text()
    assert "2 kept runs (newest 20261126T023000Z)" in capsys.readouterr().out


def test_a_failing_night_is_kept_indexed_pruned_and_exits_1(tmp_path: Path, monkeypatch) -> None:
    calls: list[tuple[Path, list[str]]] = []

    def fake_suite(target: Path, run_dir: Path, pytest_args: list[str]) -> int:
        calls.append((target, pytest_args))
        (run_dir / "latest.json").write_text(json.dumps(doc({**HEALTHY, FW: ("firewall", "failed")})))
        return 1

    monkeypatch.setattr(nightly_cli, "run_suite", fake_suite)
    for day in range(1, 4):
        write_run(tmp_path / "history", f"202001{day:02d}T023000Z", HEALTHY)
    assert main(["nightly", "--target", str(STATIC), "--reports", str(tmp_path), "--keep", "2", "--", "-m", "static"]) == 1
    assert calls == [(STATIC, ["-m", "static"])]
    kept = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert len(kept) == 2 and kept[0] == "20200103T023000Z"
    assert FW in (tmp_path / "index.html").read_text()
    assert 'outcome="failed"} 1' in (tmp_path / "phoenix_conformance.prom").read_text()


def test_a_pytest_that_writes_no_report_leaves_no_run_and_keeps_its_status(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(nightly_cli, "run_suite", lambda target, run_dir, args: 4)
    assert main(["nightly", "--target", str(STATIC), "--reports", str(tmp_path)]) == 4
    assert list((tmp_path / "history").iterdir()) == []
    assert "pytest exited 4 without writing" in capsys.readouterr().err
    assert "No runs yet" in (tmp_path / "index.html").read_text()
    assert not (tmp_path / "phoenix_conformance.prom").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "/nonexistent/phoenix.toml"], "phoenix-verify: /nonexistent/phoenix.toml: target config not found"),
    (["--keep", "0", "--target", str(STATIC)], "phoenix-verify: --keep 0: keep at least one run"),
    (["--index-only"], "no history to index"),
    (["--target", str(STATIC), "--textfile", "/nonexistent/dir/x.prom"], "phoenix-verify: /nonexistent/dir: not a directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _cli("--reports", str(tmp_path / "reports"), *args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "reports" / "history").exists()


def test_a_real_static_night_end_to_end(tmp_path: Path) -> None:
    """The real subprocess: pytest writes the three reports into the run dir, the overview follows."""
    proc = _cli("--reports", str(tmp_path), "--target", str(STATIC), "--", "-m", "static", "-k", "idmap or firewall")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (run_dir,) = (tmp_path / "history").iterdir()
    assert sorted(p.name for p in run_dir.iterdir()) == ["latest.html", "latest.json", "latest.xml"]
    assert json.loads((run_dir / "latest.json").read_text())["summary"].get("passed", 0) > 0
    assert f'href="history/{run_dir.name}/latest.html"' in (tmp_path / "index.html").read_text()
    assert "phoenix_conformance_duration_seconds" in (tmp_path / "phoenix_conformance.prom").read_text()
