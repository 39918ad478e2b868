"""Synthetic nightly history for the test_nightly_* unit tests: latest.json documents shaped like the plugin's."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phoenix_verify.nightly.history import Run

# nodeid -> (layer, outcome); a healthy night of one test per layer
HEALTHY = {f"tests/{layer}/test_{layer}.py::test_ok[ct951-vllm-granite-embed-r2]": (layer, "passed")
           for layer in ("host", "lxc", "gateway", "vllm", "firewall")}
FW = "tests/firewall/test_ct_firewall.py::test_net0_firewall_flag[ct951-vllm-granite-embed-r2]"
GW = "tests/gateway/test_routes.py::test_route_answers[ct953-nginx-vscoderag-/qdrant]"
SECRET = "PVEAPIToken=root@pam!phoenix-verify=0f1e2d3c-aaaa-bbbb-cccc-123456789abc"


def doc(tests: dict[str, tuple[str, str]], started: float = 1795729829.5, duration: float = 42.25,
        root_causes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    records = [
        {"nodeid": nodeid, "outcome": outcome, "layer": layer, "ctid": 951, "duration": 0.01,
         "remediation": "remediate/ct-firewall.sh 951" if outcome != "passed" else None,
         "evidence": f"net0 has firewall=0 <b>&amp; {SECRET}\nsecond line" if outcome in ("failed", "error") else ""}
        for nodeid, (layer, outcome) in tests.items()
    ]
    summary: dict[str, int] = {}
    for rec in records:
        summary[rec["outcome"]] = summary.get(rec["outcome"], 0) + 1
    return {"started": started, "duration": duration, "exitstatus": 1 if "failed" in summary else 0,
            "target": {"Target": "/var/lib/phoenix-lab/target.toml", "Kind": "phoenix-lab"},
            "summary": summary, "tests": records, "root_causes": root_causes or []}


def run(stamp: str, tests: dict[str, tuple[str, str]], **kw: Any) -> Run:
    return Run.from_doc(stamp, doc(tests, **kw))


def write_run(history: Path, stamp: str, tests: dict[str, tuple[str, str]], **kw: Any) -> Path:
    path = history / stamp
    path.mkdir(parents=True)
    (path / "latest.json").write_text(json.dumps(doc(tests, **kw)))
    return path
