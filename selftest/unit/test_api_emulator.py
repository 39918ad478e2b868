"""The lab's Proxmox REST API and pvesh against docs/proxmox-formats.md §1 and §5, driven by unmodified proxmoxer.

The server runs on 127.0.0.1 (random port, trustme CA) over a temporary /etc/pve; the CT runtime and the
firewall recompile are injected fakes, so no LXC or nftables is touched.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from proxmoxer import ProxmoxAPI
from proxmoxer.core import AuthenticationError, ResourceException

from phoenix_lab import api_readonly
from phoenix_lab.api_auth import Permissions
from phoenix_lab.api_routes import Api
from phoenix_lab.api_server import build_server
from phoenix_lab.api_tokens import ensure_token, token_file
from phoenix_lab.paths import TOKEN_ID, LabPaths
from phoenix_model.pve_formats import parse_firewall_file
from phoenix_verify.access.proxmox import ApiPlane, ProxmoxError
from phoenix_verify.target import Target

REPO = Path(__file__).resolve().parents[2]
NET0 = "name=eth0,bridge=vmbr0,firewall=1,gw=198.18.0.1,hwaddr=BC:24:11:00:09:51,ip=198.18.0.151/24,type=veth"
CONF_951 = f"""#Embeddings%3A granite
arch: amd64
cores: 4
features: nesting=1
hostname: Embedding-Granite
memory: 8192
mp0: /srv/phoenix/models,mp=/models,ro=1
net0: {NET0}
onboot: 1
ostype: debian
parent: golden
rootfs: local-lvm:subvol-951-disk-0,size=32G
startup: order=3,up=10
swap: 0
unprivileged: 1
lxc.cgroup2.devices.allow: c 195:* rwm

[golden]
#golden image
arch: amd64
hostname: Embedding-Granite
memory: 4096
snaptime: 1717243200
unprivileged: 1
"""
CONF_953 = "arch: amd64\nhostname: nginx gateway\nmemory: 1024\nrootfs: local-lvm:subvol-953-disk-0,size=8G\n"
FW_951 = """[OPTIONS]

enable: 1
policy_in: DROP

[RULES]

