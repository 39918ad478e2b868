"""TLS probes of the gateway: which protocol versions it accepts, and the certificate it presents (verified
against the configured CA). Uses `ssl` contexts pinned to one version; the client side is opened to SECLEVEL 0 so
a refused TLS 1.0/1.1 handshake is the server's refusal, not ours. The comparisons are in checks/tls.py."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import socket
import ssl
import tempfile
import threading
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from phoenix_verify.access import dropped, probe_log

TIMEOUT = 5.0
VERSIONS = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def handshake_version(address: str, hostname: str, version: str, port: int = 443) -> str | None:
    """The negotiated version when the client offers only `version`, None when the server refuses it."""
    probe_log.record("tls", address=address, hostname=hostname, version=version, port=port)
    return _handshake(address, hostname, version, port)


def _pinned(version: str, side: int) -> ssl.SSLContext:
    ctx = ssl.SSLContext(side)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():   # offering a deprecated version is the point of the probe
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    return ctx


@functools.cache
def client_can_offer(version: str) -> bool:
    """Whether this machine's OpenSSL can complete a `version` handshake at all, tried against a loopback server of
    our own pinned to it: when it cannot, "refused" would be the client's refusal and the check must say so."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1)).sign(key, hashes.SHA256()))
    server = _pinned(version, ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        pem = Path(tmp) / "self.pem"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        try:
            server.load_cert_chain(pem)
        except ssl.SSLError:
            return False
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)

        def serve() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with server.wrap_socket(conn, server_side=True):
                    pass
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        seen = _handshake("127.0.0.1", "localhost", version, listener.getsockname()[1])
        thread.join(TIMEOUT)
    return seen == version


def _handshake(address: str, hostname: str, version: str, port: int) -> str | None:
    ctx = _pinned(version, ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with dropped.connect(address, port, TIMEOUT) as sock, \
                ctx.wrap_socket(sock, server_hostname=hostname) as tls:
            return tls.version()
    except (ssl.SSLError, ConnectionResetError):   # a timeout is not a refusal: it propagates
        return None


def peer_certificate(address: str, hostname: str, ca_bundle: str | None, port: int = 443) -> x509.Certificate:
    """The leaf certificate after full verification (chain to `ca_bundle` and hostname); raises ssl errors."""
    probe_log.record("cert", address=address, hostname=hostname, ca_bundle=ca_bundle, port=port)
    ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
    with dropped.connect(address, port, TIMEOUT) as sock, \
            ctx.wrap_socket(sock, server_hostname=hostname) as tls:
        der = tls.getpeercert(binary_form=True)
    if der is None:   # only without a completed handshake, which wrap_socket has already done
        raise ssl.SSLError(f"{hostname}:{port}: no peer certificate")
    return x509.load_der_x509_certificate(der)
