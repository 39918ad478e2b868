"""The rendered gateway serving for real: nginx + the lab's service stand-ins in a private network namespace.

The namespace (created and deleted here) holds the lab inventory's 198.18.0.x addresses on its loopback, so the
config is exercised exactly as rendered, without the lab; every probe runs inside it with curl (and one
WebSocket client), and nothing can leave it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phoenix_lab import gateway_config, pki
from phoenix_lab.service_plan import collections
from phoenix_model.inventory import Inventory, load_inventory

SERVICES = Path(__file__).resolve().parents[2] / "phoenix_lab" / "services"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("nginx") or not shutil.which("ip"),
                                reason="needs root, nginx and iproute2 to build a private network namespace")


@dataclass
class Gateway:
    ns: str
    ip: str
    ca: Path
    inv: Inventory

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.ns, *argv], capture_output=True, text=True,
                              timeout=timeout, check=False)

    def curl(self, url: str, *extra: str, host: str | None = None) -> tuple[int, dict[str, str], str]:
        """(status, lower-cased headers of the last response, body) through the gateway."""
        resolve = ["--resolve", f"{host}:443:{self.ip}", "--resolve", f"{host}:80:{self.ip}"] if host else []
        with tempfile.TemporaryDirectory() as tmp:
            head, body = Path(tmp) / "head", Path(tmp) / "body"
            proc = self.run("curl", "-sS", "--max-time", "20", "--cacert", str(self.ca), "-D", str(head), "-o", str(body),
                            "-w", "%{http_code}", *resolve, *extra, url)
            assert proc.returncode == 0, proc.stderr
            last = head.read_bytes().decode().strip().split("\r\n\r\n")[-1].split("\r\n")
            text = body.read_text()
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in last[1:])}
        return int(proc.stdout), headers, text


def _start(ns: str, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(["ip", "netns", "exec", ns, *argv], cwd=SERVICES, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(SERVICES)})


@pytest.fixture(scope="module")
def gateway(lab_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    inv = load_inventory(lab_dir)
    root = tmp_path_factory.mktemp("gw-live")
    ns = f"phx-l3test-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=10)
        for ct in inv.services():
            subprocess.run(["ip", "-n", ns, "addr", "add", f"{ct.network.ip.ip}/32", "dev", "lo"], check=True, timeout=10)
        _layout_and_certs(inv, root)
        procs += _backends(inv, ns, root)
        procs.append(_start(ns, ["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"], root / "nginx.out"))
        gateway = Gateway(ns, str(inv.gateway().network.ip.ip), root / "ssl" / gateway_config.CA_FILE, inv)
        _wait_ready(gateway, procs, root)
        yield gateway
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)


def _layout_and_certs(inv: Inventory, root: Path) -> None:
    layout = gateway_config.Layout(ssl_dir=str(root / "ssl"), sites_dir=str(root / "sites-available"),
                                   enabled_dir=str(root / "sites-enabled"), log_dir=str(root / "logs"),
                                   pid_file=str(root / "nginx.pid"))
    for d in ("ssl", "sites-available/locations", "sites-enabled", "logs", "qdrant", "n8n"):
        (root / d).mkdir(parents=True)
    gw_ip, portainer_ip = str(inv.gateway().network.ip.ip), str(inv.by_role("portainer")[0].network.ip.ip)
    pki.issue(root / "pki", gateway_config.HOSTNAME, [gateway_config.HOSTNAME, gateway_config.N8N_HOST, gw_ip], out_dir=root / "ssl")
    pki.issue(root / "pki", gateway_config.PORTAINER_HOST, [gateway_config.PORTAINER_HOST, portainer_ip], out_dir=root / "ssl")
    shutil.copy(pki.ensure_ca(root / "pki")[0], root / "ssl" / gateway_config.CA_FILE)
    for site in gateway_config.render(inv, layout):
        (root / "sites-available" / site.name).write_text(site.text)
        if site.enabled:
            (root / "sites-enabled" / site.name).symlink_to(root / "sites-available" / site.name)
    (root / "nginx.conf").write_text(gateway_config.nginx_conf(layout))


def _backends(inv: Inventory, ns: str, root: Path) -> list[subprocess.Popen[bytes]]:
    py = sys.executable
    procs = []
    for ct in inv.by_role("vllm"):
        argv = [py, "-m", "vllm.entrypoints.openai.api_server", "--model", ct.vllm.model, "--host", str(ct.network.ip.ip),
                "--port", str(ct.vllm.port), *ct.vllm.args]
        if ct.vllm.model_type == "embedding" and "--task" not in argv:
            argv += ["--task", "embed"]
        procs.append(_start(ns, argv, root / f"vllm-{ct.ctid}.out"))
    qdrant = inv.by_role("qdrant")[0]
    argv = [py, "qdrant_server.py", "--host", str(qdrant.network.ip.ip), "--storage", str(root / "qdrant")]
    for spec in collections(inv, qdrant):
        argv += ["--collection", spec]
    procs.append(_start(ns, argv, root / "qdrant.out"))
    n8n = inv.by_role("n8n")[0]
    procs.append(_start(ns, [py, "n8n_server.py", "--host", str(n8n.network.ip.ip), "--data", str(root / "n8n"),
                             "--base-path", "/n8n/"], root / "n8n.out"))
    portainer = inv.by_role("portainer")[0]
    procs.append(_start(ns, [py, "portainer_server.py", "--host", str(portainer.network.ip.ip),
                             "--cert", str(root / "ssl" / f"{gateway_config.PORTAINER_HOST}.crt"),
                             "--key", str(root / "ssl" / f"{gateway_config.PORTAINER_HOST}.key")], root / "portainer.out"))
    return procs


def _wait_ready(gateway: Gateway, procs: list[subprocess.Popen[bytes]], root: Path, timeout: float = 40) -> None:
    wanted = [f"{ct.network.ip.ip}:{p}" for ct in gateway.inv.services() for p in ([80, 443] if ct.role == "gateway" else
              [ct.vllm.port] if ct.vllm else [ct.ports[0].container])]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            logs = "\n".join(f.read_text()[-800:] for f in root.glob("*.out"))
            raise RuntimeError(f"a service exited early: {dead[0].args}\n{logs}")
        listening = gateway.run("ss", "-tlnH").stdout
        if all(w in listening or f"*:{w.rsplit(':', 1)[1]}" in listening or f"0.0.0.0:{w.rsplit(':', 1)[1]}" in listening
               for w in wanted):
            return
        time.sleep(0.3)
    raise RuntimeError(f"services not listening after {timeout}s: {wanted}")


def test_http_redirects_to_https_on_the_same_host(gateway: Gateway) -> None:
    status, headers, _ = gateway.curl(f"http://{gateway.ip}/qdrant/healthz")
    assert status == 301 and headers["location"] == f"https://{gateway.ip}/qdrant/healthz"


def test_qdrant_route_strips_the_prefix_with_security_headers(gateway: Gateway) -> None:
    status, headers, body = gateway.curl(f"https://{gateway.ip}/qdrant/healthz")
    assert status == 200 and "passed" in body
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    _, _, body = gateway.curl(f"https://{gateway.ip}/qdrant/collections/embeddings")
    assert json.loads(body)["result"]["config"]["params"]["vectors"]["size"] == 384


def test_security_headers_on_errors_too(gateway: Gateway) -> None:
    status, headers, _ = gateway.curl(f"https://{gateway.ip}/nothing-here")
    assert status == 404 and "strict-transport-security" in headers


def test_chat_embeddings_and_models_through_the_gateway(gateway: Gateway) -> None:
    chat = next(c.vllm for c in gateway.inv.by_role("vllm") if c.vllm.model_type == "chat")
    embed = next(c.vllm for c in gateway.inv.by_role("vllm") if c.vllm.model_type == "embedding")
    body = json.dumps({"model": chat.served_model_name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
    status, _, out = gateway.curl(f"https://{gateway.ip}/v1/chat/completions", "-H", "Content-Type: application/json", "-d", body)
    assert status == 200 and json.loads(out)["model"] == chat.served_model_name
    body = json.dumps({"model": embed.served_model_name, "input": ["a", "b"]})
    status, _, out = gateway.curl(f"https://{gateway.ip}/v1/embeddings", "-H", "Content-Type: application/json", "-d", body)
    assert status == 200 and [len(d["embedding"]) for d in json.loads(out)["data"]] == [384, 384]
    status, _, out = gateway.curl(f"https://{gateway.ip}/v1/models")
    assert status == 200 and json.loads(out)["data"][0]["id"] == chat.served_model_name


def test_streaming_passes_through_unbuffered(gateway: Gateway) -> None:
    chat = next(c.vllm for c in gateway.inv.by_role("vllm") if c.vllm.model_type == "chat")
    body = json.dumps({"model": chat.served_model_name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
                       "stream": True, "stream_options": {"include_usage": True}})
    status, headers, out = gateway.curl(f"https://{gateway.ip}/v1/chat/completions", "-N", "-H", "Content-Type: application/json", "-d", body)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert out.rstrip().endswith("data: [DONE]") and '"usage"' in out


@pytest.mark.parametrize("path", ["/metrics", "/version", "/health"])
def test_vllm_internals_not_exposed(gateway: Gateway, path: str) -> None:
    assert gateway.curl(f"https://{gateway.ip}{path}")[0] == 404


def test_n8n_follows_to_the_ui(gateway: Gateway) -> None:
    status, _, body = gateway.curl(f"https://{gateway.ip}/n8n", "-L")
    assert status == 200 and "n8n" in body
    status, _, body = gateway.curl(f"https://{gateway.ip}/n8n/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_portainer_by_hostname_only_with_verified_upstream(gateway: Gateway) -> None:
    status, headers, body = gateway.curl(f"https://{gateway_config.PORTAINER_HOST}/api/status", host=gateway_config.PORTAINER_HOST)
    assert status == 200 and "Version" in json.loads(body) and "strict-transport-security" in headers
    assert gateway.curl(f"https://{gateway.ip}/api/status")[0] == 404


def test_websocket_upgrades_through_the_gateway(gateway: Gateway) -> None:
    script = (
        "import json, socket, ssl, sys\nfrom websockets.sync.client import connect\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
        "for url in sys.argv[3:]:\n"
        "    sock = socket.create_connection((sys.argv[2], 443), timeout=10)\n"
        "    with connect(url, sock=sock, ssl=ctx, open_timeout=10, close_timeout=2) as ws:\n"
        "        print(json.loads(ws.recv(timeout=10))['type'])\n"
    )
    proc = gateway.run(sys.executable, "-c", script, str(gateway.ca), gateway.ip, f"wss://{gateway.ip}/n8n/rest/push",
                       f"wss://{gateway_config.PORTAINER_HOST}/api/websocket/exec")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["hello", "hello"]
    assert "Traceback" not in proc.stderr, proc.stderr  # clean close handshake on both paths
