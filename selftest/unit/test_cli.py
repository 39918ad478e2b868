"""`phoenix-verify inventory`: table, JSON, and one-line errors with a non-zero exit."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phoenix_verify.cli import main


def test_json_lists_all_reference_containers(reference_dir: Path, capsys) -> None:
    assert main(["inventory", "--config-dir", str(reference_dir), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["containers"]) == 15
    assert doc["containers"]["950"]["features"] == ["base_setup", "nvidia", "vllm"]
    assert len(doc["containers"]["953"]["shared_mounts"]) == 3
    assert doc["containers"]["951"]["network"]["ip"] == "10.0.0.151/24"


def test_table_has_a_row_per_container(lab_dir: Path, capsys) -> None:
    assert main(["inventory", "--config-dir", str(lab_dir)]) == 0
    out = capsys.readouterr().out
    assert "953   Nginx-VscodeRag" in out and "198.18.0.151/24" in out


def test_malformed_config_is_one_line_exit_2(tmp_path: Path, lab_dir: Path) -> None:
    for f in lab_dir.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "phoenix_lxc_configs.json").write_text('{"lxc_configs": {"95x": {}')
    proc = subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "inventory", "--config-dir", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("phoenix-verify: phoenix_lxc_configs.json: $: invalid JSON at line 1 column 27: "
                                   "Expecting ',' delimiter")
    assert proc.stdout == ""


def test_readable_but_wrong_config_loads_with_findings(tmp_path: Path, lab_dir: Path) -> None:
    """Only unreadable input stops the loader; a bad CTID is a finding and the rest is listed."""
    for f in lab_dir.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "phoenix_lxc_configs.json").write_text('{"lxc_configs": {"95x": {}}}')
    proc = subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "inventory", "--config-dir", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "finding: phoenix_lxc_configs.json: lxc_configs.95x: '95x' is not a CTID (an integer 100..999999999)" in proc.stderr


def test_subcommand_errors_are_one_line_exit_2(monkeypatch, capsys, tmp_path: Path) -> None:
    """cli.main turns the project's error types from any subcommand into one line and exit 2."""
    import types

    from phoenix_verify import cli
    from phoenix_verify.target import load_target

    fake = types.ModuleType("phoenix_verify_fake_cli")
    fake.register = lambda sub: sub.add_parser("fake").set_defaults(func=lambda args: load_target(tmp_path / "none.toml"))
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", (fake.__name__,))
    assert cli.main(["fake"]) == 2
    assert capsys.readouterr().err == f"phoenix-verify: {tmp_path / 'none.toml'}: target config not found\n"
