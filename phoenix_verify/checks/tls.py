"""TLS checks against the gateway: which protocol versions it accepts, and its certificate (chain to the
configured CA, SAN per served hostname, expiry window). Uses `ssl` contexts pinned to one version; the client
side is opened to SECLEVEL 0 so a refused TLS 1.0/1.1 handshake is the server's refusal, not ours."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import warnings

from cryptography import x509

from phoenix_verify.access import probe_log

TIMEOUT = 5.0
VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def handshake_version(address: str, hostname: str, version: str, port: int = 443) -> str | None:
    """The negotiated version when the client offers only `version`, None when the server refuses it."""
    probe_log.record("tls", address=address, hostname=hostname, version=version, port=port)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():   # offering a deprecated version is the point of the probe
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    try:
        with socket.create_connection((address, port), timeout=TIMEOUT) as sock, \
                ctx.wrap_socket(sock, server_hostname=hostname) as tls:
            return tls.version()
    except (ssl.SSLError, ConnectionResetError):
        return None


def peer_certificate(address: str, hostname: str, ca_bundle: str | None, port: int = 443) -> x509.Certificate:
    """The leaf certificate after full verification (chain to `ca_bundle` and hostname); raises ssl errors."""
    probe_log.record("cert", address=address, hostname=hostname, ca_bundle=ca_bundle, port=port)
    ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    with socket.create_connection((address, port), timeout=TIMEOUT) as sock, \
            ctx.wrap_socket(sock, server_hostname=hostname) as tls:
        der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def san_dns_names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


def expiry_problems(cert: x509.Certificate, min_days: int, now: dt.datetime | None = None) -> list[str]:
    now = now or dt.datetime.now(dt.UTC)
    left = cert.not_valid_after_utc - now
    if left < dt.timedelta(days=min_days):
        return [f"certificate expires {cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days left, window {min_days})"]
    return []
