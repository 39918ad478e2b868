"""A client none of us wrote against the lab's Proxmox API (issue 15 item 6): prometheus-pve-exporter, installed
from PyPI into a scratch venv, scrapes the lab with every cluster and node collector; the scrape must answer 200
with each collector's metric families and no `501 Not Implemented` in the exporter's log."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_lab.paths import NETNS, LabPaths
from phoenix_verify.target import load_target

PATHS = LabPaths.default()
PORT = 9221  # the exporter's default port, on the loopback of the lab's host netns
IN_LAB = ["nsenter", f"--net=/run/netns/{NETNS}"]
# One family per collector that yields on a standalone node (ClusterInfo and QDevice yield nothing without a
# cluster: they answer by emitting no family, which a 200 scrape proves).
FAMILIES = {"status": "pve_up", "node": "pve_node_info", "version": "pve_version_info",
            "resources": "pve_guest_info", "backup-info": "pve_not_backed_up_total", "config": "pve_onboot_status",
            "replication": "pve_replication_info", "subscription": "pve_subscription_info"}


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    scratch = tmp_path_factory.mktemp("pve-exporter")
    subprocess.run([sys.executable, "-m", "venv", str(scratch / "venv")], check=True, timeout=120)
    pip = subprocess.run([str(scratch / "venv/bin/pip"), "install", "-q", "--disable-pip-version-check",
                          "prometheus-pve-exporter"], check=False, capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-800:]
    target = load_target(PATHS.target)
    assert target.token_id and target.api_url, "the lab target names its API and token"
    user, token_name = target.token_id.split("!")
    secret = target.token_secret()
    config = scratch / "pve.yml"
    config.write_text(f"default:\n  user: {user}\n  token_name: {token_name}\n  token_value: {secret}\n"
                      f"  verify_ssl: {target.api_ca_bundle}\n")
    config.chmod(0o600)
    log = scratch / "exporter.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*IN_LAB, str(scratch / "venv/bin/pve_exporter"), "--config.file", str(config),
                                 "--web.listen-address", f"127.0.0.1:{PORT}"], stdout=out, stderr=out)
    try:
        for _ in range(100):
            if subprocess.run([*IN_LAB, "ss", "-tlnH", f"sport = :{PORT}"], check=False, capture_output=True, text=True, timeout=10).stdout.strip():
                break
            time.sleep(0.2)
        yield target.api_url.split("//")[1].split(":")[0], log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_every_collector_answers(exporter: tuple[str, Path]) -> None:
    host, log = exporter
    url = f"http://127.0.0.1:{PORT}/pve?target={host}&cluster=1&node=1"
    proc = subprocess.run([*IN_LAB, "curl", "-s", "--max-time", "60", "-w", "\n%{http_code}", url],
                          check=False, capture_output=True, text=True, timeout=90)
    body, _, code = proc.stdout.rpartition("\n")
    errors = [line for line in log.read_text(errors="replace").splitlines() if "Error" in line or "501" in line]
    assert code == "200", f"scrape answered {code}; exporter log: {errors[-5:]}"
    missing = {name: family for name, family in FAMILIES.items() if f"# TYPE {family} " not in body}
    assert not missing, f"collectors without their metrics: {missing}"
    assert "501" not in log.read_text(errors="replace")
    assert 'pve_up{id="node/pve"} 1.0' in body
