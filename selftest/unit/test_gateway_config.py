"""The gateway config rendered from the lab inventory: real `nginx -t` (Debian 1.22), crossplane, the strategy's shape."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import crossplane
import pytest

from phoenix_lab import gateway_config, pki
from phoenix_model.inventory import Inventory, load_inventory


@pytest.fixture(scope="module")
def inv(lab_dir: Path) -> Inventory:
    return load_inventory(lab_dir)


@pytest.fixture(scope="module")
def rendered(inv: Inventory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gateway's files laid out under a scratch prefix, certificates issued by a scratch lab CA."""
    root = tmp_path_factory.mktemp("nginx")
    layout = gateway_config.Layout(ssl_dir=str(root / "ssl"), sites_dir=str(root / "sites-available"),
                                   enabled_dir=str(root / "sites-enabled"), log_dir=str(root / "logs"),
                                   pid_file=str(root / "nginx.pid"))
    for d in ("ssl", "sites-available/locations", "sites-enabled", "logs"):
        (root / d).mkdir(parents=True)
    pki_dir = root / "pki"
    for name in (gateway_config.HOSTNAME, gateway_config.PORTAINER_HOST):
        pki.issue(pki_dir, name, [name], out_dir=root / "ssl")
    shutil.copy(pki.ensure_ca(pki_dir)[0], root / "ssl" / gateway_config.CA_FILE)
    for site in gateway_config.render(inv, layout):
        (root / "sites-available" / site.name).write_text(site.text)
        if site.enabled:
            (root / "sites-enabled" / site.name).symlink_to(root / "sites-available" / site.name)
    (root / "nginx.conf").write_text(gateway_config.nginx_conf(layout))
    return root


@pytest.fixture(scope="module")
def ct_files(inv: Inventory) -> dict[str, str]:
    return {site.name: site.text for site in gateway_config.render(inv)}


