"""`pytest -m static` on the real later-generation Phoenix config: it collects, fails with the config's own
schema violations and its plaintext credential as findings, and the credential's value is in no output."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "fixtures" / "targets" / "phoenix-0385ea2-static.toml"
LATER = REPO / "fixtures" / "reference" / "phoenix-config-0385ea2"


def test_static_run_reports_findings_without_the_credential(tmp_path: Path) -> None:
    if not (LATER / "phoenix_hypervisor_config.json").is_file():
        pytest.skip(f"{LATER} not found")
    secret = json.loads((LATER / "phoenix_hypervisor_config.json").read_text())["portainer_api"]["admin_password"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests", "-m", "static", "--target", str(TARGET), "-p",
                           "no:cacheprovider", "--report-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-2000:]
    assert "error" not in out.lower().split("short test summary")[0].split("collected")[0], out[:2000]   # no collection error
    assert "portainer_api.admin_password: plaintext credential (value not shown)" in out
    assert "lxc_configs.101.features.2: not one of" in out            # a schema violation of the real file
    reports = [p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file()]
    assert reports and all(secret not in text for text in [out, *reports])
