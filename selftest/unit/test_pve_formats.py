"""Proxmox formats (docs/proxmox-formats.md §1-2): the documented examples byte-exact, canonical ordering, round trips."""
from __future__ import annotations

import hashlib
import os
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_model.pve_formats import (
    FirewallFile,
    FwRule,
    MountPoint,
    Net0,
    Startup,
    decode_text,
    encode_text,
    listsnapshot_output,
    parse_ct_config,
    parse_firewall_file,
    parse_fw_rule,
    parse_listsnapshot,
    parse_pct_list,
    parse_property_string,
    pct_config_output,
    pct_list_output,
    pct_status_output,
    print_fw_rule,
    print_property_string,
    rules_as_api,
    write_ct_config,
    write_firewall_file,
)

NET0 = "name=eth0,bridge=vmbr0,firewall=1,gw=192.168.10.1,hwaddr=BC:24:11:5E:7A:01,ip=192.168.10.50/24,type=veth"
CONF_950 = f"""#Web frontend%3A managed by ansible
arch: amd64
cores: 2
features: keyctl=1,nesting=1
hostname: ct-web
memory: 2048
mp0: /srv/shared/web,mp=/srv/web
net0: {NET0}
onboot: 1
ostype: debian
parent: pre-upgrade
rootfs: local-lvm:vm-950-disk-0,size=8G
startup: order=2,up=30
swap: 512
tags: infra;web
unprivileged: 1
lxc.idmap: u 0 100000 1000
lxc.idmap: g 0 100000 1000

[pre-upgrade]
#before apt upgrade
arch: amd64
cores: 2
hostname: ct-web
memory: 2048
net0: {NET0}
rootfs: local-lvm:vm-950-disk-0,size=8G
snaptime: 1717243200
unprivileged: 1
"""
FW_950 = """[OPTIONS]

enable: 1
policy_in: DROP
log_level_in: nolog

[IPSET ipfilter-net0]

192.168.10.50

[RULES]

IN ACCEPT -source 192.168.10.0/24 -p tcp -dport 22 -log nolog # ssh from mgmt
IN SSH(ACCEPT) -i net0
|IN ACCEPT -p tcp -dport 80
GROUP webservers -i net0
"""


# ------------------------------------------------------------------ property strings
def test_net0_is_written_name_first_then_sorted() -> None:
    shuffled = "type=veth,ip=192.168.10.50/24,hwaddr=BC:24:11:5E:7A:01,gw=192.168.10.1,firewall=1,bridge=vmbr0,name=eth0"
    assert print_property_string(parse_property_string(shuffled, "net0"), "net0") == NET0


def test_mount_point_volume_is_bare_and_first_then_mp() -> None:
    values = {"size": "8G", "mp": "/srv/web", "volume": "local-lvm:vm-950-disk-1", "backup": "1"}
    assert print_property_string(values, "mp0") == "local-lvm:vm-950-disk-1,mp=/srv/web,backup=1,size=8G"
    assert print_property_string({"volume": "local-lvm:vm-950-disk-0", "size": "8G"}, "rootfs") == "local-lvm:vm-950-disk-0,size=8G"


def test_typed_property_views() -> None:
    net = Net0.parse("bridge=vmbr0,hwaddr=bc:24:11:5e:7a:01,ip=dhcp,name=eth0,type=veth")
    assert (net.name, net.bridge, net.firewall, net.hwaddr, net.ip) == ("eth0", "vmbr0", False, "BC:24:11:5E:7A:01", "dhcp")
    assert Net0.parse(NET0).firewall is True
    mp = MountPoint.parse("/srv/shared/web,mp=/srv/web,ro=1")
    assert (mp.volume, mp.mp, mp.options, mp.is_bind) == ("/srv/shared/web", "/srv/web", {"ro": "1"}, True)
    assert Startup.parse("up=30,order=2") == Startup(order=2, up=30, down=None)