IN ACCEPT -source 198.18.0.153 -p tcp -dport 8000 # from gateway
|IN ACCEPT -p tcp -dport 22
"""
CLUSTER_FW = "[OPTIONS]\n\nenable: 1\npolicy_in: DROP\npolicy_out: ACCEPT\n"
HOST_FW = "[OPTIONS]\n\nenable: 1\nnftables: 1\n"
PASSWORD = "lab-root-password"
AUDIT_TOKEN, BARE_TOKEN = "root@pam!audit", "root@pam!bare"
USER_CFG = f"""user:root@pam:1:0:::root@lab::
token:{AUDIT_TOKEN}:0:1::
token:{BARE_TOKEN}:0:1::
acl:1:/vms/951:{AUDIT_TOKEN}:PVEAuditor:
"""


@dataclass
class Lab:
    paths: LabPaths
    url: str
    port: int
    ca: Path
    secret: str
    recompiled: list[LabPaths]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    home = tmp_path_factory.mktemp("pve-lab")
    paths = LabPaths(home, home / "cache")
    (paths.pve / "lxc").mkdir(parents=True)
    (paths.pve / "firewall").mkdir()
    (paths.pve / "nodes" / "pve").mkdir(parents=True)
    paths.ct_conf(951).write_text(CONF_951)
    paths.ct_conf(953).write_text(CONF_953)
    paths.fw_file(951).write_text(FW_951)
    paths.fw_file(None).write_text(CLUSTER_FW)
    (paths.pve / "nodes" / "pve" / "host.fw").write_text(HOST_FW)
    secret = ensure_token(paths, TOKEN_ID)
    with token_file(paths).open("a") as tokens:  # privilege-separated tokens (PVE's default for new tokens)
        tokens.write(f"{AUDIT_TOKEN} 11111111-1111-4111-8111-111111111111\n{BARE_TOKEN} 22222222-2222-4222-8222-222222222222\n")
    (paths.pve / "user.cfg").write_text(USER_CFG)
    (paths.secrets / "root-password").write_text(PASSWORD + "\n")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(home / "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(home / "cert.pem"))
    cert.private_key_pem.write_to_path(str(home / "key.pem"))
    recompiled: list[LabPaths] = []
    api = Api(paths, state=lambda ctid: "running" if ctid == 951 else "stopped",
              pid=lambda ctid: os.getpid() if ctid == 951 else None, recompile=recompiled.append)
    server = build_server(paths, "127.0.0.1", 0, str(home / "cert.pem"), str(home / "key.pem"), api=api)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Lab(paths, f"https://127.0.0.1:{port}/api2/json", port, home / "ca.pem", secret, recompiled)
    server.shutdown()
    server.server_close()


def _tls(lab: Lab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(lab.ca))


@pytest.fixture
def client(lab: Lab) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"PVEAPIToken={TOKEN_ID}={lab.secret}"}
    with httpx.Client(base_url=lab.url, verify=_tls(lab), headers=headers, timeout=10) as c:
        yield c


@pytest.fixture
def prox(lab: Lab) -> ProxmoxAPI:
    user, token_name = TOKEN_ID.split("!")
    return ProxmoxAPI("127.0.0.1", port=lab.port, user=user, token_name=token_name, token_value=lab.secret,
                      verify_ssl=str(lab.ca), timeout=10)


# ------------------------------------------------------------------ tokens
def test_token_is_stored_as_pve_stores_it(lab: Lab) -> None:
    path = token_file(lab.paths)
    assert path.read_text().splitlines()[0] == f"{TOKEN_ID} {lab.secret}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_token(lab.paths, TOKEN_ID) == lab.secret


# ------------------------------------------------------------------ proxmoxer (https, token and ticket)
def test_proxmoxer_token_reads_net0_with_firewall(prox: ProxmoxAPI) -> None:
    config = prox.nodes("pve").lxc(951).config.get()
    assert "firewall=1" in config["net0"].split(",")
    assert prox("nodes/pve/lxc/951/config").get() == config


def test_proxmoxer_sees_pve_error_text(prox: ProxmoxAPI) -> None:
    with pytest.raises(ResourceException) as exc:
        prox.nodes("pve").lxc(999).config.get()
    assert str(exc.value) == "500 Internal Server Error: Configuration file 'nodes/pve/lxc/999.conf' does not exist"


def test_proxmoxer_ticket_auth_reads_and_writes_with_csrf(lab: Lab) -> None:
    prox = ProxmoxAPI("127.0.0.1", port=lab.port, user="root@pam", password=PASSWORD, verify_ssl=str(lab.ca), timeout=10)
    assert prox.version.get()["release"] == "8.2"
    before = len(lab.recompiled)
    prox.cluster.firewall.options.put(log_ratelimit="enable=1,burst=5,rate=1/second")
    assert len(lab.recompiled) == before + 1
    assert parse_firewall_file(lab.paths.fw_file(None).read_text()).options["log_ratelimit"] == "enable=1,burst=5,rate=1/second"
    prox.cluster.firewall.options.put(delete="log_ratelimit")
    assert lab.paths.fw_file(None).read_text() == CLUSTER_FW


def test_proxmoxer_bad_password_fails(lab: Lab) -> None:
    with pytest.raises(AuthenticationError):
        ProxmoxAPI("127.0.0.1", port=lab.port, user="root@pam", password="wrong", verify_ssl=str(lab.ca), timeout=10)


# ------------------------------------------------------------------ shapes and types (raw httpx)
def test_headers_and_envelope(client: httpx.Client) -> None:
    resp = client.get("/version")
    assert resp.status_code == 200
    assert resp.headers["server"] == "pve-api-daemon/3.0"
    assert resp.headers["content-type"] == "application/json;charset=UTF-8"
    assert resp.headers["cache-control"] == "max-age=0" and resp.headers["pragma"] == "no-cache" and "expires" in resp.headers
    assert resp.json() == {"data": {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}}


def test_lxc_list_types(client: httpx.Client) -> None:
    data = {ct["vmid"]: ct for ct in client.get("/nodes/pve/lxc").json()["data"]}
    assert set(data) == {951, 953}
    running, stopped = data[951], data[953]
    assert running["status"] == "running" and running["type"] == "lxc" and running["name"] == "Embedding-Granite"
    assert running["cpus"] == 4 and running["maxmem"] == 8192 * 2**20 and running["maxswap"] == 0
    assert running["maxdisk"] == 32 * 2**30 and running["pid"] == os.getpid() and "pressurecpusome" in running
    assert stopped["status"] == "stopped" and stopped["name"] == "nginxgateway" and stopped["maxmem"] == 2**30
    assert "pid" not in stopped and "template" not in stopped and stopped["maxswap"] == 512 * 2**20


def test_status_current_has_ha(client: httpx.Client) -> None:
    data = client.get("/nodes/pve/lxc/951/status/current").json()["data"]
    assert data["vmid"] == 951 and data["status"] == "running" and data["ha"] == {"managed": 0}


def test_config_types_and_digest(client: httpx.Client) -> None:
    data = client.get("/nodes/pve/lxc/951/config").json()["data"]
    assert data["memory"] == 8192 and data["swap"] == 0 and data["cores"] == 4
    assert data["onboot"] == 1 and data["unprivileged"] == 1
    assert data["description"] == "Embeddings: granite\n"
    assert data["lxc"] == [["lxc.cgroup2.devices.allow", "c 195:* rwm"]]
    assert data["digest"] == hashlib.sha1(CONF_951.encode()).hexdigest()
    assert "snapshots" not in data and "golden" not in data and data["parent"] == "golden"


def test_config_of_snapshot(client: httpx.Client) -> None:
    data = client.get("/nodes/pve/lxc/951/config", params={"snapshot": "golden"}).json()["data"]
    assert data["memory"] == 4096 and data["snaptime"] == 1717243200 and data["description"] == "golden image\n"
    assert data["digest"] == hashlib.sha1(CONF_951.encode()).hexdigest()
    resp = client.get("/nodes/pve/lxc/951/config", params={"snapshot": "nope"})
    assert (resp.status_code, resp.reason_phrase) == (500, "snapshot 'nope' does not exist")
    resp = client.get("/nodes/pve/lxc/951/config", params={"snapshot": "golden", "current": 1})
    assert resp.status_code == 400 and "current" in resp.json()["errors"]


def test_snapshot_list_current_last(client: httpx.Client) -> None:
    data = client.get("/nodes/pve/lxc/951/snapshot").json()["data"]
    assert data[0] == {"name": "golden", "snaptime": 1717243200, "description": "golden image\n"}
    assert data[-1] == {"name": "current", "digest": hashlib.sha1(CONF_951.encode()).hexdigest(), "running": 1,
                        "description": "You are here!", "parent": "golden"}


def test_ct_firewall_options_and_rules(client: httpx.Client) -> None:
    options = client.get("/nodes/pve/lxc/951/firewall/options").json()["data"]
    assert options == {"enable": 1, "policy_in": "DROP",
                       "digest": hashlib.sha1(b"enable:1\npolicy_in:DROP\n").hexdigest()}
    rules = client.get("/nodes/pve/lxc/951/firewall/rules").json()["data"]
    assert [(r["pos"], r["type"], r["action"], r.get("dport"), r["enable"]) for r in rules] == [
        (0, "in", "ACCEPT", "8000", 1), (1, "in", "ACCEPT", "22", 0)]
    assert rules[0]["ipversion"] == 4 and rules[0]["comment"] == "from gateway"
    one = client.get("/nodes/pve/lxc/951/firewall/rules/1").json()["data"]
    assert one == rules[1]
    resp = client.get("/nodes/pve/lxc/951/firewall/rules/7")
    assert (resp.status_code, resp.reason_phrase) == (500, "no rule at position 7")


def test_missing_fw_file_gives_digest_only_and_no_rules(client: httpx.Client) -> None:
    """PVE does not check that the CT exists for firewall paths."""
    assert client.get("/nodes/pve/lxc/4242/firewall/options").json() == {
        "data": {"digest": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}}
    assert client.get("/nodes/pve/lxc/4242/firewall/rules").json() == {"data": []}


def test_cluster_and_node_firewall_options(client: httpx.Client) -> None:
    cluster = client.get("/cluster/firewall/options").json()["data"]
    assert (cluster["enable"], cluster["policy_in"], cluster["policy_out"]) == (1, "DROP", "ACCEPT")
    node = client.get("/nodes/pve/firewall/options").json()["data"]
    assert (node["enable"], node["nftables"]) == (1, 1)
    assert client.get("/cluster/firewall/rules").json() == {"data": []}


def test_cluster_resources_and_storage(client: httpx.Client) -> None:
    res = client.get("/cluster/resources").json()["data"]
    assert [r["type"] for r in res][:3] == ["lxc", "lxc", "node"]
    assert res[0] == {**res[0], "id": "lxc/951", "vmid": 951, "node": "pve", "template": 0}
    vms = client.get("/cluster/resources", params={"type": "vm"}).json()["data"]
    assert {r["vmid"] for r in vms} == {951, 953}
    storage = client.get("/nodes/pve/storage").json()["data"]
    assert [s["storage"] for s in storage] == ["local-lvm"]
    assert storage[0]["enabled"] == 1 and storage[0]["active"] == 1 and isinstance(storage[0]["total"], int)


def test_nodes(client: httpx.Client) -> None:
    (node,) = client.get("/nodes").json()["data"]
    assert (node["id"], node["node"], node["status"], node["type"]) == ("node/pve", "pve", "online", "node")
    assert isinstance(node["maxcpu"], int) and isinstance(node["maxmem"], int)


# ------------------------------------------------------------------ errors
def test_missing_ct_is_500_in_reason_phrase(client: httpx.Client) -> None:
    resp = client.get("/nodes/pve/lxc/999/config")
    assert resp.status_code == 500
    assert resp.reason_phrase == "Configuration file 'nodes/pve/lxc/999.conf' does not exist"
    assert resp.json()["data"] is None
    assert resp.headers["connection"] == "close"


def test_unknown_route_is_501(client: httpx.Client) -> None:
    resp = client.get("/nodes/pve/foo")
    assert (resp.status_code, resp.reason_phrase) == (501, "Method 'GET /nodes/pve/foo' not implemented")


def test_parameter_verification_is_400_with_errors(client: httpx.Client) -> None:
    resp = client.get("/nodes/pve/lxc/abc/config")
    assert (resp.status_code, resp.reason_phrase) == (400, "Parameter verification failed.")
    assert resp.json()["errors"] == {"vmid": "type check ('integer') failed - got 'abc'"}
    resp = client.get("/nodes/pve/lxc/42/status/current")
    assert resp.json()["errors"] == {"vmid": "value must have a minimum value of 100"}


def test_unknown_node_fails_hostname_lookup(client: httpx.Client) -> None:
    resp = client.get("/nodes/xyz/lxc")
    assert resp.status_code == 500 and resp.reason_phrase.startswith("hostname lookup 'xyz' failed")


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "No ticket"),
    ({"Authorization": f"PVEAPIToken={TOKEN_ID}=00000000-0000-0000-0000-000000000000"}, "Authentication failed!"),
    ({"Cookie": "PVEAuthCookie=PVE:root@pam:66A1B2C3::forged"}, "Authentication failed!"),
], ids=["no-credentials", "wrong-token", "forged-ticket"])
def test_auth_failures_are_401_with_empty_body(lab: Lab, headers: dict[str, str], reason: str) -> None:
    resp = httpx.get(f"{lab.url}/version", headers=headers, verify=_tls(lab), timeout=10)
    assert (resp.status_code, resp.reason_phrase, resp.content) == (401, reason, b"")


def test_token_with_space_separator_is_accepted(lab: Lab) -> None:
    headers = {"Authorization": f"PVEAPIToken {TOKEN_ID}={lab.secret}"}
    assert httpx.get(f"{lab.url}/version", headers=headers, verify=_tls(lab), timeout=10).status_code == 200


def test_ticket_write_without_csrf_is_refused(lab: Lab) -> None:
    with httpx.Client(base_url=lab.url, verify=_tls(lab), timeout=10) as c:
        login = c.post("/access/ticket", data={"username": "root@pam", "password": PASSWORD}).json()["data"]
        assert login["username"] == "root@pam" and login["ticket"].startswith("PVE:root@pam:")
        bad = c.post("/access/ticket", data={"username": "root@pam", "password": "nope"})
        assert (bad.status_code, bad.reason_phrase, bad.json()) == (401, "authentication failure", {"data": None})
        c.cookies.set("PVEAuthCookie", login["ticket"])
        assert c.get("/version").status_code == 200
        forged = login["CSRFPreventionToken"].split(":")[0] + ":forged"
        for headers in ({}, {"CSRFPreventionToken": forged}):
            resp = c.put("/cluster/firewall/options", data={"enable": "1"}, headers=headers)
            assert (resp.status_code, resp.reason_phrase) == (401, "Permission denied - invalid csrf token")


def test_token_writes_need_no_csrf_and_rewrite_fw_file(lab: Lab, client: httpx.Client) -> None:
    before = len(lab.recompiled)
    resp = client.post("/nodes/pve/lxc/953/firewall/rules",
                       data={"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "443", "comment": "https"})
    assert resp.status_code == 200 and resp.json() == {"data": None}
    assert client.put("/nodes/pve/lxc/953/firewall/options", data={"enable": "1", "policy_in": "drop"}).status_code == 200
    text = lab.paths.fw_file(953).read_text()
    assert text == "[OPTIONS]\n\nenable: 1\npolicy_in: DROP\n\n[RULES]\n\nIN ACCEPT -p tcp -dport 443 # https\n"
    assert client.delete("/nodes/pve/lxc/953/firewall/rules/0").status_code == 200
    assert client.put("/nodes/pve/lxc/953/firewall/options", data={"delete": "enable,policy_in"}).status_code == 200
    assert not lab.paths.fw_file(953).exists()
    assert len(lab.recompiled) == before + 4
    resp = client.put("/nodes/pve/lxc/953/firewall/options", data={"enable": "maybe"})
    assert resp.status_code == 400 and resp.json()["errors"] == {"enable": "type check ('boolean') failed - got 'maybe'"}


def test_write_parameters_are_checked_like_pve(lab: Lab, client: httpx.Client) -> None:
    base = "/nodes/pve/lxc/960/firewall"
    resp = client.put(f"{base}/options", data={"policy_in": "sideways"})
    assert resp.json()["errors"] == {"policy_in": "value 'sideways' does not have a value in the enumeration 'ACCEPT, REJECT, DROP'"}
    assert client.put(f"{base}/options", data={"enable": "yes", "macfilter": "off"}).status_code == 200
    options = client.get(f"{base}/options").json()["data"]
    assert (options["enable"], options["macfilter"]) == (1, 0)
    stale = client.put(f"{base}/options", data={"enable": "0", "digest": "0" * 40})
    assert (stale.status_code, stale.reason_phrase) == (500, "detected modified configuration - file changed by other user? Try again.")
    assert client.put(f"{base}/options", data={"enable": "0", "digest": options["digest"]}).status_code == 200
    assert client.post(f"{base}/rules", data={"type": "group", "action": "phoenix-web"}).status_code == 200
    assert client.post(f"{base}/rules", data={"type": "in", "action": "accept", "macro": "SSH", "enable": "0"}).status_code == 200
    assert lab.paths.fw_file(960).read_text().endswith("[RULES]\n\n|IN SSH(ACCEPT)\nGROUP phoenix-web\n")
    missing = client.post(f"{base}/rules", data={"action": "ACCEPT"})
    assert missing.json()["errors"] == {"type": "property is missing and it is not optional"}


@pytest.fixture
def scratch_ct(lab: Lab) -> Iterator[int]:
    """A CT that only one test changes, removed afterwards so the listing tests stay exact."""
    lab.paths.ct_conf(970).write_text(CONF_953)
    yield 970
    lab.paths.ct_conf(970).unlink()


def test_config_put_delegates_to_pct(client: httpx.Client, scratch_ct: int) -> None:
    url = f"/nodes/pve/lxc/{scratch_ct}/config"
    resp = client.put(url, data={"hostname": "gateway", "onboot": "1"})
    assert resp.status_code == 200 and resp.json() == {"data": None}
    data = client.get(url).json()["data"]
    assert (data["hostname"], data["onboot"]) == ("gateway", 1)
    resp = client.put(url, data={"bogus": "1"})
    assert (resp.status_code, resp.reason_phrase) == (400, "Parameter verification failed.")
    assert "bogus" in resp.json()["errors"]


def test_snapshot_create_rejects_reserved_names(client: httpx.Client) -> None:
    resp = client.post("/nodes/pve/lxc/951/snapshot", data={"snapname": "current"})
    assert resp.status_code == 400 and "snapname" in resp.json()["errors"]
    resp = client.post("/nodes/pve/lxc/951/snapshot", data={})
    assert resp.json()["errors"] == {"snapname": "property is missing and it is not optional"}


# ------------------------------------------------------------------ permissions (privilege-separated tokens)
def _as_token(lab: Lab, token: str, secret: str) -> httpx.Client:
    return httpx.Client(base_url=lab.url, verify=_tls(lab), timeout=10, headers={"Authorization": f"PVEAPIToken={token}={secret}"})


def test_token_without_acls_sees_empty_lists_and_403(lab: Lab) -> None:
    with _as_token(lab, BARE_TOKEN, "22222222-2222-4222-8222-222222222222") as c:
        assert c.get("/version").status_code == 200
        assert c.get("/nodes/pve/lxc").json() == {"data": []}
        assert c.get("/cluster/resources").json() == {"data": []}
        assert c.get("/nodes/pve/storage").json() == {"data": []}
        (node,) = c.get("/nodes").json()["data"]
        assert node == {"id": "node/pve", "type": "node", "node": "pve", "status": "online"}
        resp = c.get("/nodes/pve/lxc/951/config")
        assert (resp.status_code, resp.reason_phrase) == (403, "Permission check failed (/vms/951, VM.Audit)")
        resp = c.get("/cluster/firewall/options")
        assert (resp.status_code, resp.reason_phrase) == (403, "Permission check failed (/, Sys.Audit)")


def test_token_acl_grants_audit_on_one_ct_only(lab: Lab) -> None:
    with _as_token(lab, AUDIT_TOKEN, "11111111-1111-4111-8111-111111111111") as c:
        assert [ct["vmid"] for ct in c.get("/nodes/pve/lxc").json()["data"]] == [951]
        assert c.get("/nodes/pve/lxc/951/config").json()["data"]["memory"] == 8192
        assert c.get("/nodes/pve/lxc/953/status/current").status_code == 403
        resp = c.put("/nodes/pve/lxc/951/firewall/options", data={"enable": "0"})
        assert (resp.status_code, resp.reason_phrase) == (403, "Permission check failed (/vms/951, VM.Config.Network)")


def test_proxmoxer_reports_permission_errors(lab: Lab) -> None:
    prox = ProxmoxAPI("127.0.0.1", port=lab.port, user="root@pam", token_name="bare",
                      token_value="22222222-2222-4222-8222-222222222222", verify_ssl=str(lab.ca), timeout=10)
    with pytest.raises(ResourceException) as exc:
        prox.nodes("pve").lxc(951).firewall.rules.get()
    assert str(exc.value) == "403 Forbidden: Permission check failed (/vms/951, VM.Audit)"


def test_acl_deepest_path_wins_and_propagates(tmp_path: Path) -> None:
    cfg = tmp_path / "user.cfg"
    cfg.write_text("token:ops@pve!t:0:1::\nacl:1:/:ops@pve,ops@pve!t:PVEAuditor:\nacl:1:/vms/952:ops@pve!t:NoAccess:\n"
                   "acl:0:/vms:ops@pve!t:PVEVMAdmin:\nrole:FwOnly:VM.Config.Network:\nacl:1:/vms/953:ops@pve!t:FwOnly:\n")
    perms = Permissions.load(cfg)
    assert perms.allowed("ops@pve!t", "/vms/951", "VM.Audit")                     # from / (propagated)
    assert not perms.allowed("ops@pve!t", "/vms/952", "VM.Audit")                 # deeper NoAccess wins
    assert not perms.allowed("ops@pve!t", "/vms/951", "VM.Config.Network")        # /vms ACL does not propagate
    assert not perms.allowed("ops@pve!t", "/vms/953", "VM.Config.Network")        # token right, but its user lacks it
    assert perms.allowed("root@pam!anything", "/", "Sys.Modify") and not perms.allowed("nobody@pve", "/", "Sys.Audit")


@pytest.fixture
def slow_auth_server(lab: Lab) -> Iterator[str]:
    home = lab.paths.home
    server = build_server(lab.paths, "127.0.0.1", 0, str(home / "cert.pem"), str(home / "key.pem"),
                          api=Api(lab.paths, state=lambda _: "stopped", pid=lambda _: None, recompile=lambda _: None), auth_delay=0.4)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/api2/json"
    server.shutdown()
    server.server_close()


def test_legacy_vmid_strings(lab: Lab) -> None:
    api = Api(lab.paths, state=lambda _: "stopped", pid=lambda _: None, recompile=lambda _: None, legacy_vmid=True)
    assert {ct["vmid"] for ct in api.handle("GET", "/nodes/pve/lxc", {})} == {"951", "953"}
    assert api.handle("GET", "/nodes/pve/lxc/951/status/current", {})["vmid"] == 951


def test_auth_failure_delay_is_configurable(lab: Lab, slow_auth_server: str) -> None:
    start = time.monotonic()
    resp = httpx.get(f"{slow_auth_server}/version", verify=_tls(lab), timeout=10)
    assert resp.status_code == 401 and time.monotonic() - start >= 0.4


# ------------------------------------------------------------------ pvesh (same handlers, no HTTP)
def _pvesh(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PHOENIX_LAB_HOME=str(lab.paths.home))
    return subprocess.run([sys.executable, "-m", "phoenix_lab.pvesh", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60, check=False)


def test_pvesh_prints_canonical_json(lab: Lab) -> None:
    proc = _pvesh(lab, "get", "/nodes/pve/lxc/951/firewall/options", "--output-format", "json")
    digest = hashlib.sha1(b"enable:1\npolicy_in:DROP\n").hexdigest()
    assert (proc.returncode, proc.stdout) == (0, f'{{"digest":"{digest}","enable":1,"policy_in":"DROP"}}\n')


def test_pvesh_json_pretty_is_json_xs_pretty(lab: Lab) -> None:
    proc = _pvesh(lab, "get", "/cluster/firewall/options", "--output-format=json-pretty")
    digest = hashlib.sha1(b"enable:1\npolicy_in:DROP\npolicy_out:ACCEPT\n").hexdigest()
    assert proc.stdout == f'{{\n   "digest" : "{digest}",\n   "enable" : 1,\n   "policy_in" : "DROP",\n   "policy_out" : "ACCEPT"\n}}\n'


def test_pvesh_errors_exit_255_with_code_on_stderr(lab: Lab) -> None:
    proc = _pvesh(lab, "get", "/nodes/pve/lxc/999/config", "--output-format", "json")
    assert proc.returncode == 255 and proc.stdout == ""
    assert proc.stderr.splitlines()[0] == "500 Configuration file 'nodes/pve/lxc/999.conf' does not exist"


def test_proxmoxer_local_backend_runs_lab_pvesh(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = tmp_path / "pvesh"
    wrapper.write_text(f"#!/bin/sh\ncd {REPO} && exec {sys.executable} -m phoenix_lab.pvesh \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(lab.paths.home))
    prox = ProxmoxAPI(backend="local", service="PVE", timeout=60)
    config = prox.nodes("pve").lxc(951).config.get()
    assert config["memory"] == 8192 and "firewall=1" in config["net0"]
    assert "data" not in config  # pvesh prints the bare data, not the envelope
    with pytest.raises(ResourceException) as exc:
        prox.nodes("pve").lxc(999).config.get()
    assert exc.value.status_code == 500


# ------------------------------------------------------------------ the suite's preflight against PVE's answers
def _api_target(lab: Lab, token_id: str, secret: str, monkeypatch: pytest.MonkeyPatch) -> Target:
    monkeypatch.setenv("PHX_TEST_SECRET", secret)
    return Target(source=Path("phoenix.toml"), inventory_dir=Path("inv"), node="pve", api_url=f"https://127.0.0.1:{lab.port}",
                  api_ca_bundle=str(lab.ca), token_id=token_id, token_secret_env="PHX_TEST_SECRET")


def test_preflight_passes_with_the_lab_token(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    ApiPlane(_api_target(lab, TOKEN_ID, lab.secret, monkeypatch)).preflight([951])


def test_preflight_names_a_rejected_token_in_one_line(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    plane = ApiPlane(_api_target(lab, TOKEN_ID, "33333333-3333-4333-8333-333333333333", monkeypatch))
    with pytest.raises(ProxmoxError) as exc:
        plane.preflight([951])
    assert "\n" not in str(exc.value) and f"API token {TOKEN_ID} was rejected (401" in str(exc.value)


def test_preflight_names_the_missing_privilege_and_the_acl(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A privilege-separated token without an ACL: PVE answers 403 naming path and privilege; the line says what to grant."""
    plane = ApiPlane(_api_target(lab, BARE_TOKEN, "22222222-2222-4222-8222-222222222222", monkeypatch))
    with pytest.raises(ProxmoxError) as exc:
        plane.preflight([951])
    text = str(exc.value)
    assert "\n" not in text and "(403 Permission check failed (/, Sys.Audit))" in text
    assert f"pveum acl modify / --tokens '{BARE_TOKEN}' --roles PVEAuditor" in text


