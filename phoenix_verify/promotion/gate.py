"""The promotion gate (strategy §7.3): may a CT freshly cloned from a golden template be promoted?

It runs the lxc, vllm, firewall and gateway checks selected for the CT (`--ctid`: its own checks and the gateway
routes that point at it) and compares the clone with the template snapshot it came from (clone_drift). Verdict:
promote (exit 0), blocked (exit 1, with the failing checks and the drift), undecided (exit 2: bad input or an
unreachable side). Each decision is kept as JSON + a short HTML page under reports/promotions/.
"""
from __future__ import annotations

import html
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from phoenix_model.deployment import role_unit
from phoenix_model.inventory import Container, InventoryError, load_inventory
from phoenix_verify.access.clone_facts import rootfs_facts
from phoenix_verify.access.proxmox import ControlPlane, ProxmoxError, make_plane
from phoenix_verify.promotion import clone_drift
from phoenix_verify.suite import topology_svg
from phoenix_verify.suite.redact import redact, redact_obj
from phoenix_verify.suite.run import run_suite
from phoenix_verify.target import Target, TargetError

LAYERS = "lxc or vllm or firewall or gateway"
EXIT = {"promote": 0, "blocked": 1, "undecided": 2}


class Undecided(Exception):
    """The gate cannot decide (bad input, a side unreadable); one line naming the CT, file or host."""


