"""The pct:// testinfra backend against a fake `pct` on PATH: command shape, errors, registry, stats."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import testinfra

from phoenix_verify.access import pct_backend
from phoenix_verify.access.pct_backend import PctBackend, PctError, parse_spec, pct_host, spec_for
from phoenix_verify.suite import stats

FAKE_PCT = """#!/bin/sh
# fake pct: `pct exec <id> -- /bin/sh -c CMD`; CT 404 does not exist (rc 255 like pct)
echo "$*" >> "$PCT_LOG"
[ "$1" = exec ] || exit 2
[ "$2" = 404 ] && { echo "Configuration file 'nodes/pve/lxc/404.conf' does not exist" >&2; exit 255; }
shift 3
exec "$@"
"""


@pytest.fixture()
def fake_pct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pct = tmp_path / "pct"
    pct.write_text(FAKE_PCT)
    pct.chmod(0o755)
    log = tmp_path / "log"
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("PCT_LOG", str(log))
    stats.reset()
    pct_host.cache_clear()
    return log


def test_runs_command_through_pct_exec(fake_pct: Path) -> None:
    out = pct_host("pct://951").run("echo %s; exit 3", "it's quoted")
    assert (out.rc, out.stdout) == (3, "it's quoted\n")
    assert fake_pct.read_text().startswith("exec 951 -- /bin/sh -c ")


def test_counts_each_exec_per_ct(fake_pct: Path) -> None:
    host = pct_host("pct://951")
    host.run("true")
    host.run("true")
    assert stats.by_kind()["pct exec"] == {"951": 2}


def test_rc_255_is_a_pct_error_naming_the_ct(fake_pct: Path) -> None:
    with pytest.raises(PctError, match=r"^ct404: pct exec failed: Configuration file .*404.conf' does not exist$"):
        pct_host("pct://404").run("true")


def test_registered_in_testinfra_backends(fake_pct: Path) -> None:
    host = testinfra.get_host("pct://951")
    assert isinstance(host.backend, PctBackend)
    assert host.backend.get_pytest_id() == "pct://951"
    assert host.run("hostname").rc == 0


def test_registry_form_with_container_key_goes_through_ssh() -> None:
    backend = testinfra.get_host("pct://root@pve?container=951").backend
    assert (backend.vmid, backend.ssh.host.name, backend.ssh.host.user) == ("951", "pve", "root")


def test_parse_spec_keeps_the_host_query_that_testinfra_would_drop() -> None:
    assert parse_spec("pct://951?host=ssh://root@pve") == ("951", "ssh://root@pve")
    assert spec_for(951, "ssh://root@pve") == "pct://951?host=ssh://root@pve"
    assert spec_for(951, "local") == "pct://951"


@pytest.mark.parametrize("spec", ["pct://95x", "pct://1", "pct://951?host=http://x", "lxc://951"])
def test_bad_specs_are_one_line_errors(spec: str) -> None:
    with pytest.raises(PctError, match=r"^\S+: "):
        parse_spec(spec)


def test_ssh_transport_uses_testinfra_ssh_command(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    backend = PctBackend("951", via="ssh://root@pve")
    monkeypatch.setattr(backend, "run_local", lambda cmd, *args: seen.append(backend.quote(cmd, *args)) or backend.result(0, cmd, b"", b""))
    backend.run("id -u")
    assert seen[0].startswith("ssh ") and "-o User=root" in seen[0] and "pve" in seen[0]
    assert "pct exec 951 -- /bin/sh -c" in seen[0]


def test_module_registers_once() -> None:
    pct_backend.register()
    assert testinfra.backend.BACKENDS["pct"] == "phoenix_verify.access.pct_backend.PctBackend"