# ------------------------------------------------------------------ the read-only surface monitoring clients walk
CLUSTER_FW_FULL = """[OPTIONS]

enable: 1
policy_in: DROP

[ALIASES]

gateway 198.18.0.153 # the nginx CT

[IPSET trusted]

198.18.0.0/24
!198.18.0.99 # not this one

[group webservers]

IN ACCEPT -p tcp -dport 443
"""


@contextlib.contextmanager
def written(path: Path, text: str) -> Iterator[None]:
    """Replace (or create) a file of the fake /etc/pve for one test, then put back what was there."""
    before = path.read_text() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    try:
        yield
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_text(before)


def test_cluster_status_is_the_standalone_node(client: httpx.Client) -> None:
    assert client.get("/cluster/status").json()["data"] == [
        {"type": "node", "id": "node/pve", "name": "pve", "ip": "198.18.0.13", "local": 1, "nodeid": 0,
         "online": 1, "level": ""}]


def test_not_backed_up_follows_jobs_cfg(lab: Lab, client: httpx.Client) -> None:
    listed = lambda: [(g["type"], g["vmid"]) for g in client.get("/cluster/backup-info/not-backed-up").json()["data"]]
    assert listed() == [("lxc", 951), ("lxc", 953)]
    with written(lab.paths.pve / "jobs.cfg", "vzdump: backup-daily\n\tschedule 21:00\n\tvmid 951\n\tstorage local\n"):
        assert listed() == [("lxc", 953)]
    with written(lab.paths.pve / "jobs.cfg", "vzdump: all-but\n\tall 1\n\texclude 953\n"):
        assert listed() == [("lxc", 953)]
    with written(lab.paths.pve / "jobs.cfg", "realm-sync: ldap\n\tvmid 951\n"):
        assert listed() == [("lxc", 951), ("lxc", 953)]  # only vzdump jobs back guests up