@dataclass
class Verdict:
    ctid: int
    name: str
    template: str
    verdict: str = "undecided"
    reason: str = ""
    decided_at: float = field(default_factory=time.time)
    checks: dict[str, int] = field(default_factory=dict)
    failing: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, str]] = field(default_factory=list)
    allowed: list[dict[str, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    report: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT[self.verdict]


def declared_clone(target: Target, ctid: int) -> tuple[Container, Container, str]:
    """The clone, its template and the snapshot it was cloned from, as the inventory declares them."""
    inv = load_inventory(target.inventory_dir)
    ct = inv.containers.get(ctid)
    if ct is None:
        raise Undecided(f"{target.inventory_dir / 'phoenix_lxc_configs.json'}: lxc_configs.{ctid}: not declared")
    if ct.clone_from is None:
        raise Undecided(f"ct{ctid} ({ct.name}) declares no clone_from_ctid: there is no template to promote it from")
    template = inv.container(ct.clone_from)
    return ct, template, template.template_snapshot or "pre-configured"


def compare(state: ControlPlane, ct: Container, template: Container, snapshot: str, access: str,
            evidence: list[str]) -> clone_drift.Comparison:
    template_cfg = state.snapshot_config(template.ctid, snapshot)
    evidence.append(f"pct config {template.ctid} --snapshot {snapshot}")
    if template_cfg is None:
        raise Undecided(f"ct{template.ctid} has no snapshot {snapshot!r} to compare ct{ct.ctid} with")
    clone_cfg = state.config(ct.ctid)
    evidence.append(f"pct config {ct.ctid}")
    if clone_cfg is None:
        raise Undecided(f"ct{ct.ctid} does not exist on node {state.node}")
    result = clone_drift.compare_config(template_cfg, clone_cfg, template, ct)
    clone_status = state.status(ct.ctid)
    template_status = state.status(template.ctid)
    evidence.append(f"rootfs facts: ct{ct.ctid} via {'pct exec' if clone_status == 'running' else 'pct mount'}, "
                    f"ct{template.ctid} via {'pct exec' if template_status == 'running' else 'pct mount'}")
    rootfs = clone_drift.compare_rootfs(rootfs_facts(template.ctid, template_status, access),
                                        rootfs_facts(ct.ctid, clone_status, access), _role_unit(ct))
    result.drift += rootfs.drift
    result.allowed += rootfs.allowed
    return result


def _role_unit(ct: Container) -> str | None:
    unit = role_unit(ct)
    return f"{unit}.service" if unit else None


def record_base(out_dir: Path, verdict: Verdict) -> Path:
    """reports/promotions/ct<id>-<UTC stamp of the decision>: the run dir, and with .json/.html the verdict."""
    return out_dir / f"ct{verdict.ctid}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(verdict.decided_at))}"


def decide(target: Target, ctid: int, out_dir: Path) -> Verdict:
    try:
        ct, template, snapshot = declared_clone(target, ctid)
    except InventoryError as exc:
        raise Undecided(str(exc)) from None
    verdict = Verdict(ctid, ct.name, f"ct{template.ctid}@{snapshot}")
    run_dir = record_base(out_dir, verdict)
    try:
        state = make_plane(target)
        if state.status(ctid) is None:
            raise Undecided(f"ct{ctid} does not exist on node {state.node}")
        doc = run_suite(["tests", f"--ctid={ctid}", "-m", LAYERS], run_dir, str(target.source))
        verdict.evidence.append(f"pytest tests --ctid={ctid} -m '{LAYERS}'")
        verdict.report = str((run_dir / "latest.html").relative_to(out_dir))
        result = compare(state, ct, template, snapshot, target.pct, verdict.evidence)
    except (ProxmoxError, TargetError, clone_drift.DriftProbeError) as exc:
        raise Undecided(str(exc)) from None
    verdict.checks = dict(doc.get("summary", {}))
    verdict.failing = [{k: t.get(k) for k in ("nodeid", "layer", "remediation", "evidence")}
                       for t in doc["tests"] if t["outcome"] in ("failed", "error")]
    verdict.drift = [asdict(d) for d in result.drift]
    verdict.allowed = [asdict(d) for d in result.allowed]
    if not doc["tests"]:
        verdict.verdict, verdict.reason = "undecided", f"no checks were selected for ct{ctid}"
    elif verdict.failing or verdict.drift:
        verdict.verdict = "blocked"
        verdict.reason = f"{len(verdict.failing)} failing checks, {len(verdict.drift)} drift items from {verdict.template}"
    else:
        verdict.verdict = "promote"
        verdict.reason = f"{verdict.checks.get('passed', 0)} checks pass; no drift from {verdict.template}"
    return verdict


def write_record(verdict: Verdict, out_dir: Path) -> Path:
    """reports/promotions/ct<id>-<stamp>.json and .html (redacted, escaped); returns the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    base = record_base(out_dir, verdict)
    doc = redact_obj({**asdict(verdict), "exit_code": verdict.exit_code})
    base.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    base.with_suffix(".html").write_text(render(doc, _run_doc(out_dir, doc)))
    return base.with_suffix(".json")


def _run_doc(out_dir: Path, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The latest.json of the gate's suite run (next to its latest.html), for the picture; None if unreadable."""
    if not doc.get("report"):
        return None
    try:
        run = json.loads((out_dir / doc["report"]).with_name("latest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) else None


def _table(title: str, heads: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>none</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(redact(str(c)))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<h2>{html.escape(title)} ({len(rows)})</h2><table><tr>{head}</tr>{body}</table>"


def _picture(doc: dict[str, Any], run: dict[str, Any] | None) -> str:
    if run is None:
        return ""
    report = doc.get("report") or ""
    return ("<h2>Topology (checks of this gate run; the candidate outlined)</h2>"
            + topology_svg.render(run, link=report, checks_href=report, highlight=doc["ctid"]))


def render(doc: dict[str, Any], run: dict[str, Any] | None = None) -> str:
    """The verdict page; `run`: the gate's suite run (latest.json) for the topology picture."""
    color = {"promote": "#1a7f37", "blocked": "#cf222e"}.get(doc["verdict"], "#9a6700")
    title = f"ct{doc['ctid']} {doc['name']} from {doc['template']}: {doc['verdict'].upper()}"
    report = f'<p><a href="{html.escape(doc["report"])}">full test report</a></p>' if doc.get("report") else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Promotion: " + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left;vertical-align:top}td{font-family:monospace;white-space:pre-wrap}"
        "svg.topology{width:100%;height:auto;max-width:1360px}</style></head><body>"
        f"<h1 style=\"color:{color}\">{html.escape(title)}</h1><p>{html.escape(doc['reason'])}</p>"
        f"<p>checks: {html.escape(json.dumps(doc['checks']))}</p>{report}{_picture(doc, run)}"
        + _table("Failing checks", ("test", "layer", "remediation", "evidence"),
                 [(f["nodeid"], f["layer"], f["remediation"], (f["evidence"] or "").splitlines()[0] if f["evidence"] else "")
                  for f in doc["failing"]])
        + _table("Drift from the template", ("area", "item", "template", "clone"),
                 [(d["area"], d["item"], d["template"], d["clone"]) for d in doc["drift"]])
        + _table("Declared differences (allowed)", ("area", "item", "template", "clone"),
                 [(d["area"], d["item"], d["template"], d["clone"]) for d in doc["allowed"]])
        + _table("Evidence", ("how",), [(e,) for e in doc["evidence"]])
        + "</body></html>\n"
    )
