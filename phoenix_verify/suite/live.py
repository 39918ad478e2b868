"""Session-wide accessors the thin tests use: the target's Proxmox state, a CT's facts, the host's facts.

They turn probe failures into one-line test failures (never tracebacks) and skip, with a reason, the in-CT
checks of a CT that is declared stopped.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from phoenix_model.deployment import DAEMON_UNIT, docker_service, role_unit
from phoenix_model.inventory import Container
from phoenix_model.pve_formats import CtConfig, FirewallFile
from phoenix_model.services import SERVICE_TYPES
from phoenix_verify.access import reachability
from phoenix_verify.access.ct_facts import CtFacts, ct_facts
from phoenix_verify.access.host_facts import HostFacts, HostProbeError, host_facts
from phoenix_verify.access.pct_backend import PctError
from phoenix_verify.access.proxmox import ControlPlane, ProxmoxError, control_plane
from phoenix_verify.checks import docker, firewall
from phoenix_verify.suite import hung, params

T = TypeVar("T")


def _read(read: Callable[[ControlPlane], T]) -> T:
    try:
        return read(control_plane(params.target()))
    except ProxmoxError as exc:
        pytest.fail(str(exc), pytrace=False)


# Memoised control-plane reads, so many one-line tests about one CT cost one call each.
@functools.cache
def status(ctid: int) -> str | None:
    """"running" / "stopped", or None when the CT does not exist."""
    return _read(lambda plane: plane.status(ctid))


@functools.cache
def ct_config(ctid: int) -> CtConfig | None:
    return _read(lambda plane: plane.config(ctid))


@functools.cache
def snapshots(ctid: int) -> dict[str, str | None] | None:
    return _read(lambda plane: plane.snapshots(ctid))


@functools.cache
def ct_firewall(ctid: int) -> FirewallFile | None:
    return _read(lambda plane: plane.ct_firewall(ctid))


@functools.cache
def cluster_firewall() -> FirewallFile:
    return _read(lambda plane: plane.cluster_firewall())


@functools.cache
def version() -> dict[str, Any] | None:
    return _read(lambda plane: plane.version())


def config(ct: Container) -> CtConfig:
    cfg = ct_config(ct.ctid)
    if cfg is None:
        pytest.fail(f"ct{ct.ctid}: does not exist on the node", pytrace=False)
    return cfg


def facts(ct: Container) -> CtFacts:
    if not ct.start_at_boot:
        pytest.skip(f"ct{ct.ctid} is declared stopped (start_at_boot false): nothing runs inside")
    try:
        return ct_facts(ct, params.target().pct)
    except PctError as exc:
        pytest.fail(str(exc), pytrace=False)


def host() -> HostFacts:
    inv = params.inventory()
    dirs = tuple(sorted(v.host_path for v in inv.shared_volumes.values()))
    try:
        return host_facts(params.target().pct, inv.host.bridge, inv.host.admin_user, dirs)
    except HostProbeError as exc:
        pytest.fail(str(exc), pytrace=False)


def require_service(ct: Container) -> None:
    """Service checks (vLLM's API, gateway routes to the CT) judge a running service: a stopped CT or role unit is
    the lxc layer's failure, reported once there, so here the check is skipped with the reason."""
    state = status(ct.ctid)
    if state != "running":
        pytest.skip(f"ct{ct.ctid} is {state or 'absent'}: the lxc layer reports it")
    svc = docker_service(ct)
    unit = DAEMON_UNIT if svc else role_unit(ct)
    if unit is None:
        return
    try:
        facts = ct_facts(ct, params.target().pct)
    except PctError as exc:
        pytest.skip(f"ct{ct.ctid}: cannot look inside ({exc}): the lxc layer reports it")
    unit_state = facts.units.get(unit, "not probed")
    if unit_state != "active":
        pytest.skip(f"ct{ct.ctid}: {unit} is {unit_state}: the lxc layer reports it")
    if svc and not any(c.status == "running" and not c.restarting for c in docker.containers_of(facts, svc)):
        pytest.skip(f"ct{ct.ctid}: no running {svc.image} container: the lxc layer reports it")
    responsive(ct)


LIVENESS_TIMEOUT_S = 3.0   # vLLM's /health answers at once when the server lives; a hung one never does
VLLM_HEALTH = SERVICE_TYPES["vllm"].listeners[0].health or "/"


def responsive(ct: Container) -> None:
    """Once per CT and session, a short liveness probe (vLLM's /health inside the CT): a server that accepts and
    never answers is marked hung here, after a few seconds, and its checks then fail at once naming it (see
    suite/hung.py) instead of each waiting for its own, longer, timeout."""
    if ct.vllm is not None and hung.reason(ct.ctid) is None:
        _probe_liveness(ct.ctid, ct.vllm.port)


@functools.cache
def _probe_liveness(ctid: int, port: int) -> None:
    from phoenix_verify.access.http import direct_request  # httpx/websockets: only for runs that probe services

    try:
        direct_request(ctid, params.target().pct, "GET", port, VLLM_HEALTH, timeout=LIVENESS_TIMEOUT_S)
    except TimeoutError as exc:
        hung.mark(ctid, str(exc))
    except PctError:
        pass   # cannot look inside: the lxc layer reports it


def require_gateway_path(ct: Container) -> None:
    """Checks through the gateway judge the gateway and the service; when the gateway CT cannot even open a TCP
    connection to the service's declared port (the firewall layer's reachability cell, probed once per session),
    they are skipped with that reason instead of failing a second time in another layer."""
    inv = params.inventory()
    gateway = inv.gateway()
    if gateway is None:
        return
    for dest, src, cell in reachability.plan(inv, firewall.allowed):
        if dest.ctid != ct.ctid or src.ctid != gateway.ctid or cell.expected != "allowed":
            continue
        try:
            seen = reachability.observe(inv, firewall.allowed, src, cell, params.target().pct)
        except PctError:
            return
        if seen.observed not in ("connected", "refused"):
            pytest.skip(f"{src.name} cannot connect to ct{ct.ctid}:{cell.port} ({seen.observed}): the firewall layer reports it")
