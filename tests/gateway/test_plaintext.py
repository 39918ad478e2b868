"""Strategy §3.2.1 on the wire: every port nginx listens on in the gateway CT (`ss`), asked in plaintext for
every route path with each declared hostname and with an unknown Host, only redirects to https or refuses.
A second plaintext vhost proxying the API (config drift by hand) is what this catches."""
from __future__ import annotations

import httpx
import pytest

from phoenix_verify.access.gateway_files import fetch_nginx_config
from phoenix_verify.access.http import plaintext_client
from phoenix_verify.access.pct_backend import pct_host, spec_for
from phoenix_verify.checks.plaintext import nginx_ports, plaintext_problem
from phoenix_verify.gateway import route_table
from phoenix_verify.gateway.nginx_lint import load
from phoenix_verify.suite import params

GATEWAY = params.inventory().gateway()
CTID = GATEWAY.ctid if GATEWAY else 0
UNKNOWN_HOST = "unknown-host.invalid"
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
pytestmark = [pytest.mark.rung("client"), pytest.mark.gateway, pytest.mark.ctid(CTID),
              pytest.mark.remediate("gateway-config.sh", str(CTID)),
              pytest.mark.skipif(GATEWAY is None, reason="the inventory declares no gateway CT")]


@pytest.fixture(scope="module")
def listening() -> set[int]:
    if not params.target().is_live or not params.target().gateway_address:
        pytest.skip("the target declares no live gateway")
    out = pct_host(spec_for(CTID, params.target().pct)).run("ss -Htlnp")
    ports = nginx_ports(out.stdout)
    if not ports:
        pytest.skip(f"nginx listens on no TCP port in ct{CTID}; test_nginx_listens_on_the_gateway_port reports it")
    return ports


@pytest.fixture(scope="module")
def route_paths(tmp_path_factory: pytest.TempPathFactory, listening: set[int]) -> list[str]:
    """Every literal location path of the deployed config and of the contract (regex locations have none)."""
    cfg = load(fetch_nginx_config(CTID, params.target().pct, tmp_path_factory.mktemp("plaintext-nginx")).parent)
    paths = {"/"} | {r.path for r in params.routes()}
    paths |= {e.path for e in route_table.build(cfg, params.inventory())
              if e.protocol == "http" and not e.location.startswith(("~", "@"))}
    return sorted(p for p in paths if p.startswith("/"))


def _hosts(which: str) -> list[str]:
    if which == "unknown-host":
        return [UNKNOWN_HOST]
    names = set(params.target().gateway_hostnames) | {r.hostname for r in params.routes()}
    return sorted(names | {str(params.target().gateway_address)})


@pytest.mark.parametrize("which", ["declared-hostnames", "unknown-host"])
def test_plaintext_ports_only_redirect_or_refuse(which: str, listening: set[int], route_paths: list[str]) -> None:
    problems = []
    for port in sorted(listening):
        with plaintext_client(params.target(), port, TIMEOUT) as client:
            for host in _hosts(which):
                for path in route_paths:
                    try:
                        resp = client.get(path, headers={"Host": host})
                    except httpx.TransportError:
                        continue        # refused, reset or silent (a dropped port fails at once after its first probe)
                    problem = plaintext_problem(resp.status_code, resp.headers.get("location"))
                    if problem:
                        problems.append(f"http://{host}:{port}{path}: {problem}")
    assert not problems, f"{len(problems)} plaintext answer(s): " + "; ".join(problems[:8])