def test_templates_are_never_listed_as_not_backed_up(lab: Lab, client: httpx.Client) -> None:
    with written(lab.paths.ct_conf(900), "arch: amd64\nhostname: tpl\ntemplate: 1\nrootfs: local-lvm:base-900-disk-0,size=8G\n"):
        vmids = [g["vmid"] for g in client.get("/cluster/backup-info/not-backed-up").json()["data"]]
    assert 900 not in vmids and vmids == [951, 953]


def test_node_status_reads_this_host(client: httpx.Client) -> None:
    data = client.get("/nodes/pve/status").json()["data"]
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    assert data["memory"]["total"] == int(meminfo["MemTotal"].split()[0]) * 1024
    assert data["memory"]["used"] + data["memory"]["free"] == data["memory"]["total"]
    assert len(data["loadavg"]) == 3 and all(isinstance(x, str) for x in data["loadavg"])
    assert data["pveversion"] == "pve-manager/8.2.4/faa83925c9641325"
    assert isinstance(data["cpuinfo"]["cpus"], int) and data["rootfs"]["total"] > 0


def test_subscription_replication_and_qemu(client: httpx.Client) -> None:
    sub = client.get("/nodes/pve/subscription").json()["data"]
    assert sub["status"] == "notfound" and len(sub["serverid"]) == 32
    assert client.get("/nodes/pve/replication").json() == {"data": []}
    assert client.get("/nodes/pve/qemu").json() == {"data": []}
    resp = client.get("/nodes/pve/qemu/100/status/current")
    assert (resp.status_code, resp.reason_phrase) == (500, "Configuration file 'nodes/pve/qemu-server/100.conf' does not exist")
    assert client.get("/nodes/pve/qemu/abc/config").status_code == 400


