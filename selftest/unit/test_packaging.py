"""The installed layout: pytest settings shipped with the suite, `phoenix-verify check` arguments, the space form of
`--target` with a path outside the checkout, and the structured-fix runner refusing anything but remediate/ scripts."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from phoenix_verify import locations
from phoenix_verify.remediation import runner
from phoenix_verify.suite.check import pytest_args

REPO = Path(__file__).resolve().parents[2]


def test_shipped_pytest_ini_matches_pyproject() -> None:
    toml = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(locations.pytest_ini())
    shipped = {k: v.strip() for k, v in ini["pytest"].items()}
    for key, value in toml.items():
        if key == "testpaths":
            continue
        want = "\n".join(value) if isinstance(value, list) else str(value)
        assert shipped.pop(key) == want, key
    assert shipped == {}


def test_check_runs_the_suite_with_its_own_settings() -> None:
    args = pytest_args(["--target", "x.toml", "-m", "gateway"])
    assert args[:4] == ["-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO)]
    assert args[4:] == ["--target", "x.toml", "-m", "gateway", str(REPO / "tests")]
    assert pytest_args(["tests/lxc/test_idmap.py::test_x"])[-1] == str(REPO / "tests/lxc/test_idmap.py::test_x")


def test_target_space_form_outside_the_checkout_runs_the_suite(tmp_path: Path) -> None:
    """`pytest --target /elsewhere/phoenix.toml`: the path is not taken for a test path (no selftest/ collected)."""
    where = tmp_path / "etc dir"
    shutil.copytree(REPO / "fixtures" / "lab", where / "inv")
    (where / "phoenix.toml").write_text('[inventory]\nconfig_dir = "inv"\n')
    proc = subprocess.run([sys.executable, "-m", "pytest", "--target", str(where / "phoenix.toml"), "-m", "static", "--co", "-q"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "tests/host/test_static_host.py::" in proc.stdout and "selftest/" not in proc.stdout


@pytest.mark.parametrize("fix", [
    "remediate/net0-firewall.sh 951",                       # a rendered command line is not a fix
    {"script": "../../bin/sh", "args": []},
    {"script": "rm", "args": ["-rf", "/"]},
    {"script": "lib.sh", "args": []},
    {"script": "net0-firewall.sh", "args": ["951; reboot"]},
    {"script": "net0-firewall.sh", "args": ["--apply"]},
    {"script": "net0-firewall.sh", "args": "951"},
])
def test_runner_refuses_anything_but_a_script_with_plain_arguments(fix: object) -> None:
    with pytest.raises(runner.UnsafeFix):
        runner.command(fix, apply=True, allow_disruptive=False)


def test_runner_builds_the_script_command() -> None:
    cmd = runner.command({"script": "idmap.sh", "args": ["951"]}, apply=True, allow_disruptive=True)
    assert cmd == ["bash", str(REPO / "remediate" / "idmap.sh"), "951", "--apply", "--allow-disruptive"]
    assert runner.command({"script": "idmap.sh", "args": ["951"]}, apply=False, allow_disruptive=True)[-1] == "951"
