"""The topology picture of a run: host, bridge and firewall, every guest, the gateway and its routes, as inline SVG.

Drawn from two things a run's latest.json carries, so the nightly index and the promotion pages can draw the
same picture from a kept run without the inventory: `topology` (what the inventory declares, `describe`) and
the test records with the diagnosis' `root_causes`. Each object takes the worst outcome of the checks about
it (failed/error > passed > skipped: a skip is no verdict); root causes are ringed, their consequences hatched.
No JavaScript and no external reference: the SVG is a plain picture whose objects are links to anchors.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html import escape
from typing import Any

from phoenix_model.inventory import Inventory
from phoenix_verify.gateway.contract import routes
from phoenix_verify.suite.redact import redact

PASSED, FAILED, SKIPPED, NONE = "passed", "failed", "skipped", "none"
STROKE = {PASSED: "#1a7f37", FAILED: "#cf222e", SKIPPED: "#9a6700", NONE: "#8c959f"}
FILL = {PASSED: "#dafbe1", FAILED: "#ffebe9", SKIPPED: "#fff8c5", NONE: "#f6f8fa"}
HIGHLIGHT = "#0969da"
WIDTH = 1360
PER_ROW = 10
BOX_H = 92
ROW_GAP = 58


def describe(inv: Inventory) -> dict[str, Any]:
    """What the picture needs from the inventory (kept in latest.json as `topology`)."""
    gateway = inv.gateway()
    by_ct: dict[int, list[str]] = {}
    for route in routes(inv):
        by_ct.setdefault(route.ct.ctid, []).append(route.test_id)
    guests: list[dict[str, Any]] = [{"id": ct.ctid, "kind": "ct", "name": ct.name, "role": ct.role, "address": str(ct.network.ip.ip),
                                      "template": ct.is_template, "routes": sorted(set(by_ct.get(ct.ctid, [])))}
                                     for ct in inv.containers.values()]
    # VMs share the guest id space with CTs (a Proxmox VMID is unique across both), so they key the same way.
    guests += [{"id": vm.vmid, "kind": "vm", "name": vm.name, "address": str(vm.ip.ip) if vm.ip else "dhcp",
                "role": f"portainer {vm.portainer_role}" if vm.portainer_role not in ("", "none") else ", ".join(vm.docker_stacks) or "vm",
                "template": vm.is_template, "routes": []}
               for vm in inv.vms.values()]
    guests.sort(key=lambda g: g["id"])
    host = inv.host
    return {"host": {"name": host.hostname, "address": str(host.address.ip), "bridge": host.bridge,
                     "firewall": f"in:{host.policy_in} out:{host.policy_out}" if host.firewall_enabled else "off"},
            "gateway": gateway.ctid if gateway else None, "guests": guests}


def anchor(nodeid: str) -> str:
    """The id of a test's row in latest.html (set by the report's row hook), stable across runs."""
    return "t-" + hashlib.sha1(nodeid.encode()).hexdigest()[:12]


def object_of(record: dict[str, Any], topo: dict[str, Any]) -> str:
    """Which drawn object a check is about: host, bridge, host-fw, guest:N, fw:N, route:N, or global (not drawn)."""
    ctid, layer = record.get("ctid"), record.get("layer") or ""
    name = record["nodeid"].split("::")[-1].lower()
    known = {g["id"] for g in topo.get("guests", [])}
    if ctid is not None and int(ctid) in known:
        ctid = int(ctid)
        if layer == "gateway":
            return f"guest:{ctid}" if ctid == topo.get("gateway") else f"route:{ctid}"
        return f"fw:{ctid}" if layer == "firewall" else f"guest:{ctid}"
    if layer == "host":
        return "bridge" if "bridge" in name else "host-fw" if "firewall" in name else "host"
    if layer == "firewall":
        return "host-fw"
    if layer == "gateway" and topo.get("gateway") is not None:
        return f"guest:{topo['gateway']}"
    return "global"


def matrix_anchor(key: str) -> str:
    """The matrix column an object's checks are counted in: its guest's, or the host / suite-wide one."""
    kind, _, gid = key.partition(":")
    return f"m-guest-{gid}" if kind in ("guest", "fw", "route") else "m-host"


@dataclass
class State:
    """The checks about one object, and what the diagnosis says of it."""

    counts: dict[str, int] = field(default_factory=dict)
    root: list[str] = field(default_factory=list)      # "layer: summary" of each root cause placed here
    consequence: bool = False
    first_failing: str | None = None

    @property
    def outcome(self) -> str:
        if self.counts.get("failed", 0) or self.counts.get("error", 0):
            return FAILED
        if self.counts.get("passed", 0):
            return PASSED
        return SKIPPED if self.counts.get("skipped", 0) else NONE


def states(doc: dict[str, Any]) -> dict[str, State]:
    """Per drawn object: outcome counts, root causes placed on it, whether it is a consequence of one elsewhere."""
    topo = doc.get("topology") or {}
    out: dict[str, State] = {}
    by_nodeid: dict[str, str] = {}
    for rec in doc.get("tests", []):
        key = object_of(rec, topo)
        by_nodeid.setdefault(rec["nodeid"], key)
        st = out.setdefault(key, State())
        st.counts[rec["outcome"]] = st.counts.get(rec["outcome"], 0) + 1
        if rec["outcome"] in ("failed", "error") and st.first_failing is None:
            st.first_failing = rec["nodeid"]
    # Guests fail with their own firewall (a CT with a broken firewall is not conformant): roll fw:N into guest:N.
    for key, st in list(out.items()):
        if key.startswith("fw:"):
            guest = out.setdefault("guest:" + key[3:], State())
            for outcome, n in st.counts.items():
                guest.counts[outcome] = guest.counts.get(outcome, 0) + n
            guest.first_failing = guest.first_failing or st.first_failing
    roots: set[str] = set()
    for rc in doc.get("root_causes") or []:
        tests = rc.get("tests") or []
        placed = by_nodeid.get(tests[0]) if tests else None
        if placed is None:
            continue
        roots.add(placed)
        out.setdefault(placed, State()).root.append(f"{rc.get('layer')}: {rc.get('summary') or ''}"[:160])
    for rc in doc.get("root_causes") or []:
        for line in rc.get("consequences") or []:
            hit = by_nodeid.get(str(line).split(" (blocked by", 1)[0])
            if hit is not None and hit not in roots:
                out.setdefault(hit, State()).consequence = True
    return out


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Layout:
    """Where everything goes; pure geometry, computed from the topology alone."""

    host: Box
    gateway: Box | None
    guests: dict[int, Box]
    buses: list[float]          # y of the bridge line above each row of guests (the first one is the main bus)
    height: float


def layout(topo: dict[str, Any]) -> Layout:
    """Host top left, gateway top right, the other guests in rows of up to PER_ROW under bridge lines."""
    gw = topo.get("gateway")
    others = [g["id"] for g in topo.get("guests", []) if g["id"] != gw]
    cols = max(1, min(PER_ROW, len(others)))
    gap = 14
    w = min(240.0, (WIDTH - 20 - gap * (cols - 1)) / cols)
    rows = (len(others) + cols - 1) // cols
    buses = [128.0 + r * (BOX_H + ROW_GAP) for r in range(max(rows, 1))]
    guests = {gid: Box(10 + (i % cols) * (w + gap), buses[i // cols] + 40, w, BOX_H) for i, gid in enumerate(others)}
    gateway = Box(WIDTH - 330, 10, 320, 78) if gw is not None else None
    return Layout(Box(10, 10, 460, 78), gateway, guests, buses, buses[-1] + 40 + BOX_H + 12)


def _fit(text: str, width: float, px: float = 6.6) -> str:
    """Cut a label to what fits in `width` at ~px per character (no text measuring without a browser)."""
    room = max(4, int(width / px))
    return text if len(text) <= room else text[: room - 1] + "…"


def _t(text: Any) -> str:
    return escape(redact(str(text)))


class _Svg:
    def __init__(self, st: dict[str, State], link: str, checks_href: str) -> None:
        self.parts: list[str] = []
        self.st = st
        self.link = link
        self.checks_href = checks_href

    def state(self, key: str) -> State:
        return self.st.get(key) or State()

    def href(self, key: str) -> str:
        first = self.state(key).first_failing
        return escape(f"{self.link}#{anchor(first)}" if first else f"{self.checks_href}#{matrix_anchor(key)}")

    def title(self, key: str, label: str) -> str:
        st = self.state(key)
        counts = ", ".join(f"{n} {o}" for o, n in sorted(st.counts.items())) or "no checks"
        lines = [f"{label}: {counts}", *[f"ROOT CAUSE {r}" for r in st.root]]
        if st.consequence:
            lines.append("consequence of a root cause elsewhere")
        return f"<title>{_t(chr(10).join(lines))}</title>"

    def obj(self, key: str, label: str, body: str) -> None:
        st = self.state(key)
        self.parts.append(f'<a href="{self.href(key)}"><g id="obj-{key.replace(":", "-")}" class="obj" data-object="{key}" '
                          f'data-outcome="{st.outcome}" data-root="{"yes" if st.root else "no"}">{self.title(key, label)}{body}</g></a>')

    def box(self, key: str, b: Box, lines: list[str], extra: str = "") -> str:
        st = self.state(key)
        out = [(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="6" fill="{FILL[st.outcome]}" '
                f'stroke="{STROKE[st.outcome]}" stroke-width="2"/>')]
        if st.consequence and not st.root:
            out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="6" fill="url(#hatch)"/>')
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{b.x + 8:.1f}" y="{b.y + 18 + i * 16:.1f}"{weight}>{_t(_fit(line, b.w - 14))}</text>')
        out.append(extra)
        if st.root:
            out.append(_root_mark(b.x - 4, b.y - 4, b.w + 8, b.h + 8))
        return "".join(out)

    def shield(self, key: str, cx: float, cy: float, label: str) -> None:
        st = self.state(key)
        body = (f'<path d="M{cx - 8:.1f},{cy - 9:.1f} h16 v7 q0,9 -8,12 q-8,-3 -8,-12 z" fill="{FILL[st.outcome]}" '
                f'stroke="{STROKE[st.outcome]}" stroke-width="2"/>'
                f'<text x="{cx:.1f}" y="{cy + 3:.1f}" font-size="8" text-anchor="middle">FW</text>')
        if st.consequence and not st.root:
            body += f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="11" fill="url(#hatch)"/>'
        if st.root:
            body += _root_mark(cx - 15, cy - 15, 30, 30, round_=True)
        self.obj(key, label, body)


def _root_mark(x: float, y: float, w: float, h: float, round_: bool = False) -> str:
    rx = w / 2 if round_ else 9
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx:.1f}" fill="none" stroke="{STROKE[FAILED]}" '
            f'stroke-width="4" stroke-dasharray="7 3" class="root-mark"/>'
            f'<text x="{x + w + 4:.1f}" y="{y + 11:.1f}" font-size="10" font-weight="bold" fill="{STROKE[FAILED]}">ROOT CAUSE</text>')


_DEFS = ('<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
         '<rect width="3" height="8" fill="#cf222e" fill-opacity="0.22"/></pattern></defs>')


def _legend(x: float, y: float) -> str:
    items = [(PASSED, "passed"), (FAILED, "failed"), (SKIPPED, "only skipped"), (NONE, "no checks")]
    out = []
    for i, (outcome, text) in enumerate(items):
        cx = x + i * 108
        out.append(f'<rect x="{cx}" y="{y}" width="14" height="14" rx="3" fill="{FILL[outcome]}" stroke="{STROKE[outcome]}" '
                   f'stroke-width="2"/><text x="{cx + 19}" y="{y + 11}">{text}</text>')
    out.append(f'<rect x="{x}" y="{y + 24}" width="14" height="14" fill="url(#hatch)" stroke="#8c959f"/>'
               f'<text x="{x + 19}" y="{y + 35}">consequence</text>'
               f'<rect x="{x + 108}" y="{y + 24}" width="14" height="14" rx="3" fill="none" stroke="{STROKE[FAILED]}" '
               f'stroke-width="3" stroke-dasharray="5 2"/><text x="{x + 127}" y="{y + 35}">root cause</text>'
               f'<text x="{x + 216}" y="{y + 35}">FW = guest firewall (net0)</text>')
    return "".join(out)


def render(doc: dict[str, Any], *, link: str = "", checks_href: str = "", highlight: int | None = None) -> str:
    """The picture as an <svg> element. `link`: the report holding the rows (test anchors); `checks_href`: the page
    holding the matrix (its column anchors); both empty for latest.html itself. `highlight`: a guest to outline
    (the promotion candidate)."""
    topo = doc.get("topology") or {}
    if not topo.get("guests"):
        return '<p class="no-topology">No topology in this run (no inventory was loaded).</p>'
    lay = layout(topo)
    svg = _Svg(states(doc), link, checks_href)
    host = topo["host"]
    gw_id = topo.get("gateway")
    by_id = {g["id"]: g for g in topo["guests"]}
    main_bus = lay.buses[0]
    bridge = svg.state("bridge")
    # bridge: one line per row of guests, joined on the left
    lines = "".join(f'<line x1="6" y1="{y}" x2="{WIDTH - 6}" y2="{y}" stroke="{STROKE[bridge.outcome]}" stroke-width="4"/>'
                    for y in lay.buses)
    lines += f'<line x1="6" y1="{main_bus}" x2="6" y2="{lay.buses[-1]}" stroke="{STROKE[bridge.outcome]}" stroke-width="4"/>'
    lines += f'<text x="480" y="{main_bus - 6}" font-weight="bold">bridge {_t(host["bridge"])}</text>'
    svg.obj("bridge", f"bridge {host['bridge']}", lines)
    hb = lay.host
    svg.parts.append(f'<line x1="{hb.x + 40}" y1="{hb.y + hb.h}" x2="{hb.x + 40}" y2="{main_bus}" stroke="#57606a" stroke-width="2"/>')
    svg.obj("host", f"host {host['name']}", svg.box("host", hb, [f"host {host['name']}", f"{host['address']} on {host['bridge']}",
                                                                  "Proxmox VE node"]))
    svg.shield("host-fw", hb.x + 40, (hb.y + hb.h + main_bus) / 2, f"host firewall ({host['firewall']})")
    svg.parts.append(f'<text x="{hb.x + 56}" y="{(hb.y + hb.h + main_bus) / 2 + 4:.1f}" font-size="11">datacenter firewall '
                     f'{_t(host["firewall"])}</text>')
    svg.parts.append(_legend(hb.x + hb.w + 20, 16))
    targets: dict[int, Box] = dict(lay.guests)
    if lay.gateway is not None and gw_id is not None and gw_id in by_id:
        targets[gw_id] = lay.gateway
    for gid, b in targets.items():
        g = by_id[gid]
        link_x = b.x + b.w / 2 if gid != gw_id else b.x + 60
        top = main_bus if gid == gw_id else max(y for y in lay.buses if y < b.y)
        a, z = (b.y + b.h, top) if gid == gw_id else (top, b.y)
        svg.parts.append(f'<line x1="{link_x:.1f}" y1="{a:.1f}" x2="{link_x:.1f}" y2="{z:.1f}" stroke="#57606a" stroke-width="2"/>')
        kind = g.get("kind", "ct")
        head = f"{kind}{gid} {g['name']}"
        role = g["role"] if gid != gw_id or g["role"] == "gateway" else f"gateway ({g['role']})"
        lines_ = [f"{kind}{gid}", g["name"], f"{role}{' (template)' if g.get('template') and g['role'] != 'template' else ''}", g["address"]]
        if g.get("routes") and gid != gw_id:
            lines_.append("via gateway: " + ", ".join(r.split("/", 1)[-1] or "/" for r in g["routes"]))
        extra = ""
        if highlight == gid:
            extra = (f'<rect x="{b.x - 8:.1f}" y="{b.y - 8:.1f}" width="{b.w + 16:.1f}" height="{b.h + 16:.1f}" rx="10" fill="none" '
                     f'stroke="{HIGHLIGHT}" stroke-width="4" class="highlight"/>'
                     f'<text x="{b.x:.1f}" y="{b.y + b.h + 22:.1f}" font-weight="bold" fill="{HIGHLIGHT}">promotion candidate</text>')
        svg.obj(f"guest:{gid}", head, svg.box(f"guest:{gid}", b, lines_, extra))
        svg.shield(f"fw:{gid}", link_x, (a + z) / 2, f"{kind}{gid} firewall")
    if lay.gateway is not None:
        gb = lay.gateway
        for gid, b in lay.guests.items():
            if not by_id[gid].get("routes"):
                continue
            st = svg.state(f"route:{gid}")
            x1, y1 = gb.x + gb.w - 30, gb.y + gb.h
            x2, y2 = b.x + b.w - 18, b.y
            path = (f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + 60:.1f} {x2:.1f},{y2 - 60:.1f} {x2:.1f},{y2:.1f}" fill="none" '
                    f'stroke="{STROKE[st.outcome]}" stroke-width="{4 if st.root else 2}" stroke-dasharray="6 4" opacity="0.6"/>'
                    f'<circle cx="{x2:.1f}" cy="{y2:.1f}" r="4" fill="{STROKE[st.outcome]}"/>')
            if st.root:
                path += _root_mark(x2 - 12, y2 - 12, 24, 24, round_=True)
            svg.obj(f"route:{gid}", "gateway routes " + ", ".join(by_id[gid]["routes"]), path)
    height = lay.height + (24 if highlight is not None else 0)
    return (f'<svg class="topology" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
            f'height="{height:.0f}" font-family="system-ui, sans-serif" font-size="12" role="img" '
            f'aria-label="topology of the system under test">{_DEFS}{"".join(svg.parts)}</svg>')