def test_tasks_come_from_the_task_index(lab: Lab, client: httpx.Client) -> None:
    index = lab.paths.run / api_readonly.TASK_INDEX
    with written(index, ""):
        assert client.get("/nodes/pve/tasks").json() == {"data": []}
        api_readonly.record_task(lab.paths, "UPID:pve:00001234:00000000:6A000000:vzsnapshot:951:root@pam:")
        api_readonly.record_task(lab.paths, "UPID:pve:00001235:00000000:6A000010:vzdump:953:root@pam:", "job errors")
        tasks = client.get("/nodes/pve/tasks").json()["data"]
        assert [(t["type"], t["id"], t["pid"], t["starttime"], t["status"]) for t in tasks] == [
            ("vzdump", "953", 0x1235, 0x6A000010, "job errors"), ("vzsnapshot", "951", 0x1234, 0x6A000000, "OK")]
        assert [t["id"] for t in client.get("/nodes/pve/tasks", params={"vmid": "951"}).json()["data"]] == ["951"]
        assert len(client.get("/nodes/pve/tasks", params={"limit": "1"}).json()["data"]) == 1


def test_firewall_aliases_ipsets_groups(lab: Lab, client: httpx.Client) -> None:
    with written(lab.paths.fw_file(None), CLUSTER_FW_FULL):
        (alias,) = client.get("/cluster/firewall/aliases").json()["data"]
        assert {k: alias[k] for k in ("name", "cidr", "ipversion")} == {"name": "gateway", "cidr": "198.18.0.153", "ipversion": 4}
        assert [s["name"] for s in client.get("/cluster/firewall/ipset").json()["data"]] == ["trusted"]
        members = client.get("/cluster/firewall/ipset/trusted").json()["data"]
        assert [(m["cidr"], m.get("nomatch", 0)) for m in members] == [("198.18.0.0/24", 0), ("198.18.0.99", 1)]
        assert len({m["digest"] for m in members}) == 1
        assert [g["group"] for g in client.get("/cluster/firewall/groups").json()["data"]] == ["webservers"]
        (rule,) = client.get("/cluster/firewall/groups/webservers").json()["data"]
        assert (rule["type"], rule["action"], rule["dport"]) == ("in", "ACCEPT", "443")
        assert client.get("/cluster/firewall/ipset/nope").status_code == 500
    assert client.get("/cluster/firewall/groups").json() == {"data": []}
    assert client.get("/nodes/pve/firewall/rules").json() == {"data": []}


def test_cluster_reads_need_sys_audit(lab: Lab) -> None:
    with _as_token(lab, BARE_TOKEN, "22222222-2222-4222-8222-222222222222") as c:
        for path in ("/cluster/status", "/cluster/backup-info/not-backed-up"):
            resp = c.get(path)
            assert (resp.status_code, resp.reason_phrase) == (403, "Permission check failed (/, Sys.Audit)")
        assert c.get("/nodes/pve/status").status_code == 403
    with _as_token(lab, AUDIT_TOKEN, "11111111-1111-4111-8111-111111111111") as c:
        assert c.get("/nodes/pve/qemu/100/config").status_code == 403


@pytest.mark.parametrize("path", ["/cluster/status", "/nodes/pve/status", "/nodes/pve/subscription",
                                  "/nodes/pve/tasks", "/nodes/pve/qemu", "/nodes/pve/replication",
                                  "/cluster/backup-info/not-backed-up", "/nodes/pve/storage/local-lvm/status"])
def test_every_monitoring_read_is_implemented(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200
