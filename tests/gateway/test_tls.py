"""§3.2.1 TLS: modern protocol versions only, a certificate that verifies, names every host, and is not expiring."""
from __future__ import annotations

import ssl

import httpx
import pytest

from phoenix_verify.access import tls as tls_probe
from phoenix_verify.access.http import gateway_client
from phoenix_verify.checks import tls
from phoenix_verify.suite import params

TARGET = params.target()
GATEWAY = params.inventory().gateway()
GATEWAY_CTID = str(GATEWAY.ctid) if GATEWAY else "?"
pytestmark = [pytest.mark.rung("service"), pytest.mark.gateway, *([pytest.mark.ctid(GATEWAY.ctid)] if GATEWAY else [])]
HOSTS = list(TARGET.gateway_hostnames)


@pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID)
@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1"])
def test_legacy_tls_is_refused(version: str) -> None:
    if not tls_probe.client_can_offer(version):
        pytest.skip(f"this machine's OpenSSL cannot offer {version} even at SECLEVEL 0: whether the gateway refuses it "
                    "cannot be judged from here (run the suite from a host whose OpenSSL still speaks it)")
    assert tls_probe.handshake_version(TARGET.gateway_address, HOSTS[0], version) is None


@pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID)
@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_modern_tls_is_accepted(version: str) -> None:
    assert tls_probe.handshake_version(TARGET.gateway_address, HOSTS[0], version) == version


@pytest.mark.remediate("gateway-cert.sh")
@pytest.mark.parametrize("hostname", HOSTS)
def test_certificate_verifies_and_names_the_host(hostname: str) -> None:
    try:
        cert = tls_probe.peer_certificate(TARGET.gateway_address, hostname, TARGET.gateway_ca_bundle)
    except ssl.SSLCertVerificationError as exc:
        pytest.fail(f"{hostname}: certificate does not verify against {TARGET.gateway_ca_bundle}: {exc.verify_message}")
    assert tls.san_matches(hostname, tls.san_dns_names(cert)), f"{hostname}: not named by {tls.san_dns_names(cert)}"


@pytest.mark.remediate("gateway-cert.sh")
@pytest.mark.parametrize("hostname", HOSTS)
def test_certificate_is_not_expiring(hostname: str) -> None:
    cert = tls_probe.peer_certificate(TARGET.gateway_address, hostname, TARGET.gateway_ca_bundle)
    assert tls.expiry_problems(cert, TARGET.cert_expiry_days) == []


@pytest.mark.remediate("gateway-config.sh", GATEWAY_CTID)
@pytest.mark.parametrize("hostname", HOSTS)
def test_port_80_only_redirects_to_https_on_the_same_host(hostname: str) -> None:
    with gateway_client(TARGET, hostname, scheme="http") as client:
        resp = client.get("/some/path?q=1")
    assert resp.status_code in (301, 302, 307, 308), f"http://{hostname}/ answered {resp.status_code}"
    assert httpx.URL(resp.headers["location"]) == httpx.URL(f"https://{hostname}/some/path?q=1")
