"""Shared fixtures for the unit tests: the reference Phoenix config and the lab inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "fixtures" / "reference" / "phoenix-config"
LAB = REPO / "fixtures" / "lab"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not (REFERENCE / "phoenix_lxc_configs.json").is_file():
        pytest.skip(f"reference Phoenix config not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def lab_dir() -> Path:
    return LAB

# Collects the conformance suite (against the static lab target: no live system) in a child pytest and returns
# what the suite's markers declare for every test id, so unit tests speak of real ids, never invented ones.
COLLECT = """
import json, sys
import pytest
from phoenix_verify.suite import markers

class Grab:
    items = []
    def pytest_collection_finish(self, session):
        Grab.items = [{"nodeid": i.nodeid, "layer": markers.layer_of(i), "rung": markers.rung_of(i),
                       "declared_rung": i.get_closest_marker("rung") is not None,
                       "ctid": markers.ctid_of(i), "remediation": markers.remediation_of(i),
                       "fix": (lambda spec: {"script": spec[0], "args": list(spec[1])} if spec else None)(
                           markers.remediation_spec(i))} for i in session.items]

rc = pytest.main(["tests", "--collect-only", "-q", "-p", "no:randomly", "--target", sys.argv[1]], plugins=[Grab()])
sys.stdout.write("\\n@@ITEMS@@" + json.dumps(Grab.items))
sys.exit(int(rc))
"""


@pytest.fixture(scope="session")
def suite_items() -> dict[str, dict]:
    """nodeid -> {layer, rung, ctid, remediation} of every test in tests/, as collected."""
    import json
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", COLLECT, str(REPO / "fixtures" / "targets" / "lab-static.toml")],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "@@ITEMS@@" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {item["nodeid"]: item for item in json.loads(proc.stdout.split("@@ITEMS@@", 1)[1])}
