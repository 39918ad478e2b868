"""Config drift: the gateway's deployed nginx config, read from the CT, checked against the inventory
(the same rules as `phoenix-verify lint-nginx`, one test per rule so a failure names the class of drift)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from phoenix_verify.access.gateway_files import NGINX_DIR, fetch_nginx_config
from phoenix_verify.access.pct_backend import pct_host, spec_for
from phoenix_verify.gateway.contract import Route
from phoenix_verify.gateway.nginx_lint import Config, Finding, lint, load
from phoenix_verify.gateway.properties import RULES as PROPERTY_RULES
from phoenix_verify.suite import params

GATEWAY = params.inventory().gateway()
CTID = GATEWAY.ctid if GATEWAY else 0
RULES = ("upstream-undeclared", "nginx-plus-only", "cache-zone-undefined", *PROPERTY_RULES)
ROUTES = params.routes()
pytestmark = [pytest.mark.rung("client"), pytest.mark.gateway, pytest.mark.static, pytest.mark.ctid(CTID),
              pytest.mark.skipif(GATEWAY is None, reason="the inventory declares no gateway CT")]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Config:
    if not params.target().is_live:
        pytest.skip("the target declares no live system to read the deployed config from: "
                    "check files before a deploy with `phoenix-verify lint-nginx PATH --inventory DIR`")
    return load(fetch_nginx_config(CTID, params.target().pct, tmp_path_factory.mktemp("gateway-nginx")))


@pytest.fixture(scope="module")
def findings(deployed: Config) -> list[Finding]:
    """Findings at their paths on the CT (the local copy's dir is /etc/nginx there)."""
    local = str(deployed.files[0].parent) if deployed.files else NGINX_DIR
    return [replace(f, file=f.file.replace(local, NGINX_DIR, 1)) for f in lint(deployed, params.inventory())]


@pytest.mark.remediate("gateway-config.sh", str(CTID))
@pytest.mark.parametrize("rule", RULES)
def test_deployed_config_has_no_drift(findings: list[Finding], rule: str) -> None:
    """Findings not tied to one contract route (those are reported per route below)."""
    assert [str(f) for f in findings if f.rule == rule and f.route is None] == []


@pytest.mark.remediate("gateway-config.sh", str(CTID))
@pytest.mark.parametrize("route", [pytest.param(r, id=r.test_id, marks=[pytest.mark.ctid(r.ct.ctid)]) for r in ROUTES])
def test_deployed_route_matches_contract(findings: list[Finding], route: Route) -> None:
    """Exactly one location, proxying to the declared CT and port, streaming-safe where the route streams."""
    assert [str(f) for f in findings if f.route == route.name] == []


@pytest.mark.remediate("nginx-reload.sh", str(CTID))
def test_deployed_config_passes_nginx_t(deployed: Config) -> None:
    out = pct_host(spec_for(CTID, params.target().pct)).run("nginx -t 2>&1")
    assert out.rc == 0, out.stdout.strip()[-300:]


@pytest.mark.remediate("gateway-config.sh", str(CTID))
def test_lint_sees_the_deployed_files(deployed: Config) -> None:
    """Guards the drift tests above: an empty parse would make them pass vacuously."""
    servers = [d for d in deployed.http if d.name == "server"]
    assert len(servers) >= 2
