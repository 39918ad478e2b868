"""Route-table properties (strategy §3): each planted fixture fires its property at file:line, the clean ones stay
quiet, nginx's own verdict agrees where nginx has an opinion, and the CLI exit codes hold."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify import cli
from phoenix_verify.gateway import nginx_verdict, route_table
from phoenix_verify.gateway.nginx_lint import lint, load

REPO = Path(__file__).resolve().parents[2]
PROPS = REPO / "fixtures" / "nginx" / "properties"
LAB = REPO / "fixtures" / "lab"
NEEDS_NGINX = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")

PLANTED = {   # fixture -> (line, rule)
    "plaintext-api.conf": (6, "tls-everywhere"),
    "plain-stream.conf": (5, "tls-everywhere"),
    "missing-hsts.conf": (2, "security-headers"),
    "http-to-tls-port.conf": (12, "upstream-scheme"),
    "http-to-grpc-port.conf": (12, "upstream-scheme"),
    "verify-off.conf": (12, "proxy-ssl-verify"),
    "verify-name-is-upstream.conf": (15, "proxy-ssl-verify"),
    "set-to-undeclared.conf": (12, "route-undeclared"),
    "embeddings-to-chat.conf": (15, "model-routing"),
    "model-map-mismatch.conf": (5, "model-routing"),
    "no-model-list.conf": (12, "model-list-route"),
    "buffered-chat.conf": (15, "streaming"),
    "short-read-timeout.conf": (16, "streaming"),
    "cached-embeddings.conf": (17, "api-cached"),
    "placeholder-name.conf": (4, "placeholder"),
}
CLEAN = ("clean-model-map.conf", "clean-stream-tls.conf")


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_property_fires_alone_at_its_line(inv, name: str) -> None:
    line, rule = PLANTED[name]
    found = [(f.file, f.line, f.rule) for f in lint(load(PROPS / name), inv)]
    assert found == [(str(PROPS / name), line, rule)]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_property_fixtures_are_quiet(inv, name: str) -> None:
    assert lint(load(PROPS / name), inv) == []


def test_duplicate_server_name_across_enabled_files() -> None:
    found = [(Path(f.file).name, f.line, f.rule) for f in lint(load(PROPS / "duplicate-name"), None)]
    assert found == [("qdrant.conf", 4, "duplicate-server-name")]


def test_route_table_resolves_maps_to_guests_and_models(inv) -> None:
    entries = route_table.build(load(PROPS / "clean-model-map.conf"), inv)
    v1 = next(e for e in entries if e.location == "/v1/")
    assert v1.target_kind == "variable"
    assert {(ep.via, ep.guest.guest if ep.guest else None, ep.guest.model_type if ep.guest else None)
            for ep in v1.endpoints} == {(None, "ct950", "chat"), ("granite-3.3-8b-instruct", "ct950", "chat"),
                                        ("ibm-granite/granite-embedding-english-r2", "ct951", "embedding")}
    plain = [e for e in entries if not e.tls]
    assert {e.action for e in plain} == {"acme", "redirect"} and {e.port for e in plain} == {80}


def test_stream_servers_are_tcp_routes(inv) -> None:
    (entry,) = route_table.build(load(PROPS / "clean-stream-tls.conf"), inv)
    assert (entry.protocol, entry.port, entry.tls, entry.scheme) == ("tcp", 9444, True, "tls")
    assert entry.endpoints[0].guest is not None and entry.endpoints[0].guest.guest == "ct910"


def test_js_set_targets_are_named_not_guessed(tmp_path: Path) -> None:
    conf = tmp_path / "js.conf"
    conf.write_text('js_import /etc/nginx/njs/route.js;\njs_set $backend route.pick;\n'
                    'server { listen 443 ssl; server_name a.phoenix.local; location /v1/ { proxy_pass http://$backend; } }\n')
    (entry,) = route_table.build(load(conf), None)
    assert entry.target_kind == "variable" and "js_set" in entry.endpoints[0].address


def test_routes_reach_vms_of_a_later_generation(tmp_path: Path) -> None:
    later = REPO / "fixtures" / "reference" / "phoenix-config-0385ea2"
    if not later.is_dir():
        pytest.skip(f"{later} not found")
    inv = load_inventory(later)
    vm = inv.vms[1002]
    conf = tmp_path / "q.conf"
    conf.write_text(f"server {{ listen 443 ssl; server_name q.internal; location / {{ proxy_pass http://{vm.ip.ip}:6333; }} }}\n")
    (entry,) = route_table.build(load(conf), inv)
    assert entry.endpoints[0].guest is not None and entry.endpoints[0].guest.guest == "vm1002"
    assert entry.endpoints[0].guest.service == "qdrant"
    named = tmp_path / "named.conf"    # a name resolves through the certificate manifest's common name, not a SAN
    named.write_text("server { listen 443 ssl; server_name p.internal; location / { "
                     "proxy_pass https://portainer.internal.thinkheads.ai:9443; } }\n")
    (entry,) = route_table.build(load(named), inv)
    assert entry.endpoints[0].guest is not None and entry.endpoints[0].guest.guest == "vm1001"
    assert entry.endpoints[0].guest.scheme == "https"


@NEEDS_NGINX
def test_nginx_verdict_maps_errors_to_the_original_file_and_line(tmp_path: Path) -> None:
    site = tmp_path / "sites-available"
    site.mkdir()
    (site / "a.conf").write_text("server {\n    listen 443 ssl;\n    ssl_certificate /etc/nginx/ssl/x.crt;\n"
                                 "    ssl_certificate_key /etc/nginx/ssl/x.key;\n    proxy_bufering off;\n"
                                 "    proxy_read_timeout ten;\n}\n")
    found = [(Path(f.file).name, f.line, f.rule) for f in nginx_verdict.verdict(site)]
    assert found == [("a.conf", 5, "nginx-t"), ("a.conf", 6, "nginx-t")]   # both: nginx ran again after the first


@NEEDS_NGINX
@pytest.mark.parametrize("name", [*CLEAN, "plaintext-api.conf"])
def test_nginx_accepts_the_fixtures_as_the_ct_would_load_them(name: str) -> None:
    assert nginx_verdict.verdict(PROPS / name) == []


@NEEDS_NGINX
def test_cli_exit_codes(capsys, tmp_path: Path) -> None:
    assert cli.main(["lint-nginx", str(PROPS / "clean-model-map.conf"), "--inventory", str(LAB)]) == 0
    assert cli.main(["lint-nginx", str(PROPS / "plaintext-api.conf"), "--inventory", str(LAB)]) == 1
    assert f"{PROPS / 'plaintext-api.conf'}:6: tls-everywhere" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert cli.main(["lint-nginx", str(tmp_path / "empty"), "--inventory", str(LAB)]) == 2
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "deploy.sh").write_text("#!/bin/sh\nnginx -s reload\n")
    (tmp_path / "events.conf").write_text("events {}\n")
    assert cli.main(["lint-nginx", str(tmp_path), "--inventory", str(LAB)]) == 2
    assert "nothing analysed" in capsys.readouterr().err
    assert cli.main(["routes", str(tmp_path), "--inventory", str(LAB)]) == 2
    assert cli.main(["routes", str(PROPS / "clean-model-map.conf"), "--inventory", str(LAB), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["location"] for r in doc["routes"]} >= {"/v1/", "= /v1/embeddings", "^~ /.well-known/acme-challenge/"}
    assert doc["findings"] == []
    assert cli.main(["routes", str(PROPS / "plaintext-api.conf"), "--inventory", str(LAB)]) == 1
    out = capsys.readouterr().out
    assert "80/http" in out and "ct950-vllm-granite-chat:8000" in out
    assert f"{PROPS / 'plaintext-api.conf'}:6: tls-everywhere" in out


def test_routes_without_path_needs_a_live_gateway(monkeypatch, capsys) -> None:
    monkeypatch.setenv("PHOENIX_TARGET", str(REPO / "fixtures" / "targets" / "lab-static.toml"))
    assert cli.main(["routes"]) == 2
    assert "give a PATH" in capsys.readouterr().err


@NEEDS_NGINX
def test_a_whole_nginx_directory_is_read_as_the_ct_loads_it(inv, tmp_path: Path) -> None:
    """nginx.conf is the entry point: scripts and templates are skipped, a site in sites-available but not in
    sites-enabled is not served (its defect is not reported), includes to absolute CT paths resolve."""
    root = tmp_path / "nginx"
    shutil.copytree(REPO / "fixtures" / "nginx" / "clean", root, symlinks=True)
    (root / "scripts").mkdir()
    (root / "scripts" / "reload.sh").write_text("#!/bin/sh\nnginx -t && systemctl reload nginx\n")
    (root / "templates").mkdir()
    (root / "templates" / "site.conf.template").write_text("server { server_name ${HOST}; }\n")
    (root / "sites-available" / "disabled.conf").write_text((PROPS / "plaintext-api.conf").read_text())
    cfg = load(root)
    assert {p.name for p in cfg.skipped} == {"reload.sh", "site.conf.template"}
    assert [p.name for p in cfg.files] == ["nginx.conf"]
    assert lint(cfg, inv) == [] and nginx_verdict.verdict(root) == []
    (root / "sites-enabled" / "disabled.conf").symlink_to("../sites-available/disabled.conf")
    assert [(Path(f.file).name, f.line, f.rule) for f in lint(load(root), inv)] == [("disabled.conf", 6, "tls-everywhere")]


@NEEDS_NGINX
@pytest.mark.skipif(not Path("/usr/lib/nginx/modules/ngx_http_js_module.so").is_file(), reason="njs module not installed")
def test_nginx_verdict_loads_njs_and_stands_in_for_ct_only_files(tmp_path: Path) -> None:
    """js_import resolves to the given script (copied verbatim), the CT's user and dhparam file need not exist here."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "router.js").write_text("function pick(r) { return '198.18.0.150:8000'; }\n"
                                                     "export default { pick };\n")
    (tmp_path / "gw.conf").write_text(
        "js_import router from /etc/nginx/scripts/router.js;\njs_set $backend router.pick;\n"
        "ssl_dhparam /etc/nginx/ssl/dhparam.pem;\n"
        "server { listen 443 ssl; server_name gw.phoenix.local; ssl_certificate /etc/nginx/ssl/a.crt;\n"
        "  ssl_certificate_key /etc/nginx/ssl/a.key; location /v1/ { proxy_pass http://$backend; } }\n")
    assert nginx_verdict.verdict(tmp_path) == []
    (tmp_path / "gw.conf").write_text((tmp_path / "gw.conf").read_text().replace("router.pick", "router.pick extra"))
    first = nginx_verdict.verdict(tmp_path)[0]
    assert (first.line, first.rule) == (2, "nginx-t")   # js_set arity
