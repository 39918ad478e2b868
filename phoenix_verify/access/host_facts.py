"""Facts about the Proxmox host itself, read with one batched command through a testinfra host.

The host is `local://` when the suite runs on it (or in the lab's host namespace) and `ssh://root@pve`
otherwise, following the target's `access.pct`.
"""
from __future__ import annotations

import functools
import ipaddress
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

import testinfra

from phoenix_verify.access import probe_log
from phoenix_verify.access.ct_facts import split_sections

HOST_TIMEOUT_S = 30
SSH_OPTIONS = "-o BatchMode=yes"


class HostProbeError(RuntimeError):
    """The host could not be probed; one line naming it."""


@dataclass(frozen=True)
class HostFacts:
    bridge_addresses: tuple[ipaddress.IPv4Interface, ...]
    bridge_exists: bool
    subuid: tuple[tuple[str, int, int], ...]
    subgid: tuple[tuple[str, int, int], ...]
    admin_user: str | None                     # the passwd line's user name when it exists
    admin_sudo: bool
    dir_stats: Mapping[str, str] = field(default_factory=dict)   # path -> "uid:gid:mode" or "missing"
    nvidia_driver: str | None = None          # None: no nvidia-smi on the host


@functools.cache
def host(access: str = "local") -> testinfra.host.Host:
    if access == "local":
        return testinfra.get_host("local://")
    # BatchMode: a refused key fails at once (one line) instead of waiting for a password nobody types.
    return testinfra.get_host(f"{access}?timeout={HOST_TIMEOUT_S}", ssh_extra_args=SSH_OPTIONS)


def probe_script(bridge: str, admin: str, dirs: tuple[str, ...]) -> str:
    q = shlex.quote
    lines = [
        "s() { printf '@@%s\\n' \"$1\"; }",
        f"s bridge; if [ -d /sys/class/net/{q(bridge)}/bridge ]; then echo yes; else echo no; fi",
        f"s addr; ip -4 -o addr show dev {q(bridge)} 2>/dev/null",
        "s subuid; cat /etc/subuid 2>/dev/null",
        "s subgid; cat /etc/subgid 2>/dev/null",
        f"s admin; getent passwd {q(admin)} | cut -d: -f1",
        (f"s sudo; if id -nG {q(admin)} 2>/dev/null | tr ' ' '\\n' | grep -qx sudo; then echo yes; "
         f"elif [ -e /etc/sudoers.d/{q(admin)} ]; then echo yes; else echo no; fi"),
        ("s nvidia; if command -v nvidia-smi >/dev/null 2>&1; then "
         "timeout 20 nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1; else echo absent; fi"),
    ]
    for path in dirs:
        lines.append(f"s {q('dir:' + path)}; stat -c '%u:%g:%a' -- {q(path)} 2>/dev/null || echo missing")
    lines.append("s end")
    return "\n".join(lines) + "\n"


def _subids(lines: list[str]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            out.append((parts[0], int(parts[1]), int(parts[2])))
    return tuple(out)


def parse_host_facts(text: str, where: str) -> HostFacts:
    sec = split_sections(text)
    if "end" not in sec:
        raise HostProbeError(f"{where}: the host probe stopped early (no end marker)")
    one = lambda key: " ".join(sec.get(key, [])).strip()
    addrs = tuple(ipaddress.IPv4Interface(p.split()[p.split().index("inet") + 1]) for p in sec.get("addr", []) if "inet" in p.split())
    nvidia = one("nvidia")
    return HostFacts(
        bridge_addresses=addrs,
        bridge_exists=one("bridge") == "yes",
        subuid=_subids(sec.get("subuid", [])),
        subgid=_subids(sec.get("subgid", [])),
        admin_user=one("admin") or None,
        admin_sudo=one("sudo") == "yes",
        dir_stats={k[4:]: " ".join(v).strip() for k, v in sec.items() if k.startswith("dir:")},
        nvidia_driver=None if nvidia == "absent" else nvidia,
    )


@functools.cache
def host_facts(access: str, bridge: str, admin: str, dirs: tuple[str, ...]) -> HostFacts:
    where = "local host" if access == "local" else access
    try:
        out = probe_log.shell(host(access), probe_script(bridge, admin, dirs))
    except RuntimeError as exc:
        raise HostProbeError(f"{where}: cannot run the host probe: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
    return parse_host_facts(out.stdout, where)
