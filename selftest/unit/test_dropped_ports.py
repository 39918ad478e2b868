"""A dropped port is found once: the first connect that times out is remembered, later connects to the same
(address, port) fail at once with its evidence; refusals, successes and read timeouts are never remembered.

The dropping listener is real: a loopback listener whose accept queue is full (listen(0) plus one connection
never accepted), so the kernel drops every further SYN, as a DROP firewall rule does."""
from __future__ import annotations

import shutil
import socket
import ssl
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from phoenix_verify.access import dropped
from phoenix_verify.access import tls as tls_probe
from phoenix_verify.access.http import DropAwareTransport, plaintext_client
from phoenix_verify.suite import hung
from phoenix_verify.target import Target

CONNECT_S = 0.5


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    dropped.reset()
    yield
    dropped.reset()


@pytest.fixture
def dropping_port() -> Iterator[int]:
    """A loopback port whose SYNs go unanswered (full accept queue)."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as srv:
        port = srv.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):   # fills the queue, never accepted
            probe = socket.socket()
            probe.settimeout(CONNECT_S)
            try:
                probe.connect(("127.0.0.1", port))
                pytest.skip("this kernel answers SYNs past a full accept queue: no dropping listener here")
            except TimeoutError:
                pass
            finally:
                probe.close()
            yield port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as srv:
        yield srv.getsockname()[1]


def _client(read_s: float = 2.0) -> httpx.Client:
    return httpx.Client(transport=DropAwareTransport(ssl.create_default_context()),
                        timeout=httpx.Timeout(read_s, connect=CONNECT_S))


def test_first_timeout_is_remembered_and_the_next_connect_fails_at_once(
        dropping_port: int, silent_port: int, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setattr(tls_probe, "TIMEOUT", CONNECT_S)
    started = time.monotonic()
    with pytest.raises(dropped.PortDropped) as first:
        tls_probe.peer_certificate("127.0.0.1", "localhost", None, port=dropping_port)
    assert time.monotonic() - started >= CONNECT_S * 0.9   # it really waited for the connect timeout
    assert str(first.value) == (f"127.0.0.1:{dropping_port} dropped: connect timed out after {CONNECT_S:g} s "
                                f"(first seen by {request.node.nodeid})")

    started = time.monotonic()
    with _client() as client, pytest.raises(httpx.ConnectTimeout) as second:   # another probe, same port
        client.get(f"http://127.0.0.1:{dropping_port}/")
    assert time.monotonic() - started < CONNECT_S / 5
    assert str(second.value) == str(first.value)
    assert hung.is_timeout(second.value) is False   # a dropped port is not a hung service

    with pytest.raises(dropped.PortDropped, match="first seen by"):   # and the TLS probes see it too
        tls_probe.handshake_version("127.0.0.1", "localhost", "TLSv1.2", port=dropping_port)

    with dropped.connect("127.0.0.1", silent_port, CONNECT_S):   # another port of the same address: unaffected
        pass


def test_plaintext_probe_of_a_dropped_port_waits_once(dropping_port: int) -> None:
    """tests/gateway/test_plaintext.py asks every port for every path and host: one wait per port, not per request."""
    target = Target(source=Path("phoenix.toml"), inventory_dir=Path("inv"), gateway_address="127.0.0.1")
    started = time.monotonic()
    with plaintext_client(target, dropping_port, httpx.Timeout(2.0, connect=CONNECT_S)) as client:
        for path in ("/", "/qdrant/", "/n8n/", "/v1/models"):
            with pytest.raises(httpx.ConnectTimeout, match="dropped: connect timed out"):
                client.get(path, headers={"Host": "phoenix.local"})
    assert time.monotonic() - started < 2 * CONNECT_S


def test_refusals_successes_and_read_timeouts_are_not_remembered(silent_port: int) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = spare.getsockname()[1]   # bound, never listening: connects are refused
    with _client(read_s=0.3) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{closed}/")
        with pytest.raises(httpx.ReadTimeout) as slow:   # accepted, never answered: a slow service, not a drop
            client.get(f"http://127.0.0.1:{silent_port}/")
    assert hung.is_timeout(slow.value) is True
    assert dropped.known("127.0.0.1", closed) is None
    assert dropped.known("127.0.0.1", silent_port) is None


SUITE = '''
import os
import ssl
import time
import httpx
import pytest
from phoenix_verify.access import tls
from phoenix_verify.access.http import DropAwareTransport, plaintext_client

PORT = int(os.environ["DROP_PORT"])
tls.TIMEOUT = {connect}
pytestmark = [pytest.mark.gateway, pytest.mark.ctid(953, n=953)]

def test_a_first_probe():
    tls.peer_certificate("127.0.0.1", "localhost", None, port=PORT)

def test_b_later_probe():
    started = time.monotonic()
    transport = DropAwareTransport(ssl.create_default_context())
    try:
        with httpx.Client(transport=transport, timeout=httpx.Timeout(30, connect=30)) as client:
            client.get(f"http://127.0.0.1:{{PORT}}/")
    finally:
        assert time.monotonic() - started < 1, "waited for its own connect timeout"
'''


def test_in_a_run_both_checks_fail_and_the_second_names_the_first(
        pytester: pytest.Pytester, lab_dir: Path, dropping_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast failure is still a failure (never a skip), and it carries the first probe's evidence."""
    shutil.copytree(lab_dir, pytester.path / "inv")
    (pytester.path / "phoenix.toml").write_text('[inventory]\nconfig_dir = "inv"\n')
    pytester.makepyfile(test_drop_sample=textwrap.dedent(SUITE.format(connect=CONNECT_S)))
    monkeypatch.setenv("DROP_PORT", str(dropping_port))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--no-phoenix-reports", "-v", "--durations=0")
    result.assert_outcomes(failed=2)
    evidence = (f"127.0.0.1:{dropping_port} dropped: connect timed out after {CONNECT_S:g} s "
                "(first seen by test_drop_sample.py::test_a_first_probe)")
    result.stdout.fnmatch_lines([f"*PortDropped: {evidence}*", f"*ConnectTimeout: {evidence}*"])
    assert "is hung" not in result.stdout.str()
