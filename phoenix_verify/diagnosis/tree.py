"""Inside-out diagnosis (strategy §2.1/§2.3): from many red tests to the lowest failing layer per service.

Every service is modelled as the strategy's decision tree extended down to the host:
  host -> CT config (net0, firewall, mounts, idmap) -> CT running -> service health in the CT
       -> host-to-service path -> gateway-to-service / gateway route -> client.
A failing test is placed on one rung of one service's tree; the lowest failing rung of each service is its
root cause and everything above it (and every gateway route to it) is shown as a consequence, instead of 20
independent reds. Host-level failures absorb the failures they explain (firewall policy, shared volumes).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from phoenix_model.inventory import Inventory
from phoenix_model.services import all_routes
from phoenix_verify.suite.markers import RUNGS

MANUAL_HINTS = {"gateway-cert.sh": "certificates are renewed by hand (Phoenix: certificate-renewal-manager.sh --force)",
                "ct-recreate.sh": "re-create the CT from its template (back it up first): Proxmox fixes unprivileged at creation"}


@dataclass
class Failure:
    nodeid: str
    layer: str
    ctid: int | None
    remediation: str | None
    evidence: str
    rung: str = "client"   # as the test declares it (`@pytest.mark.rung`); undeclared sits on top and explains nothing
    obj: str = ""
    fix: dict[str, Any] | None = None    # {"script": "net0-firewall.sh", "args": ["951"]}

    @property
    def script(self) -> str:
        return str((self.fix or {}).get("script") or "")


@dataclass
class RootCause:
    layer: str
    object: str
    summary: str
    evidence: str
    remediation: str | None
    automatic: bool
    manual_step: str | None
    consequences: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    fix: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _test_name(nodeid: str) -> str:
    return nodeid.split("::")[-1].lower()


def failure_of(record: dict[str, Any]) -> Failure:
    """A failing test record of latest.json as a Failure, on the rung its test declares."""
    rung = record.get("rung")
    return Failure(record["nodeid"], record.get("layer") or "", record.get("ctid"), record.get("remediation"),
                   record.get("evidence") or "", rung=rung if rung in RUNGS else "client", fix=record.get("fix"))


def place(failure: Failure, inv: Inventory) -> Failure:
    """Name the object a failure is about on its declared rung (a gateway route's object is the guest behind it)."""
    gateway = inv.gateway()
    if failure.rung == "host":
        volume = next((v for v in inv.shared_volumes if v in failure.nodeid), None)
        failure.obj = f"volume:{volume}" if volume else "host"
        return failure
    if failure.rung == "gateway-route" and failure.layer == "gateway":
        route = _route_key(failure.nodeid)
        backend = route_backend(route, inv) if route else None
        if route and backend is not None:
            failure.ctid, failure.obj = backend, f"gateway:{route}"
            return failure
        failure.rung = "client"
    if failure.layer == "gateway" and failure.ctid is None and gateway is not None:
        failure.ctid = gateway.ctid
    failure.obj = f"ct{failure.ctid}" if failure.ctid else failure.layer
    return failure


def _priority(failure: Failure) -> tuple[int, int]:
    """Lowest rung first; on one rung, a failure whose fix is manual (a certificate) explains the others."""
    return RUNGS.index(failure.rung), 0 if failure.script in MANUAL_HINTS else 1


def _route_keys() -> dict[str, tuple[str, str | None]]:
    """Route key (a location, or a vhost's label) -> (role, vLLM model type) of the service registry's routes."""
    return {key: (st.role, gr.model_type) for st, gr in all_routes() for key in gr.diagnosis_keys()}


def _route_key(nodeid: str) -> str | None:
    """The first registered route key a test id names (longest key first where two start at the same place)."""
    keys = sorted(_route_keys(), key=len, reverse=True)
    found = re.search("|".join(re.escape(k) for k in keys), nodeid) if keys else None
    return found.group(0) if found else None


def route_backend(route: str, inv: Inventory) -> int | None:
    """The CT behind a gateway route key: the first service CT of the route's role (and vLLM model type)."""
    role, model_type = _route_keys().get(route, (None, None))
    for ct in inv.services():
        if ct.role == role and (model_type is None or (ct.vllm is not None and ct.vllm.model_type == model_type)):
            return ct.ctid
    return None


def _summary(failure: Failure) -> str:
    first = (failure.evidence or "").strip().splitlines()
    text = first[0] if first else _test_name(failure.nodeid).replace("_", " ")
    return text[:200]


def _root(failure: Failure) -> RootCause:
    manual = MANUAL_HINTS.get(failure.script)
    return RootCause(layer=failure.layer, object=failure.obj, summary=_summary(failure),
                     evidence=(failure.evidence or "")[:600], remediation=failure.remediation,
                     automatic=manual is None and bool(failure.fix), manual_step=manual, tests=[failure.nodeid], fix=failure.fix)


def diagnose(records: Iterable[dict[str, Any]], inv: Inventory) -> list[RootCause]:
    failures = [place(failure_of(r), inv) for r in records if r.get("outcome") in ("failed", "error")]
    roots: dict[str, RootCause] = {}
    consumed: set[int] = set()
    host_failures = [f for f in failures if f.rung == "host"]
    gateway = inv.gateway()
    by_service: dict[int | None, list[Failure]] = {}
    for f in failures:
        if f.rung != "host":
            by_service.setdefault(f.ctid, []).append(f)
    # 1. host root causes, and what they explain
    for f in host_failures:
        root = roots.setdefault(f.obj, _root(f))
        if f.nodeid not in root.tests:
            root.tests.append(f.nodeid)
        consumed.add(id(f))
        for other in failures:
            if id(other) in consumed or other.rung == "host":
                continue
            explained = ("firewall" in _test_name(f.nodeid) and other.layer == "firewall") or \
                (f.obj.startswith("volume:") and _mounts_volume(other, f.obj[7:], inv))
            if explained:
                root.consequences.append(_consequence(other, f.obj, root.summary))
                consumed.add(id(other))
    # 2a. "dependency not running" is explained by the dependency's own failure when it has one
    down = [f for f in failures if f.rung == "ct-running"]
    for f in failures:
        if f.rung == "deps" and id(f) not in consumed and down:
            root = roots.setdefault(down[0].obj, _root(down[0]))
            root.consequences.append(_consequence(f, down[0].obj, root.summary))
            consumed.add(id(f))
    # 2. per service: the lowest failing rung is the root cause
    lowest: dict[int | None, Failure] = {}
    for ctid, items in by_service.items():
        live = [f for f in items if id(f) not in consumed]
        if live:
            lowest[ctid] = min(live, key=_priority)
    gateway_down = gateway is not None and gateway.ctid in lowest and RUNGS.index(lowest[gateway.ctid].rung) <= RUNGS.index("service")
    for ctid, items in by_service.items():
        live = [f for f in items if id(f) not in consumed]
        if not live:
            continue
        base = lowest[ctid]
        if base.rung == "gateway-route" and gateway_down:
            continue  # explained by the gateway CT below
        key = base.obj
        root = roots.setdefault(key, _root(base))
        for f in live:
            consumed.add(id(f))
            if f is base:
                continue
            if f.rung == base.rung and f.obj == base.obj:
                root.tests.append(f.nodeid)
            else:
                root.consequences.append(_consequence(f, base.obj, root.summary))
    # 2b. cross-service checks (e.g. embedding dimension == qdrant's vectors.size) blocked by the other service
    for key, root in list(roots.items()):
        failure = next((f for f in failures if f.nodeid == root.tests[0]), None)
        if failure is None or failure.ctid is None or failure.rung == "host":
            continue
        name = _test_name(failure.nodeid)
        blocker = next((r for k, r in roots.items() if k != key and r.object.startswith("ct") and
                        (role := _role_of(r.object, inv)) is not None and role in name and
                        RUNGS.index(_rung_of(r, failures)) <= RUNGS.index(failure.rung)), None)
        if blocker is not None:
            blocker.consequences += [_consequence(f, blocker.object, blocker.summary) for f in failures if f.nodeid in root.tests]
            blocker.consequences += root.consequences
            del roots[key]
    # 2c. what a client sees of the gateway's config (drift, properties) when a route it serves is broken by that
    # same config: one fix, so one root cause, named where it is lowest (the route)
    if gateway is not None:
        for key, root in list(roots.items()):
            if root.object != f"ct{gateway.ctid}" or _rung_of(root, failures) != "client" or not root.fix:
                continue
            route = next((r for r in roots.values() if r is not root and r.fix == root.fix
                          and _rung_of(r, failures) == "gateway-route"), None)
            if route is not None:
                route.consequences += [_consequence(f, route.object, route.summary) for f in failures if f.nodeid in root.tests]
                route.consequences += root.consequences
                del roots[key]
    # 3. gateway routes blocked by a broken gateway CT
    if gateway_down and gateway is not None:
        groot = roots.get(lowest[gateway.ctid].obj)
        for f in failures:
            if id(f) not in consumed and groot is not None:
                groot.consequences.append(_consequence(f, groot.object, groot.summary))
                consumed.add(id(f))
    return sorted(roots.values(), key=lambda r: (RUNGS.index(_rung_of(r, failures)), r.object))


def _role_of(obj: str, inv: Inventory) -> str | None:
    ctid = obj[2:]
    return inv.containers[int(ctid)].role if ctid.isdigit() and int(ctid) in inv.containers else None


def _rung_of(root: RootCause, failures: list[Failure]) -> str:
    return next((f.rung for f in failures if f.nodeid == root.tests[0]), "client")


def _mounts_volume(failure: Failure, volume: str, inv: Inventory) -> bool:
    if failure.ctid is None or failure.ctid not in inv.containers:
        return False
    name = _test_name(failure.nodeid)
    return any(m.volume == volume for m in inv.container(failure.ctid).shared_mounts) and any(
        w in name for w in ("mount", "owner", "writ", "volume"))


def _consequence(failure: Failure, obj: str, summary: str) -> str:
    return f"{failure.nodeid} (blocked by {obj}: {summary[:120]})"


def remediation_order(roots: list[RootCause]) -> list[RootCause]:
    """Fix from the bottom of the tree up: host, then CT config, then running, then services, then the gateway."""
    order = {"host": 0, "firewall": 1, "lxc": 2, "vllm": 3, "gateway": 4}
    return sorted(roots, key=lambda r: (order.get(r.layer, 9), r.object))
