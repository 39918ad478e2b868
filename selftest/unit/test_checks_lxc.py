"""lxc comparison logic on the lab inventory against hand-written `pct config` outputs."""
from __future__ import annotations

import dataclasses

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_model.pve_formats import parse_ct_config
from phoenix_verify.access.ct_facts import CtFacts, Process
from phoenix_verify.checks import lxc, vllm_process

GOOD_951 = """arch: amd64
cores: 1
hostname: vllm-granite-embed-r2
memory: 1024
mp0: /var/lib/phoenix-lab/shared/vllm_models,mp=/vllm_models
net0: name=eth0,bridge=vmbr0,firewall=1,gw=198.18.0.1,hwaddr=52:54:00:67:89:B1,ip=198.18.0.151/24,type=veth
onboot: 1
startup: down=1,order=3,up=1
unprivileged: 1
lxc.apparmor.profile: lxc-container-default-with-mounting-phoenix
lxc.idmap: u 0 100000 65536
lxc.idmap: g 0 100000 65536
lxc.mount.entry: /dev/nvidiactl dev/nvidiactl none bind,optional,create=file
lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file
lxc.cgroup2.devices.allow: c 195:* rwm
"""


@pytest.fixture(scope="module")
def ct951(lab_dir):
    return load_inventory(lab_dir).container(951)


@pytest.mark.parametrize("check", [lxc.net0, lxc.fixed_at_creation, lxc.idmap_config, lxc.apparmor, lxc.features, lxc.gpu_lines,
                                   lxc.undeclared_mounts, lxc.startup_order])
def test_conforming_config_has_no_problems(ct951, check) -> None:
    assert check(ct951, parse_ct_config(GOOD_951)) == []


def test_net0_names_the_field_and_both_values(ct951) -> None:
    cfg = parse_ct_config(GOOD_951.replace("hwaddr=52:54:00:67:89:B1", "hwaddr=52:54:00:67:89:FF"))
    assert lxc.net0(ct951, cfg) == ["ct951 net0 hwaddr: expected '52:54:00:67:89:B1', found '52:54:00:67:89:FF'"]


def test_missing_idmap_lines_and_privileged_are_reported(ct951) -> None:
    text = GOOD_951.replace("unprivileged: 1\n", "").replace("lxc.idmap: g 0 100000 65536\n", "")
    assert lxc.fixed_at_creation(ct951, parse_ct_config(text)) == ["ct951 unprivileged: expected 1, found 0"]
    assert any("lxc.idmap lines" in p for p in lxc.idmap_config(ct951, parse_ct_config(text)))


def test_undeclared_mount_is_named(ct951) -> None:
    text = GOOD_951 + "mp1: /var/lib/phoenix-lab/shared/ssl,mp=/certs\n"
    assert lxc.undeclared_mounts(ct951, parse_ct_config(text)) == [
        "ct951: mount /certs (/var/lib/phoenix-lab/shared/ssl) is not declared for this CT"]


def test_missing_mount_and_wrong_host_path(ct951) -> None:
    no_mp = parse_ct_config(GOOD_951.replace("mp0: /var/lib/phoenix-lab/shared/vllm_models,mp=/vllm_models\n", ""))
    assert lxc.mount_in_config(ct951, no_mp, "/vllm_models", "/var/lib/phoenix-lab/shared/vllm_models") == [
        "ct951: no mpN with mp=/vllm_models in the config"]
    moved = parse_ct_config(GOOD_951.replace("shared/vllm_models,", "shared/other,"))
    assert "host path" in lxc.mount_in_config(ct951, moved, "/vllm_models", "/var/lib/phoenix-lab/shared/vllm_models")[0]


def test_gpu_lines_must_equal_assignment(ct951) -> None:
    cfg = parse_ct_config(GOOD_951 + "lxc.mount.entry: /dev/nvidia1 dev/nvidia1 none bind,optional,create=file\n")
    assert lxc.gpu_lines(ct951, cfg) == ["ct951 GPU device lines (/dev/nvidiaN): expected [0], found [0, 1]"]