def test_typed_views_serialise_canonically() -> None:
    shuffled = "type=veth,ip=192.168.10.50/24,hwaddr=bc:24:11:5e:7a:01,gw=192.168.10.1,firewall=yes,bridge=vmbr0,name=eth0"
    assert Net0.parse(shuffled).to_property_string() == NET0
    assert Net0.parse("name=eth0,bridge=vmbr0,firewall=0,tag=20").to_property_string() == "name=eth0,bridge=vmbr0,tag=20,type=veth"
    assert MountPoint.parse("mp=/srv/web,ro=1,/srv/shared/web").to_property_string() == "/srv/shared/web,mp=/srv/web,ro=1"
    assert Startup(order=2, up=30, down=None).to_property_string() == "order=2,up=30"


SAFE_VALUE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789./:_-", min_size=1, max_size=12)
KEY = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(values=st.dictionaries(KEY, SAFE_VALUE, max_size=8), name=SAFE_VALUE, seed=st.integers(0, 1000))
def test_net_property_string_round_trip_and_canonical(values: dict[str, str], name: str, seed: int) -> None:
    values = {**values, "name": name}
    text = print_property_string(values, "net0")
    assert parse_property_string(text, "net0") == values
    parts = text.split(",")
    random.Random(seed).shuffle(parts)
    assert print_property_string(parse_property_string(",".join(parts), "net0"), "net0") == text
    assert text.startswith(f"name={name}")


@settings(max_examples=60, deadline=None)
@given(values=st.dictionaries(KEY.filter(lambda k: k not in ("volume", "mp")), SAFE_VALUE, max_size=6),
       volume=SAFE_VALUE.filter(lambda v: "=" not in v), mp=SAFE_VALUE)
def test_mp_property_string_round_trip(values: dict[str, str], volume: str, mp: str) -> None:
    values = {**values, "volume": volume, "mp": mp}
    text = print_property_string(values, "mp3")
    assert text.startswith(f"{volume},mp={mp}")
    assert parse_property_string(text, "mp3") == values


# ------------------------------------------------------------------ /etc/pve/lxc/<id>.conf
def test_documented_conf_parses_to_api_types() -> None:
    cfg = parse_ct_config(CONF_950)
    api = cfg.as_api()
    assert api["description"] == "Web frontend: managed by ansible\n"
    assert api["memory"] == 2048 and api["swap"] == 512 and api["cores"] == 2
    assert api["onboot"] == 1 and api["unprivileged"] == 1
    assert api["features"] == "keyctl=1,nesting=1" and api["net0"] == NET0 and api["parent"] == "pre-upgrade"
    assert api["lxc"] == [["lxc.idmap", "u 0 100000 1000"], ["lxc.idmap", "g 0 100000 1000"]]
    assert api["digest"] == hashlib.sha1(CONF_950.encode()).hexdigest()
    assert "snapshots" not in api and "pending" not in api
    snap = cfg.snapshots["pre-upgrade"].current
    assert snap["snaptime"] == 1717243200 and snap["description"] == "before apt upgrade\n"


def test_documented_conf_is_written_back_byte_exact() -> None:
    assert write_ct_config(parse_ct_config(CONF_950)) == CONF_950


def test_conf_reader_accepts_lxc_equals_and_boolean_words() -> None:
    cfg = parse_ct_config("onboot: yes\nunprivileged: off\nlxc.cgroup2.devices.allow = c 195:* rwm\n")
    assert cfg.current == {"onboot": 1, "unprivileged": 0}
    assert write_ct_config(cfg) == "onboot: 1\nunprivileged: 0\nlxc.cgroup2.devices.allow: c 195:* rwm\n"


def test_pending_section_is_kept_apart_and_merged_unless_current() -> None:
    cfg = parse_ct_config("memory: 512\nswap: 512\n\n[pve:pending]\ndelete: swap\nmemory: 1024\n")
    assert cfg.current == {"memory": 512, "swap": 512}
    assert cfg.pending == {"delete": "swap", "memory": 1024}
    assert cfg.as_api(current=True)["memory"] == 512
    merged = cfg.as_api(current=False)
    assert merged["memory"] == 1024 and "swap" not in merged and "delete" not in merged


def test_description_encoding_matches_pve_encode_text() -> None:
    assert encode_text("Web frontend: managed by ansible") == "Web frontend%3A managed by ansible"
    assert encode_text("a\nb%c é") == "a%0Ab%c %C3%A9"
    assert decode_text("Web frontend%3A x%0A") == "Web frontend: x\n"


