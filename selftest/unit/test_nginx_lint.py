"""lint-nginx: nothing on the lab's own rendered gateway config, exactly the planted defect on each variant."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from phoenix_lab import gateway_config
from phoenix_model.inventory import load_inventory
from phoenix_verify import cli
from phoenix_verify.gateway.nginx_lint import lint, load

REPO = Path(__file__).resolve().parents[2]
NGINX = REPO / "fixtures" / "nginx"
LAB = REPO / "fixtures" / "lab"
SITES = "sites-available"

PLANTED = {   # variant -> (file, line, rule); the cache zone also caches the qdrant API (api-cached, same line)
    "wrong-upstream-port": ("qdrant.conf", 2, "upstream-undeclared"),
    "health-check": ("locations/qdrant.conf", 3, "nginx-plus-only"),
    "missing-hsts": ("portainer.conf", 5, "security-headers"),
    "proxy-ssl-verify-off": ("portainer.conf", 21, "proxy-ssl-verify"),
    "undefined-cache-zone": ("locations/qdrant.conf", 3, "cache-zone-undefined"),
    "duplicate-server-name": ("portainer_legacy.conf", 3, "duplicate-server-name"),
}


@pytest.fixture(scope="module")
def inv():
    return load_inventory(LAB)


def test_clean_fixture_is_what_the_lab_renders(inv) -> None:
    for site in gateway_config.render(inv):
        assert (NGINX / "clean" / SITES / site.name).read_text() == site.text, site.name


@pytest.mark.parametrize("path", ["clean", "clean/nginx.conf", "clean/sites-available", "clean/sites-available/gateway.conf",
                                  "clean/sites-available/portainer.conf"])
def test_clean_config_has_no_findings(inv, path: str) -> None:
    assert lint(load(NGINX / path), inv) == []


@pytest.mark.parametrize("variant", sorted(PLANTED))
def test_each_planted_defect_is_reported_alone_with_file_and_line(inv, variant: str) -> None:
    name, line, rule = PLANTED[variant]
    findings = lint(load(NGINX / variant), inv)
    expected = [(str(NGINX / variant / SITES / name), line, rule)]
    if variant == "undefined-cache-zone":
        expected.insert(0, (str(NGINX / variant / SITES / name), line, "api-cached"))
    assert [(f.file, f.line, f.rule) for f in findings] == expected


def test_cli_json_and_exit_codes(capsys, tmp_path: Path) -> None:
    assert cli.main(["lint-nginx", str(NGINX / "clean"), "--inventory", str(LAB)]) == 0
    capsys.readouterr()
    assert cli.main(["lint-nginx", str(NGINX / "health-check"), "--inventory", str(LAB), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [set(f) for f in out] == [{"file", "line", "rule", "message"}] * 2
    assert {(f["line"], f["rule"]) for f in out} == {(3, "nginx-t"), (3, "nginx-plus-only")}   # nginx agrees
    broken = tmp_path / "broken.conf"
    broken.write_text("server { listen 443 ssl;\n")
    assert cli.main(["lint-nginx", str(broken), "--inventory", str(LAB)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.conf" in err
    assert cli.main(["lint-nginx", str(tmp_path / "missing"), "--inventory", str(LAB)]) == 2


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed here")
@pytest.mark.parametrize(("extra", "accepted"), [("", True), ("health_check;", False)])
def test_open_source_nginx_confirms_the_plus_only_rule(tmp_path: Path, extra: str, accepted: bool) -> None:
    """`nginx -t` of this machine's open-source nginx rejects what nginx-plus-only flags (and nothing else)."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
                    f"  access_log off;\n  upstream u {{ server 198.18.0.152:6333; }}\n"
                    f"  server {{ listen 127.0.0.1:1; location / {{ proxy_pass http://u; {extra} }} }}\n}}\n")
    out = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True, timeout=20, check=False)
    assert (out.returncode == 0) is accepted, out.stderr
    if not accepted:
        assert "unknown directive \"health_check\"" in out.stderr
