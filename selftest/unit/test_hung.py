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