def test_pct_config_output_has_no_digest_no_snapshots_and_lxc_last() -> None:
    out = pct_config_output(parse_ct_config(CONF_950))
    lines = out.splitlines()
    assert lines[0] == "arch: amd64"
    assert "description: Web frontend%3A managed by ansible%0A" in lines
    assert lines[-2:] == ["lxc.idmap: u 0 100000 1000", "lxc.idmap: g 0 100000 1000"]
    assert "digest" not in out and "[pre-upgrade]" not in out and "snaptime" not in out
    assert "parent: pre-upgrade" in lines and out.endswith("\n")


# ------------------------------------------------------------------ .fw files
def test_documented_fw_file_round_trips_byte_exact() -> None:
    fw = parse_firewall_file(FW_950)
    assert fw.options == {"enable": 1, "policy_in": "DROP", "log_level_in": "nolog"}
    assert fw.ipsets == {"ipfilter-net0": ["192.168.10.50"]}
    assert write_firewall_file(fw) == FW_950


def test_documented_rules_api_shape() -> None:
    rules = rules_as_api(parse_firewall_file(FW_950).rules)
    digest = rules[0]["digest"]
    assert len(digest) == 40 and all(r["digest"] == digest for r in rules)
    stripped = [{k: v for k, v in r.items() if k != "digest"} for r in rules]
    assert stripped == [
        {"pos": 0, "type": "in", "action": "ACCEPT", "source": "192.168.10.0/24", "proto": "tcp", "dport": "22",
         "log": "nolog", "enable": 1, "comment": "ssh from mgmt", "ipversion": 4},
        {"pos": 1, "type": "in", "action": "ACCEPT", "macro": "SSH", "iface": "net0", "enable": 1},
        {"pos": 2, "type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "80", "enable": 0},
        {"pos": 3, "type": "group", "action": "webservers", "iface": "net0", "enable": 1},
    ]


def test_rules_digest_follows_copy_list_with_digest() -> None:
    rules = rules_as_api([FwRule(type="in", action="DROP", proto="udp")])
    expected = hashlib.sha1(b"action:DROP\nenable:1\nproto:udp\ntype:in\n").hexdigest()
    assert rules[0]["digest"] == expected


def test_fw_options_are_normalised_and_digested_like_pve() -> None:
    fw = parse_firewall_file("[options]\nenable: 1\npolicy_in: drop\nlog_level_in: NOLOG\nmacfilter: 0\n")
    assert fw.options == {"enable": 1, "policy_in": "DROP", "log_level_in": "nolog", "macfilter": 0}
    sha = hashlib.sha1(b"enable:1\nlog_level_in:nolog\nmacfilter:0\npolicy_in:DROP\n").hexdigest()
    assert fw.options_digest() == sha
    assert FirewallFile().options_digest() == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_rule_parser_accepts_long_options_and_ignores_option_order() -> None:
    a = parse_fw_rule("IN ACCEPT -source 198.18.0.153 -p tcp -dport 8000 # from gateway")
    b = parse_fw_rule("in accept --dport 8000 -proto tcp --source 198.18.0.153 # from gateway")
    assert a == b
    assert a is not None and (a.type, a.action, a.proto, a.dport, a.comment) == ("in", "ACCEPT", "tcp", "8000", "from gateway")
    assert parse_fw_rule("not a rule") is None


def test_cluster_fw_sections_with_comments_and_groups() -> None:
    text = ("[OPTIONS]\n\nenable: 1\n\n[ALIASES]\n\ngateway 198.18.0.153 # nginx\n\n"
            "[IPSET management] # admins\n\n198.18.0.0/24\n\n[group phoenix-web] # web tier\n\nIN HTTPS(ACCEPT)\n")
    fw = parse_firewall_file(text)
    assert fw.options == {"enable": 1} and fw.aliases == {"gateway": "198.18.0.153"}
    assert fw.ipsets == {"management": ["198.18.0.0/24"]}
    assert fw.groups == {"phoenix-web": [FwRule(type="in", action="ACCEPT", macro="HTTPS")]}


def test_empty_fw_config_writes_nothing() -> None:
    assert write_firewall_file(FirewallFile()) == ""


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789./:_,-", min_size=1, max_size=16)
COMMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC0123456789.:,-()", min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def fw_rules(draw: st.DrawFn) -> FwRule:
    rtype = draw(st.sampled_from(["in", "out", "group"]))
    if rtype == "group":
        action, macro = draw(st.from_regex(r"[a-z][a-z0-9\-]{0,10}", fullmatch=True)), None
    else:
        action = draw(st.sampled_from(["ACCEPT", "DROP", "REJECT"]))
        macro = draw(st.none() | st.from_regex(r"[A-Z][A-Za-z0-9]{0,8}", fullmatch=True))
    opt = st.none() | TOKEN
    return FwRule(type=rtype, action=action, macro=macro, enable=draw(st.booleans()), iface=draw(opt),
                  source=draw(opt), dest=draw(opt), proto=draw(opt), dport=draw(opt), sport=draw(opt),
                  log=draw(st.none() | st.sampled_from(["nolog", "info", "debug"])), icmp_type=draw(opt),
                  comment=draw(st.none() | COMMENT))


@settings(max_examples=100, deadline=None)
@given(rule=fw_rules())
def test_fw_rule_round_trip(rule: FwRule) -> None:
    assert parse_fw_rule(print_fw_rule(rule)) == rule


@settings(max_examples=40, deadline=None)
@given(rules=st.lists(fw_rules(), max_size=6), enable=st.sampled_from([0, 1]))
def test_fw_file_round_trip(rules: list[FwRule], enable: int) -> None:
    fw = FirewallFile(options={"enable": enable, "policy_in": "DROP"}, rules=rules, ipsets={"mgmt": ["198.18.0.0/24"]})
    text = write_firewall_file(fw)
    assert write_firewall_file(parse_firewall_file(text)) == text
    assert parse_firewall_file(text).rules == rules


# ------------------------------------------------------------------ pct output
def test_pct_list_documented_output() -> None:
    out = pct_list_output([(951, "stopped", "snapshot", "ct-db"), (950, "running", "", "ct-web")])
    assert out == ("VMID       Status     Lock         Name                \n"
                   "950        running                 ct-web              \n"
                   "951        stopped    snapshot     ct-db               \n")
    assert parse_pct_list(out) == [{"vmid": "950", "status": "running", "lock": "", "name": "ct-web"},
                                   {"vmid": "951", "status": "stopped", "lock": "snapshot", "name": "ct-db"}]
    assert pct_list_output([]) == ""


def test_pct_status_output() -> None:
    assert pct_status_output("running") == "status: running\n"
    assert pct_status_output(None) == "status: unknown\n"


@pytest.fixture
def utc() -> object:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield None
    if old is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_listsnapshot_documented_output(utc: object) -> None:
    snaps = {"pre-upgrade": {"snaptime": 1717243200, "description": "before apt upgrade\nsecond line\n"}}
    out = listsnapshot_output(snaps, parent="pre-upgrade")
    assert out == ("`-> pre-upgrade                 2024-06-01 12:00:00     before apt upgrade\n"
                   " `-> current                                            You are here!\n")
    assert parse_listsnapshot(out) == ["pre-upgrade", "current"]


def test_listsnapshot_without_snapshots_shows_only_current() -> None:
    # printf("%s %-27s %-23s %s\n") with an empty time column
    assert listsnapshot_output({}, parent=None) == "`-> " + "current".ljust(27) + " " + " " * 23 + " You are here!\n"


LINE = st.one_of(
    st.text(alphabet="abcdefgIOUTNRLSP[]|#:=-,. 0123456789\t", max_size=40),
    st.sampled_from(["[OPTIONS]", "[RULES]", "[IPSET x]", "[group g]", "[pve:pending]", "[snap1]", "IN ACCEPT -p",
                     "|OUT DROP -dport", "lxc.idmap = u 0", "memory: lots", "onboot: maybe", "#%ZZ%"]),
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(LINE, max_size=12))
def test_parsers_never_crash_on_malformed_files(lines: list[str]) -> None:
    """Hand-edited files reach the suite: parsing must yield a structure (the checks then report), not raise."""
    text = "\n".join(lines) + "\n"
    cfg = parse_ct_config(text)
    assert len(cfg.as_api()["digest"]) == 40
    fw = parse_firewall_file(text)
    assert isinstance(write_firewall_file(fw), str)
    assert all(isinstance(rule, FwRule) for rule in fw.rules)
