"""A hung service is found by its first timeout; its other vllm/gateway checks then fail at once, naming it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TESTS = '''
import time
import httpx
import pytest

pytestmark = pytest.mark.ctid(951, n=951)

@pytest.mark.vllm
def test_first_probe_times_out():
    raise httpx.ReadTimeout("timed out")

@pytest.mark.vllm
def test_second_check_of_the_same_service():
    time.sleep(30)

@pytest.mark.lxc
def test_config_of_the_ct_is_still_read():
    pass

@pytest.mark.vllm
@pytest.mark.ctid(950, n=950)
def test_another_service_is_asked():
    pass
'''


def test_hung_service_fails_fast_and_is_named(pytester: pytest.Pytester, lab_dir: Path) -> None:
    shutil.copytree(lab_dir, pytester.path / "inv")
    (pytester.path / "phoenix.toml").write_text('[inventory]\nconfig_dir = "inv"\n')
    pytester.makepyfile(test_hung_sample=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--no-phoenix-reports", "-v", "--durations=0")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*test_second_check_of_the_same_service FAILED*",
                                 "*ct951 is hung: test_first_probe_times_out timed out (ReadTimeout); not asked again*"])
    assert "30.0" not in result.stdout.str()


def test_liveness_probe_marks_a_silent_vllm_hung_once(lab_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The short /health probe inside the CT: a timeout marks the CT hung (asked once per session)."""
    from phoenix_model.inventory import load_inventory
    from phoenix_verify.access import http
    from phoenix_verify.suite import hung, live, params

    ct = load_inventory(lab_dir).container(951)
    calls: list[float] = []

    def silent(ctid: int, access: str, method: str, port: int, path: str, body: object = None, timeout: float = 10.0,
               scheme: str = "http") -> None:
        calls.append(timeout)
        raise TimeoutError(f"ct{ctid}: {method} {path} got no answer within {int(timeout)}s inside the CT")

    monkeypatch.setattr(http, "direct_request", silent)
    monkeypatch.setattr(params, "target", lambda: type("T", (), {"pct": "local"})())
    hung.reset()
    live._probe_liveness.cache_clear()
    live.responsive(ct)
    live.responsive(ct)
    assert calls == [live.LIVENESS_TIMEOUT_S]
    assert hung.reason(951) == "ct951: GET /health got no answer within 3s inside the CT"
    with pytest.raises(pytest.fail.Exception, match="ct951 is hung: .*; not asked again"):
        hung.fail_if_hung(951, "vllm")
    hung.fail_if_hung(951, "lxc")   # the CT's config and units are still read
    hung.reset()
