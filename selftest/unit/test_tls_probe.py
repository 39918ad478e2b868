"""The TLS version probe can see a legacy protocol when a server offers it (so 'refused' means refused)."""
from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator

import pytest
import trustme

from phoenix_verify.access import tls as tls_probe
from phoenix_verify.checks import tls


@pytest.fixture
def legacy_server() -> Iterator[int]:
    """A loopback TLS server speaking only TLS 1.0, for one handshake per accepted connection."""
    cert = trustme.CA().issue_cert("localhost")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
    cert.configure_cert(ctx)
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(5)

    def serve() -> None:
        for _ in range(2):
            try:
                conn, _ = srv.accept()
                with ctx.wrap_socket(conn, server_side=True):
                    pass
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    srv.close()
    thread.join(timeout=5)


def test_probe_negotiates_tls10_and_is_refused_tls12(legacy_server: int) -> None:
    try:
        assert tls_probe.handshake_version("127.0.0.1", "localhost", "TLSv1", port=legacy_server) == "TLSv1"
    except AssertionError:
        pytest.skip("this OpenSSL build cannot speak TLS 1.0 even at SECLEVEL 0")
    assert tls_probe.handshake_version("127.0.0.1", "localhost", "TLSv1.2", port=legacy_server) is None


def test_this_client_can_offer_what_the_probe_saw(legacy_server: int) -> None:
    """client_can_offer agrees with a real handshake: when the probe saw TLS 1.0 negotiated, the client can offer it."""
    seen = tls_probe.handshake_version("127.0.0.1", "localhost", "TLSv1", port=legacy_server)
    assert tls_probe.client_can_offer("TLSv1") == (seen == "TLSv1")
    assert tls_probe.client_can_offer("TLSv1.2")


@pytest.mark.parametrize(("hostname", "names", "ok"), [
    ("portainer.phoenix.local", ["*.phoenix.local"], True),          # a valid wildcard certificate
    ("Portainer.Phoenix.Local", ["*.phoenix.local"], True),
    ("phoenix.local", ["phoenix.local", "*.phoenix.local"], True),
    ("phoenix.local", ["*.phoenix.local"], False),                   # the wildcard needs one label
    ("a.b.phoenix.local", ["*.phoenix.local"], False),               # ... exactly one
    ("phoenix.local", ["*.local"], False),                           # never over a single-label suffix
    ("portainer.phoenix.local", ["portainer.*.local"], False),       # only the leftmost label
    ("portainer.phoenix.local", ["p*.phoenix.local"], False),        # only a whole label
    ("n8n.phoenix.local", ["portainer.phoenix.local"], False),
])
def test_san_matching_is_rfc6125(hostname: str, names: list[str], ok: bool) -> None:
    assert tls.san_matches(hostname, names) is ok
