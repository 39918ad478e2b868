"""The promotion gate on the lab: `phoenix-lab clone 920 961` with a matching inventory entry, then
`phoenix-verify promote 961` promotes it; with a drift fault applied to the clone it is blocked and names the drift."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_lab.paths import LabPaths
from selftest.lab.conftest import REPO, lab

CLONE, TEMPLATE = 961, 920


def promote(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phoenix_verify.cli", "promote", *args], check=False, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def clone_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """The lab inventory plus ct961, a second chat vLLM cloned from 920; the clone is destroyed afterwards."""
    work = tmp_path_factory.mktemp("promotion")
    inventory = work / "inventory"
    shutil.copytree(REPO / "fixtures" / "lab", inventory)
    configs = json.loads((inventory / "phoenix_lxc_configs.json").read_text())
    entry = json.loads(json.dumps(configs["lxc_configs"]["950"]))
    entry.update(name="vllm-granite-chat-canary", mac_address="52:54:00:67:89:C1")
    entry["network_config"]["ip"] = "198.18.0.161/24"
    configs["lxc_configs"][str(CLONE)] = entry
    (inventory / "phoenix_lxc_configs.json").write_text(json.dumps(configs, indent=2))
    target = work / "target.toml"
    lab_target = LabPaths.default().target.read_text()
    target.write_text(lab_target.replace(f'config_dir = "{REPO / "fixtures" / "lab"}"', f'config_dir = "{inventory}"'))
    env = dict(os.environ, PHOENIX_LAB_INVENTORY=str(inventory))
    made = lab("clone", str(TEMPLATE), str(CLONE), env=env)
    assert made.returncode == 0, made.stderr
    try:
        yield {**env, "PHOENIX_TARGET": str(target)}, work / "promotions"
    finally:
        for step in (["stop", str(CLONE)], ["destroy", str(CLONE)]):
            lab("run", "--", "pct", *step, timeout=120, env=env)


def verdict(reports: Path) -> dict:
    return json.loads(max(reports.glob(f"ct{CLONE}-*.json")).read_text())


def test_fresh_clone_is_promoted(clone_lab) -> None:
    env, reports = clone_lab
    result = promote(str(CLONE), "--reports", str(reports), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = verdict(reports)
    assert doc["verdict"] == "promote" and doc["drift"] == [] and doc["failing"] == []
    assert doc["checks"]["passed"] > 10
    assert any(a["item"].startswith("vllm_model_server.service") for a in doc["allowed"])   # the model args live there
    page = (reports / f"{max(reports.glob(f'ct{CLONE}-*.json')).stem}.html").read_text()
    assert page.count("PROMOTE") >= 1
    candidate = re.search(rf'<g id="obj-guest-{CLONE}"[^>]*data-outcome="passed"[^>]*>.*?</g>', page, re.DOTALL)
    assert candidate and 'class="highlight"' in candidate.group(0), "the candidate is not outlined in the picture"


@pytest.mark.parametrize(("fault", "named"), [("clone-unit-drift", "units: nginx.service enabled"),
                                              ("clone-apparmor-drift", "config: lxc.apparmor.profile")])
def test_drift_blocks_promotion_and_is_named(clone_lab, fault: str, named: str) -> None:
    env, reports = clone_lab
    applied = lab("fault", "apply", fault, "--ct", str(CLONE), timeout=120, env=env)
    assert applied.returncode == 0, applied.stderr
    try:
        result = promote(str(CLONE), "--reports", str(reports), env=env)
    finally:
        lab("fault", "clear", fault, timeout=120, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"drift {named}" in result.stdout
    assert verdict(reports)["verdict"] == "blocked"


def test_unknown_ct_is_undecided_with_one_line(clone_lab) -> None:
    env, reports = clone_lab
    result = promote("9999", "--reports", str(reports), env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "lxc_configs.9999: not declared" in result.stderr
