"""The qdrant, n8n and portainer stand-ins and the lab PKI, over loopback (127.0.0.1, random ports)."""
from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from websockets.sync.client import connect

from phoenix_lab import pki
from selftest.unit.lab_servers import free_port, running

PORTAINER_HOST = "portainer.phoenix.local"


def lab_ca(pki_dir: Path) -> ssl.SSLContext:
    """A client context trusting only the lab CA, as the suite's clients do."""
    return ssl.create_default_context(cafile=str(pki.ensure_ca(pki_dir)[0]))


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="module")
def qdrant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, storage = free_port(), tmp_path_factory.mktemp("qdrant-storage")
    argv = ["qdrant_server.py", "--host", "127.0.0.1", "--port", str(port), "--grpc-port", str(free_port()),
            "--storage", str(storage), "--collection", "embeddings:384:Cosine"]
    with running(argv, f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def n8n_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("n8n") / ".n8n"


@pytest.fixture(scope="module")
def n8n(n8n_data: Path) -> Iterator[str]:
    port = free_port()
    argv = ["n8n_server.py", "--host", "127.0.0.1", "--port", str(port), "--data", str(n8n_data), "--base-path", "/n8n/"]
    with running(argv, f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def portainer(pki_dir: Path) -> Iterator[tuple[str, int]]:
    crt, key = pki.issue(pki_dir, PORTAINER_HOST, [PORTAINER_HOST, "127.0.0.1"])
    port, agent = free_port(), free_port()
    argv = ["portainer_server.py", "--host", "127.0.0.1", "--port", str(port), "--agent-port", str(agent),
            "--cert", str(crt), "--key", str(key)]
    with running(argv, f"https://127.0.0.1:{port}/api/status", verify=lab_ca(pki_dir)):
        yield f"https://127.0.0.1:{port}", agent


def test_qdrant_health_endpoints(qdrant: str) -> None:
    for path in ("/healthz", "/readyz", "/livez"):
        resp = httpx.get(qdrant + path, timeout=10)
        assert resp.status_code == 200 and "passed" in resp.text


def test_qdrant_provisioned_collection_has_the_embedding_dimension(qdrant: str) -> None:
    listed = httpx.get(f"{qdrant}/collections", timeout=10).json()
    assert listed["status"] == "ok" and isinstance(listed["time"], float)
    assert {"name": "embeddings"} in listed["result"]["collections"]
    info = httpx.get(f"{qdrant}/collections/embeddings", timeout=10).json()["result"]
    assert info["config"]["params"]["vectors"] == {"size": 384, "distance": "Cosine"}


def test_qdrant_create_upsert_search_query(qdrant: str) -> None:
    created = httpx.put(f"{qdrant}/collections/lab-test", json={"vectors": {"size": 3, "distance": "Cosine"}}, timeout=10)
    assert created.json()["result"] is True
    points = [{"id": 1, "vector": [1, 0, 0], "payload": {"t": "x"}}, {"id": 2, "vector": [0, 1, 0], "payload": {"t": "y"}}]
    upsert = httpx.put(f"{qdrant}/collections/lab-test/points", json={"points": points}, timeout=10).json()
    assert upsert["result"]["status"] == "completed"
    hits = httpx.post(f"{qdrant}/collections/lab-test/points/search", json={"vector": [0.9, 0.1, 0], "limit": 2}, timeout=10).json()
    assert [h["id"] for h in hits["result"]] == [1, 2] and hits["result"][0]["payload"] == {"t": "x"}
    query = httpx.post(f"{qdrant}/collections/lab-test/points/query", json={"query": [0, 1, 0], "limit": 1}, timeout=10).json()
    assert [p["id"] for p in query["result"]["points"]] == [2]
    assert httpx.get(f"{qdrant}/collections/lab-test", timeout=10).json()["result"]["points_count"] == 2


def test_qdrant_errors_use_its_envelope(qdrant: str) -> None:
    missing = httpx.get(f"{qdrant}/collections/absent", timeout=10)
    assert missing.status_code == 404 and "doesn't exist" in missing.json()["status"]["error"]
    again = httpx.put(f"{qdrant}/collections/embeddings", json={"vectors": {"size": 384, "distance": "Cosine"}}, timeout=10)
    assert again.status_code == 409
    wrong = httpx.put(f"{qdrant}/collections/embeddings/points", json={"points": [{"id": 9, "vector": [1.0]}]}, timeout=10)
    assert wrong.status_code == 400 and "error" in wrong.json()["status"]


def test_n8n_health_and_readiness(n8n: str, n8n_data: Path) -> None:
    assert httpx.get(f"{n8n}/healthz", timeout=10).json() == {"status": "ok"}
    assert (n8n_data / "database.sqlite").is_file()
    assert httpx.get(f"{n8n}/healthz/readiness", timeout=10).status_code == 200


def test_n8n_ui_under_its_base_path(n8n: str) -> None:
    for path in ("/", "/n8n/", "/n8n", "/home/workflows"):
        resp = httpx.get(n8n + path, timeout=10, follow_redirects=True)
        assert resp.status_code == 200 and '<base href="/n8n/">' in resp.text, path
    assert httpx.get(f"{n8n}/rest/unknown", timeout=10).status_code == 404


def test_n8n_push_websocket(n8n: str) -> None:
    with connect(n8n.replace("http", "ws") + "/rest/push", open_timeout=10, close_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    assert httpx.get(f"{n8n}/rest/push", timeout=10).status_code == 400


def test_portainer_https_api_and_ui(portainer: tuple[str, int], pki_dir: Path) -> None:
    url, _ = portainer
    ca = lab_ca(pki_dir)
    assert "Version" in httpx.get(f"{url}/api/status", timeout=10, verify=ca).json()
    assert httpx.get(f"{url}/api/system/status", timeout=10, verify=ca).status_code == 200
    assert "Portainer" in httpx.get(url + "/", timeout=10, verify=ca).text
    with pytest.raises(httpx.ConnectError):   # the lab CA is required: the system store does not know it
        httpx.get(f"{url}/api/status", timeout=10)


def test_a_client_stalled_before_the_tls_handshake_does_not_block_others(portainer: tuple[str, int], pki_dir: Path) -> None:
    url, _ = portainer
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):   # connects, never says hello
        resp = httpx.get(f"{url}/api/status", timeout=5, verify=lab_ca(pki_dir))
    assert resp.status_code == 200


def test_portainer_websocket_and_agent_port(portainer: tuple[str, int], pki_dir: Path) -> None:
    url, agent = portainer
    with connect(url.replace("https", "wss") + "/api/websocket/exec?id=1", ssl=lab_ca(pki_dir), open_timeout=10, close_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    with socket.create_connection(("127.0.0.1", agent), timeout=5):
        pass


def test_pki_is_idempotent_and_issues_sans(tmp_path: Path) -> None:
    first = pki.ensure_ca(tmp_path)
    before = first[0].read_bytes()
    assert pki.ensure_ca(tmp_path) == first and first[0].read_bytes() == before
    crt, key = pki.issue(tmp_path, "gw", ["phoenix.local", "198.18.0.153"])
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["phoenix.local"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["198.18.0.153"]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=397) <= lifetime <= dt.timedelta(days=399)
    assert key.stat().st_mode & 0o777 == 0o600
    ca = x509.load_pem_x509_certificate(before)
    cert.verify_directly_issued_by(ca)


def test_pki_expired_and_wrong_name_certs_fail_verification(tmp_path: Path) -> None:
    ca = lab_ca(tmp_path)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    expired, expired_key = pki.issue(tmp_path, "expired", ["127.0.0.1"], not_after=past)
    assert x509.load_pem_x509_certificate(expired.read_bytes()).not_valid_after_utc < dt.datetime.now(dt.UTC)
    wrong, wrong_key = pki.issue(tmp_path, "wrong", ["elsewhere.invalid"])
    for crt, key, reason in ((expired, expired_key, "expired"), (wrong, wrong_key, "mismatch")):
        port = free_port()
        argv = ["portainer_server.py", "--host", "127.0.0.1", "--port", str(port), "--agent-port", str(free_port()),
                "--cert", str(crt), "--key", str(key)]
        with running(argv, f"https://127.0.0.1:{port}/", verify=False), pytest.raises(httpx.ConnectError, match=reason):
            httpx.get(f"https://127.0.0.1:{port}/api/status", timeout=10, verify=ca)