def test_status_follows_start_at_boot(ct951) -> None:
    assert lxc.status(ct951, "running") == []
    assert lxc.status(ct951, "stopped") == ["ct951 status: expected 'running', found 'stopped'"]
    assert lxc.status(ct951, None) == ["ct951: does not exist on the node"]


def _facts(ct951, *procs: str) -> CtFacts:
    return CtFacts(ctid=951, uid_map=((0, 100000, 65536),), gid_map=((0, 100000, 65536),), hostname="x", addresses=(),
                   default_gateway=None, listening=frozenset({("0.0.0.0", 8000)}), mounts=(),
                   processes=tuple(Process(i, "root", a) for i, a in enumerate(procs)))


def test_vllm_process_needs_the_declared_model_and_leaves_other_args_to_the_vllm_layer(ct951) -> None:
    spec = ct951.vllm
    good = f"/opt/vllm/bin/python -m vllm.entrypoints.openai.api_server --model {spec.model} " + " ".join(spec.args)
    assert lxc.service_process(ct951, _facts(ct951, good)) == []
    assert "no vLLM process" in lxc.service_process(ct951, _facts(ct951, "/usr/bin/python3 other.py"))[0]
    assert "no vLLM process" in lxc.service_process(ct951, _facts(ct951, good.replace(spec.model, "other/model")))[0]
    short = good.replace(f"{spec.args[0]} {spec.args[1]}", "")
    assert lxc.service_process(ct951, _facts(ct951, short)) == []


def test_idmap_inside_and_port_listening(ct951) -> None:
    facts = _facts(ct951)
    assert lxc.idmap_inside(ct951, facts) == []
    assert lxc.port_listening(ct951, facts, 8000) == []
    assert "nothing listens on tcp/8001" in lxc.port_listening(ct951, facts, 8001)[0]
    privileged = dataclasses.replace(facts, uid_map=((0, 0, 4294967295),))
    assert "uid_map" in lxc.idmap_inside(ct951, privileged)[0]


def test_network_inside(ct951) -> None:
    import ipaddress
    facts = dataclasses.replace(_facts(ct951), addresses=(("eth0", ipaddress.IPv4Interface("198.18.0.151/24")),),
                                default_gateway="198.18.0.1")
    assert lxc.network_inside(ct951, facts) == []
    moved = dataclasses.replace(facts, addresses=(("eth0", ipaddress.IPv4Interface("198.18.0.99/24")),), default_gateway=None)
    assert lxc.network_inside(ct951, moved) == [
        "ct951 eth0 inside: expected 198.18.0.151/24, found ['198.18.0.99/24']",
        "ct951 default gateway inside: expected '198.18.0.1', found None"]


def test_dependencies_and_snapshots(ct951, lab_dir) -> None:
    inv = load_inventory(lab_dir)
    assert lxc.dependencies_running(ct951, {d: "running" for d in ct951.dependencies}) == []
    if ct951.dependencies:
        dep = ct951.dependencies[0]
        assert lxc.dependencies_running(ct951, {dep: "stopped"})[0] == f"ct951 depends on ct{dep}, which is stopped"
    source = inv.container(ct951.clone_from)
    assert lxc.clone_source(ct951, source, {source.template_snapshot: None}) == []
    assert "lacks snapshot" in lxc.clone_source(ct951, source, {})[0]


def test_vllm_args_check_wants_every_declared_flag_and_no_undeclared_one(ct951) -> None:
    spec = ct951.vllm
    good = (f"/opt/vllm/bin/python -m vllm.entrypoints.openai.api_server --model {spec.model} --host 0.0.0.0 "
            f"--port {spec.port} --task embed " + " ".join(spec.args))
    assert vllm_process.arg_problems(_facts(ct951, good), spec) == []
    short = good.replace(f"{spec.args[0]} {spec.args[1]}", "")
    assert f"declared '{spec.args[0]} {spec.args[1]}' missing" in vllm_process.arg_problems(_facts(ct951, short), spec)
    extra = vllm_process.arg_problems(_facts(ct951, good + " --lab-embedding-dim 256"), spec)
    assert extra == ["undeclared '--lab-embedding-dim' on the command line"]
