"""Comparison logic for the host layer: declared HostSpec / shared volumes vs. host facts and the API."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from phoenix_model.inventory import HostSpec, SharedVolume
from phoenix_model.pve_formats import FirewallFile
from phoenix_verify.access.host_facts import HostFacts

VERSION_SHAPE = re.compile(r"^\d+\.\d+(\.\d+)?(-\d+)?$")
DEFAULT_MODE = {"ssl_certs": "755", "nginx_sites": "755"}   # phoenix_orchestrator.sh L716-735; others 775


def bridge(spec: HostSpec, facts: HostFacts) -> list[str]:
    if not facts.bridge_exists:
        return [f"host: bridge {spec.bridge} does not exist"]
    return [] if spec.address in facts.bridge_addresses else \
        [f"host: bridge {spec.bridge}: expected address {spec.address}, found {[str(a) for a in facts.bridge_addresses]}"]


def api_version(data: dict[str, Any] | None) -> list[str]:
    if not data:
        return ["host: GET /version returned nothing"]
    problems = [f"host: /version lacks {k!r}" for k in ("version", "release", "repoid") if k not in data]
    version = str(data.get("version", ""))
    if version and not VERSION_SHAPE.match(version):
        problems.append(f"host: /version version {version!r} is not shaped like 8.2.4")
    if version and "release" in data and not version.startswith(str(data["release"])):
        problems.append(f"host: /version release {data['release']!r} does not prefix version {version!r}")
    return problems


def datacenter_firewall(spec: HostSpec, cluster: FirewallFile) -> list[str]:
    expected = {"enable": int(spec.firewall_enabled), "policy_in": spec.policy_in.upper(), "policy_out": spec.policy_out.upper()}
    found = {"enable": cluster.options.get("enable", 0), "policy_in": cluster.options.get("policy_in", "DROP"),
             "policy_out": cluster.options.get("policy_out", "ACCEPT")}
    return [f"host: cluster.fw {k}: expected {expected[k]!r}, found {found[k]!r}" for k in expected if expected[k] != found[k]]


def expected_mode(volume: SharedVolume) -> str:
    return DEFAULT_MODE.get(volume.name, "775")


def shared_dir(volume: SharedVolume, facts: HostFacts) -> list[str]:
    found = facts.dir_stats.get(volume.host_path, "not probed")
    if found == "missing":
        return [f"host: shared volume {volume.name}: {volume.host_path} does not exist"]
    expected = f"{volume.owner_uid}:{volume.owner_gid}:{expected_mode(volume)}"
    return [] if found == expected else \
        [f"host: shared volume {volume.name}: {volume.host_path} expected uid:gid:mode {expected}, found {found}"]


def subids_cover(kind: str, ranges: Iterable[tuple[int, int]], delegated: tuple[tuple[str, int, int], ...]) -> list[str]:
    """Every host range of an idmap in use must be delegated to root in /etc/sub{u,g}id (docs/proxmox-formats.md §4)."""
    root = [(start, start + count) for user, start, count in delegated if user == "root"]
    return [f"host: /etc/sub{kind}id does not delegate {first}-{first + count - 1} to root (root has {root})"
            for first, count in sorted(set(ranges)) if not any(lo <= first and first + count <= hi for lo, hi in root)]


def admin_user(spec: HostSpec, facts: HostFacts) -> list[str]:
    if facts.admin_user != spec.admin_user:
        return [f"host: admin user {spec.admin_user!r} does not exist"]
    return [] if facts.admin_sudo or not spec.admin_sudo else [f"host: admin user {spec.admin_user!r} has no sudo"]


def gpu_driver(spec: HostSpec, facts: HostFacts) -> list[str]:
    if facts.nvidia_driver is None:
        return [f"host: nvidia driver: expected {spec.nvidia_driver_version}, found no nvidia-smi (no driver installed)"]
    return [] if facts.nvidia_driver == spec.nvidia_driver_version else \
        [f"host: nvidia driver: expected {spec.nvidia_driver_version}, found {facts.nvidia_driver}"]
