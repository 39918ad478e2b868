"""The pytest plugin end to end, through pytester: markers, selection, metadata, reports, summaries."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_FILE = '''
import pytest
from phoenix_verify.suite import params

@pytest.mark.lxc
@pytest.mark.remediate("net0-firewall.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.services(lambda ct: ct.firewall.enabled))
def test_firewall_flag_is_set(ct):
    assert ct.ctid != 951, "net0 of ct951 lacks firewall=1 (token PVEAPIToken=root@pam!x=SUPERSECRET123)"

@pytest.mark.host
@pytest.mark.remediate("subid.sh")
def test_host_level():
    pass
'''


@pytest.fixture
def suite(pytester: pytest.Pytester, lab_dir: Path) -> pytest.Pytester:
    shutil.copytree(lab_dir, pytester.path / "inv")
    (pytester.path / "phoenix.toml").write_text('[inventory]\nconfig_dir = "inv"\n')
    pytester.makepyfile(test_sample=TEST_FILE)
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\njunit_family = xunit1\n")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--report-dir", str(pytester.path / "reports"), *args)


def test_markers_are_listed(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest_subprocess("--markers").stdout.str()
    for name in ("host", "lxc", "gateway", "vllm", "firewall", "remediate(script, *args)", "ctid(N)", "static", "semantic", "gpu", "docker", "slow"):
        assert f"@pytest.mark.{name}:" in out


def test_marker_typo_fails_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n@pytest.mark.layr\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--strict-markers")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*'layr' not found in `markers` configuration option*"])


def test_ids_selection_and_failures_by_layer(suite: pytest.Pytester) -> None:
    result = run(suite, "-v")
    result.stdout.fnmatch_lines([
        "*test_firewall_flag_is_set?ct951-vllm-granite-embed-r2? FAILED*",
        "*phoenix: failures by layer*",
        "[[]lxc[]] 1 failing",
        "*fix: remediate/net0-firewall.sh 951",
    ])
    assert "SUPERSECRET123" not in result.stdout.str()
    assert run(suite, "-m", "lxc and ctid(951)").parseoutcomes() == {"failed": 1, "deselected": 6}
    assert run(suite, "--ctid", "950").parseoutcomes() == {"passed": 1, "deselected": 6}


def test_three_reports_carry_layer_ct_remediation(suite: pytest.Pytester) -> None:
    run(suite)
    reports = suite.path / "reports"
    doc = json.loads((reports / "latest.json").read_text())
    failed = [t for t in doc["tests"] if t["outcome"] == "failed"]
    assert failed == [{**failed[0], "layer": "lxc", "ctid": 951, "remediation": "remediate/net0-firewall.sh 951"}]
    assert "lacks firewall=1" in failed[0]["evidence"]
    assert doc["summary"]["passed"] >= 1 and "tests" in doc
    xml = (reports / "latest.xml").read_text()
    assert '<property name="remediation" value="remediate/net0-firewall.sh 951" />' in xml
    html = (reports / "latest.html").read_text()
    for header in ("Layer", "CT", "Remediation"):
        assert f'data-column-type="{header.lower()}">{header}</th>' in html
    for text in (xml, html, json.dumps(doc)):
        assert "SUPERSECRET123" not in text


def test_bad_inventory_is_one_line(suite: pytest.Pytester) -> None:
    (suite.path / "inv" / "phoenix_lxc_configs.json").write_text("{")
    result = run(suite)
    assert result.ret == 2
    assert "phoenix_lxc_configs.json: $: invalid JSON at line 1" in result.stdout.str() + result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_lab_not_running_stops_at_once(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_sample=TEST_FILE)
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    result = pytester.runpytest_subprocess("--report-dir", str(tmp_path))
    assert result.ret == 2
    assert "the lab is not running: run 'phoenix-lab up' (or 'make demo')" in result.stdout.str()
