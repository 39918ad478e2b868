"""The batched CT probe: script shape (one sh script, safe quoting) and parsing of every section."""
from __future__ import annotations

import ipaddress
import subprocess

import pytest

from phoenix_model.inventory import load_inventory
from phoenix_verify.access.ct_facts import ProbePlan, parse_facts, plan_for, probe_script
from phoenix_verify.access.pct_backend import PctError

SS_OUTPUT = """@@uid_map
         0     100000      65536
@@gid_map
         0     100000      65536
@@hostname
Nginx-VscodeRag
@@addr
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 198.18.0.153/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever preferred_lft forever
@@route
default via 198.18.0.1 dev eth0
@@listen_ss
LISTEN 0      511    0.0.0.0:80  0.0.0.0:*
LISTEN 0      511       [::]:443    [::]:*
@@ps
      1 root     /sbin/init
     47 root     nginx: master process /usr/sbin/nginx -g daemon on; master_process on;
@@mountinfo
600 590 0:45 / / rw,relatime - overlay overlay rw
610 600 259:1 /srv/ssl /etc/nginx/ssl rw,relatime - ext4 /dev/vda rw
@@stat:/etc/nginx/ssl
0:0:755
@@write:/etc/nginx/ssl
yes
@@unit:nginx
active
@@end
"""

PROC_LISTEN = """@@uid_map
         0     100000      65536
@@listen_proc
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 9900A8C0:1F40 0500A8C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1
@@end
"""


def test_parses_every_section() -> None:
    facts = parse_facts(953, SS_OUTPUT)
    assert facts.uid_map == facts.gid_map == ((0, 100000, 65536),)
    assert facts.hostname == "Nginx-VscodeRag"
    assert ("eth0", ipaddress.IPv4Interface("198.18.0.153/24")) in facts.addresses
    assert facts.default_gateway == "198.18.0.1"
    assert facts.listening_ports() == {80, 443}
    assert facts.processes[1].args.startswith("nginx: master process")
    assert facts.mount_at("/etc/nginx/ssl").source == "/dev/vda"
    assert facts.mount_at("/nope") is None
    assert (facts.stats["/etc/nginx/ssl"], facts.writable["/etc/nginx/ssl"], facts.units["nginx"]) == ("0:0:755", True, "active")


def test_proc_net_tcp_fallback_keeps_only_listeners() -> None:
    facts = parse_facts(950, PROC_LISTEN)
    assert facts.listening == {("0.0.0.0", 8000), ("127.0.0.1", 53)}


def test_truncated_output_is_an_error_naming_the_ct() -> None:
    with pytest.raises(PctError, match="^ct951: the fact probe stopped early"):
        parse_facts(951, SS_OUTPUT.replace("@@end\n", ""))


def test_plan_for_lab_gateway_covers_mounts_writers_and_unit(lab_dir) -> None:
    ct = load_inventory(lab_dir).container(953)
    plan = plan_for(ct)
    assert set(plan.paths) == {m.mount_path for m in ct.shared_mounts}
    assert all(uid == 0 for _, uid in plan.writers)       # owner 100000 on the host = root inside
    assert plan.units == ("nginx",)


def test_script_runs_in_plain_sh_and_quotes_hostile_paths(tmp_path) -> None:
    hostile = tmp_path / "a b'; touch PWNED; '"
    hostile.mkdir()
    script = probe_script(ProbePlan(paths=(str(hostile),), writers=((str(hostile), 0),), units=("no-such-unit",)))
    out = subprocess.run(["/bin/sh", "-c", script], check=True, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    facts = parse_facts(1, out.stdout)
    assert not (tmp_path / "PWNED").exists()
    assert facts.stats[str(hostile)].count(":") == 2
    assert facts.writable[str(hostile)] is True
    assert list(hostile.iterdir()) == []                  # the write test cleans up after itself
    assert facts.processes and facts.mounts
