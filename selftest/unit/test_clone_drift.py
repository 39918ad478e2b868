"""Clone vs template comparison: only declared differences pass; packages, the vLLM venv, units and identity config
must match; the facts script's output is parsed strictly; the verdict page escapes what it shows."""
from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_model.pve_formats import parse_ct_config
from phoenix_verify.promotion import clone_drift as cd
from phoenix_verify.promotion import gate as promote

FACTS = """pkg bash 5.2.15-2+b7
pkg nginx 1.22.1-9
venvpython 3.11.2
venvpkg numpy-2.4.6
venvpkg vllm-0.10.1.1
enabled getty.target
unitfile phoenix-extra.service 0123456789ab
end-of-facts
"""


@pytest.fixture(scope="module")
def inv(lab_dir: Path):
    return load_inventory(lab_dir)


def facts(text: str = FACTS) -> cd.RootfsFacts:
    return cd.parse_rootfs_facts(text, "test")


def test_parse_reads_every_kind() -> None:
    f = facts()
    assert f.packages == {"bash": "5.2.15-2+b7", "nginx": "1.22.1-9"} and f.venv_python == "3.11.2"
    assert f.venv_packages == {"numpy": "2.4.6", "vllm": "0.10.1.1"} and f.enabled_units == {"getty.target"}


@pytest.mark.parametrize("text", ["", "pkg bash 1\n", "end-of-facts\n"])
def test_truncated_or_empty_facts_cannot_decide(text: str) -> None:
    with pytest.raises(cd.DriftProbeError):
        facts(text)


def test_identical_rootfs_has_no_drift_and_the_role_unit_may_differ() -> None:
    clone = facts(FACTS + "enabled vllm_model_server.service\nunitfile vllm_model_server.service aaaaaaaaaaaa\n")
    result = cd.compare_rootfs(facts(), clone, "vllm_model_server.service")
    assert result.drift == [] and {d.item for d in result.allowed} == {"vllm_model_server.service enabled", "vllm_model_server.service"}


@pytest.mark.parametrize(("edit", "area", "item"), [
    (lambda t: t.replace("nginx 1.22.1-9", "nginx 1.22.1-10"), "packages", "nginx"),
    (lambda t: t.replace("pkg bash", "pkg less 590-2\npkg bash"), "packages", "less"),
    (lambda t: t.replace("vllm-0.10.1.1", "vllm-0.9.2"), "vllm-install", "vllm"),
    (lambda t: t.replace("3.11.2", "3.12.1"), "vllm-install", "/opt/vllm python"),
    (lambda t: t.replace("enabled getty.target", "enabled getty.target\nenabled nginx.service"), "units", "nginx.service enabled"),
])
def test_any_other_difference_is_drift(edit, area: str, item: str) -> None:
    result = cd.compare_rootfs(facts(), facts(edit(FACTS)), "vllm_model_server.service")
    assert [(d.area, d.item) for d in result.drift] == [(area, item)]


def test_config_identity_keys_must_match_unless_declared(inv) -> None:
    template, clone = inv.container(920), inv.container(950)
    base = "arch: amd64\nhostname: {h}\nmemory: {m}\nnet0: name=eth0,ip={ip}\nunprivileged: 1\nlxc.idmap: u 0 100000 65536\n"
    t_cfg = parse_ct_config(base.format(h="t", m=1024, ip="198.18.0.220/24"))
    c_cfg = parse_ct_config(base.format(h="c", m=2048, ip="198.18.0.150/24"))
    assert cd.compare_config(t_cfg, c_cfg, template, clone).drift == []
    drifted = parse_ct_config(base.format(h="c", m=2048, ip="x") + "lxc.apparmor.profile: unconfined\n")
    assert [d.item for d in cd.compare_config(t_cfg, drifted, template, clone).drift] == ["lxc.apparmor.profile"]
    other = dataclasses.replace(clone, pct_options=("nesting=1",))
    with_features = parse_ct_config(base.format(h="c", m=1, ip="x") + "features: nesting=1\n")
    assert cd.compare_config(t_cfg, with_features, template, other).drift == []   # declared in the inventory


def test_the_facts_script_reads_a_root_directory(tmp_path: Path) -> None:
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text("Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n"
                                                  "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n")
    site = tmp_path / "opt/vllm/lib/python3.11/site-packages/vllm-0.10.1.1.dist-info"
    site.mkdir(parents=True)
    (tmp_path / "opt/vllm/pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n")
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / "x.service").symlink_to("/etc/systemd/system/x.service")   # dangling outside the CT: still enabled
    out = subprocess.run(["/bin/sh", "-c", cd.script_for_root(str(tmp_path))], capture_output=True, text=True, check=True).stdout
    f = cd.parse_rootfs_facts(out, "tmp")
    assert f.packages == {"bash": "5.2"} and f.venv_python == "3.11.2" and f.venv_packages == {"vllm": "0.10.1.1"}
    assert f.enabled_units == {"x.service"}


def test_verdict_page_escapes_and_redacts() -> None:
    doc = {"ctid": 961, "name": "<b>x</b>", "template": "ct920@pre-configured", "verdict": "blocked", "reason": "r",
           "checks": {"failed": 1}, "report": "", "evidence": ["pct config 961"], "allowed": [],
           "failing": [{"nodeid": "t::x[<script>]", "layer": "lxc", "remediation": None, "evidence": "token=PVEAPIToken=root@pam!x=0b1c2d3e-1111-2222-3333-444455556666"}],
           "drift": [{"area": "config", "item": "lxc.apparmor.profile", "template": "absent", "clone": "unconfined"}]}
    page = promote.render(doc)
    assert "<b>x</b>" not in page and "<script>" not in page and "0b1c2d3e-1111" not in page
    assert "BLOCKED" in page and "lxc.apparmor.profile" in page