def _directives(block: list[dict], name: str) -> list[dict]:
    found = []
    for d in block:
        if d["directive"] == name:
            found.append(d)
        found += _directives(d.get("block", []), name)
    return found


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed on this machine")
def test_nginx_accepts_the_rendered_config(rendered: Path) -> None:
    proc = subprocess.run(["nginx", "-t", "-p", str(rendered), "-c", str(rendered / "nginx.conf")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr


def test_crossplane_parses_every_file(rendered: Path) -> None:
    parsed = crossplane.parse(str(rendered / "nginx.conf"))
    assert parsed["status"] == "ok", parsed["errors"]
    names = {Path(c["file"]).name for c in parsed["config"]}
    assert {"gateway.conf", "vllm.conf", "qdrant.conf", "n8n.conf", "portainer.conf"} <= names


def test_one_site_file_per_service(ct_files: dict[str, str]) -> None:
    assert {"gateway.conf", "qdrant.conf", "vllm.conf", "n8n.conf", "portainer.conf"} <= set(ct_files)


def test_no_active_health_check_and_passive_health_on_every_upstream(ct_files: dict[str, str]) -> None:
    text = "".join(ct_files.values())
    assert "health_check" not in text
    servers = [line for line in text.splitlines() if line.strip().startswith("server ") and ":" in line]
    assert servers and all("max_fails=" in s and "fail_timeout=" in s for s in servers)


def test_upstreams_come_from_the_inventory(inv: Inventory, ct_files: dict[str, str]) -> None:
    text = "".join(ct_files.values())
    for role, port in (("qdrant", 6333), ("n8n", 5678), ("portainer", 9443)):
        assert f"{inv.by_role(role)[0].network.ip.ip}:{port}" in text
    for ct in inv.by_role("vllm"):
        assert f"{ct.network.ip.ip}:{ct.vllm.port}" in text


@pytest.mark.parametrize("route,upstream", [
    ("location /qdrant/", "proxy_pass http://qdrant_backend/;"),
    ("location = /v1/chat/completions", "proxy_pass http://vllm_chat;"),
    ("location = /v1/embeddings", "proxy_pass http://vllm_embeddings;"),
    ("location = /v1/models", "proxy_pass http://vllm_chat;"),
    ("location /n8n/", "proxy_pass http://n8n_backend/;"),
])
def test_route_present(ct_files: dict[str, str], route: str, upstream: str) -> None:
    text = "".join(ct_files.values())
    block = text.split(route + " {", 1)
    assert len(block) == 2, f"missing {route}"
    assert block[1].split("}", 1)[0].strip().startswith(upstream)


def test_streaming_api_locations_do_not_buffer(ct_files: dict[str, str]) -> None:
    for route in ("/v1/chat/completions", "/v1/embeddings"):
        body = ct_files["locations/vllm.conf"].split(f"location = {route} {{", 1)[1].split("}", 1)[0]
        assert "proxy_buffering off;" in body and "proxy_read_timeout 600s;" in body


def test_vllm_internal_endpoints_not_routed(ct_files: dict[str, str]) -> None:
    text = "".join(ct_files.values())
    for path in ("/metrics", "/version", "/health"):
        assert f"location {path}" not in text and f"location = {path}" not in text
    assert "location / {\n        return 404;" in ct_files["gateway.conf"]


def test_port_80_only_redirects_to_https_on_the_same_host(ct_files: dict[str, str]) -> None:
    plain = ct_files["gateway.conf"].split("listen 80 default_server;", 1)[1].split("}", 1)[0]
    assert "return 301 https://$host$request_uri;" in plain and "proxy_pass" not in plain


def test_every_tls_server_has_protocols_and_security_headers(rendered: Path) -> None:
    parsed = crossplane.parse(str(rendered / "nginx.conf"))
    servers = [s for c in parsed["config"] for s in _directives(c["parsed"], "server") if "block" in s]
    tls = [s for s in servers if any("ssl" in d["args"] for d in _directives(s["block"], "listen"))]
    assert len(tls) == 2
    for server in tls:
        own = {d["directive"]: d for d in server["block"] if d["directive"] == "ssl_protocols"}
        assert own["ssl_protocols"]["args"] == ["TLSv1.2", "TLSv1.3"]
        headers = {d["args"][0]: d["args"][1:] for d in server["block"] if d["directive"] == "add_header"}
        assert headers["Strict-Transport-Security"] == ["max-age=63072000; includeSubDomains", "always"]
        assert headers["X-Content-Type-Options"] == ["nosniff", "always"]
        assert headers["X-Frame-Options"] == ["DENY", "always"]
        assert headers["Referrer-Policy"] == ["strict-origin-when-cross-origin", "always"]
        assert not [d for loc in _directives(server["block"], "location") for d in loc["block"] if d["directive"] == "add_header"]
        listen = [d["args"] for d in server["block"] if d["directive"] == "listen"]
        assert all("http2" in args for args in listen)


def test_portainer_only_by_hostname_with_upstream_tls_verification(inv: Inventory, ct_files: dict[str, str]) -> None:
    portainer = ct_files["portainer.conf"]
    assert "server_name portainer.phoenix.local;" in portainer
    for line in ("proxy_pass https://portainer_backend;", "proxy_ssl_verify on;",
                 f"proxy_ssl_trusted_certificate /etc/nginx/ssl/{gateway_config.CA_FILE};",
                 "proxy_ssl_name portainer.phoenix.local;", "proxy_set_header Upgrade $http_upgrade;"):
        assert line in portainer
    gateway = ct_files["gateway.conf"]
    assert str(inv.gateway().network.ip.ip) in gateway and "portainer" not in gateway


def test_n8n_and_portainer_upgrade_websockets(ct_files: dict[str, str]) -> None:
    for name in ("locations/n8n.conf", "portainer.conf"):
        assert "proxy_set_header Connection $connection_upgrade;" in ct_files[name]
    assert "map $http_upgrade $connection_upgrade" in ct_files["gateway.conf"]


def test_no_gateway_is_a_clear_error(inv: Inventory) -> None:
    from dataclasses import replace

    without = replace(inv, containers={k: v for k, v in inv.containers.items() if v.role != "gateway"})
    with pytest.raises(ValueError, match="no gateway"):
        gateway_config.render(without)
