"""The probe log bench/ replays: silent without $PHOENIX_PROBE_LOG, one JSON line per probe with it, shell lines
logged exactly as the testinfra backend runs them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import testinfra

from phoenix_verify.access import probe_log


def test_nothing_is_written_without_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PHOENIX_PROBE_LOG", raising=False)
    probe_log.record("api", path="version")
    assert not probe_log.enabled() and list(tmp_path.iterdir()) == []


def test_shell_logs_the_command_line_the_backend_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log = tmp_path / "probes.jsonl"
    monkeypatch.setenv("PHOENIX_PROBE_LOG", str(log))
    out = probe_log.shell(testinfra.get_host("local://"), "echo %s", "it's quoted")
    probe_log.record("tls", address="198.18.0.153", hostname="phoenix.local", version="TLSv1", port=443)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert out.stdout == "it's quoted\n"
    assert lines[0] == {"kind": "sh", "command": "echo 'it'\"'\"'s quoted'"}
    assert lines[1]["kind"] == "tls" and lines[1]["version"] == "TLSv1"
