"""The three reports beyond the basics in test_plugin.py: target facts, extra JSON keys (add_section), redaction of
extras and recorded properties, short evidence, and the stop-at-once when a conformance run has no target."""
from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from phoenix_verify import locations

TEST_FILE = '''
import pytest
import pytest_html

@pytest.mark.gateway
@pytest.mark.remediate("gateway-cert.sh")
def test_with_secrets(extras, record_property):
    extras.append(pytest_html.extras.text("Authorization: Bearer EXTRASECRET4567"))
    record_property("probe", "https://admin:PROPSECRET999@198.18.0.13:8006/")
    print("Cookie: PVEAuthCookie=PRINTSECRET42")
    assert False, "certificate expires in 3 days"
'''
CONFTEST = '''
from phoenix_verify.suite import reports

reports.add_section("failed_nodeids", lambda config, records: [r["nodeid"] for r in records if r["outcome"] == "failed"])
'''
SECRETS = ("EXTRASECRET4567", "PROPSECRET999", "PRINTSECRET42")


@pytest.fixture
def suite(pytester: pytest.Pytester, lab_dir: Path) -> pytest.Pytester:
    shutil.copytree(lab_dir, pytester.path / "inv")
    (pytester.path / "phoenix.toml").write_text('[inventory]\nconfig_dir = "inv"\n')
    pytester.makepyfile(test_sample=TEST_FILE)
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\njunit_family = xunit1\n")
    return pytester


def test_reports_carry_facts_sections_and_no_secrets(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("--report-dir", str(suite.path / "reports"), "-rA")
    assert result.parseoutcomes() == {"failed": 1}
    reports = suite.path / "reports"
    doc = json.loads((reports / "latest.json").read_text())
    assert doc["failed_nodeids"] == ["test_sample.py::test_with_secrets"]
    assert doc["target"]["Kind"] == "declared config only (static checks)"
    assert doc["tests"][0]["evidence"].startswith("AssertionError: certificate expires in 3 days")
    html = (reports / "latest.html").read_text()
    assert "&#34;Kind&#34;: &#34;declared config only (static checks)&#34;" in html
    assert "***REDACTED***" in html
    attachments = [base64.b64decode(b).decode() for b in re.findall(r"data:[^,\"]*;base64,([A-Za-z0-9+/=]+)", html)]
    assert any("Bearer ***REDACTED***" in a for a in attachments)
    outputs = [result.stdout.str(), html, *attachments, (reports / "latest.xml").read_text(), json.dumps(doc)]
    for secret in SECRETS:
        for text in outputs:
            assert secret not in text


def test_another_projects_layer_folder_is_left_alone(pytester: pytest.Pytester, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin is installed for every pytest run: a project that merely has a `gateway/` folder is not the suite."""
    pytester.mkdir("gateway")
    (pytester.path / "gateway" / "test_gw.py").write_text("def test_gw():\n    pass\n")
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    result = pytester.runpytest_subprocess("--report-dir", str(tmp_path / "reports"))
    assert result.ret == 0, result.stdout.str()
    assert "lab is not running" not in result.stdout.str() and not (tmp_path / "reports").exists()


def test_the_suite_stops_when_lab_is_down(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    result = pytester.runpytest_subprocess(str(locations.suite_dir() / "host"), "--import-mode=importlib",
                                           "--report-dir", str(tmp_path / "reports"))
    assert result.ret == 2
    assert "the lab is not running: run 'phoenix-lab up' (or 'make demo')" in result.stdout.str() + result.stderr.str()
    assert "passed" not in result.stdout.str() and "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unit_tests_without_layers_need_no_target(pytester: pytest.Pytester, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    assert pytester.runpytest_subprocess("--report-dir", str(tmp_path / "reports")).parseoutcomes() == {"passed": 1}


def test_environment_redact_list_hides_secrets_but_not_the_token_id() -> None:
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["environment_table_redact_list"]
    hidden = {key for key in ("API token id", "HF_TOKEN", "PHOENIX_PVE_TOKEN", "token_secret", "DB_PASSWORD") if any(re.match(p, key) for p in patterns)}
    assert hidden == {"HF_TOKEN", "PHOENIX_PVE_TOKEN", "token_secret", "DB_PASSWORD"}
