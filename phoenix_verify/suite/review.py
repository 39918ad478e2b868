"""The top of latest.html: the verdict, the topology picture and the layer x guest matrix, before the rows.

A reviewer should learn without scrolling whether the system conforms, where it is broken and what fixes it;
pytest-html's sortable table stays underneath, folded. Everything here is built from a run's latest.json
(redacted already; every text is redacted and escaped again here), so the nightly index and promotion pages use
the same builders on kept runs.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from phoenix_verify.nightly.history import BASE_LAYERS, Run, diff, run_dirs
from phoenix_verify.suite import topology_svg
from phoenix_verify.suite.redact import redact
from phoenix_verify.suite.topology_svg import FILL, STROKE, anchor

HOST_COLUMN = "host"
CSS = f"""
#review {{ color: #1f2328; font-size: 14px; font-family: system-ui, sans-serif; max-width: 1380px; }}
#review h2 {{ font-size: 17px; margin: 14px 0 6px; }}
#review .verdict {{ font-size: 20px; font-weight: bold; padding: 8px 12px; border-radius: 6px; margin: 6px 0; }}
#review .verdict.conformant {{ background: {FILL['passed']}; color: {STROKE['passed']}; }}
#review .verdict.not-conformant {{ background: {FILL['failed']}; color: {STROKE['failed']}; }}
#review .verdict.no-verdict {{ background: {FILL['skipped']}; color: {STROKE['skipped']}; }}
#review ul {{ margin: 4px 0; padding-left: 20px; }} #review li {{ margin: 2px 0; }}
#review a {{ color: #0969da; }}
#review code {{ font-size: 12.5px; background: #f6f8fa; padding: 0 3px; }}
#review .changes {{ color: #1f2328; margin: 4px 0; }}
#review svg.topology {{ width: 100%; height: auto; display: block; }}
#matrix {{ border-collapse: collapse; font-size: 12px; table-layout: fixed; width: 100%; }}
#matrix th.layer {{ width: 110px; }}
#matrix th, #matrix td {{ border: 1px solid #d0d7de; padding: 3px 4px; text-align: center; color: #1f2328; }}
#matrix th.guest {{ overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: normal; }}
#matrix th.guest b {{ display: block; }} #matrix th.layer {{ text-align: left; }}
#matrix td a {{ color: inherit; text-decoration: none; display: block; }}
#matrix td.passed {{ background: {FILL['passed']}; }} #matrix td.failed {{ background: {FILL['failed']}; outline: 2px solid {STROKE['failed']}; }}
#matrix td.skipped {{ background: {FILL['skipped']}; }} #matrix td.none {{ color: #8c959f; }}
#matrix .p {{ color: {STROKE['passed']}; }} #matrix .f {{ color: {STROKE['failed']}; font-weight: bold; }} #matrix .s {{ color: {STROKE['skipped']}; }}
details#rows > summary {{ font-size: 16px; color: #1f2328; cursor: pointer; margin: 16px 0 8px; font-weight: bold; }}
@media print {{
  body {{ min-width: 0; }} #review {{ max-width: none; }}
  #review, #review * {{ print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
  #review svg.topology, #matrix, #review .verdict {{ break-inside: avoid; }}
  details#rows > summary::after {{ content: " (open it before printing to include every row)"; font-weight: normal; }}
}}
"""


def _t(value: Any) -> str:
    return escape(redact("" if value is None else str(value)))


def _failing(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc.get("tests", []) if t.get("outcome") in ("failed", "error")]


def verdict(doc: dict[str, Any]) -> tuple[str, str]:
    """(css class, one line): conformant only when the suite ran to the end with tests and none failed."""
    totals = Counter(t.get("outcome") for t in doc.get("tests", []))
    counts = ", ".join(f"{totals[o]} {o}" for o in ("passed", "failed", "error", "skipped") if totals[o]) or "no checks"
    status = doc.get("exitstatus")
    if status not in (0, 1) or not doc.get("tests"):
        return "no-verdict", f"NO VERDICT: the suite did not run to the end (pytest exit status {status}; {counts})"
    if _failing(doc):
        roots = len(doc.get("root_causes") or [])
        return "not-conformant", f"NOT CONFORMANT: {roots} root cause{'' if roots == 1 else 's'} ({counts})"
    return "conformant", f"CONFORMANT: every check passed ({counts})"


def _fix(rc: dict[str, Any]) -> str:
    if rc.get("automatic") and rc.get("remediation"):
        return f"<code>{_t(rc['remediation'])}</code>"
    return f"manual: {_t(rc.get('manual_step') or 'see the evidence')}"


def _root_causes(doc: dict[str, Any], link: str) -> str:
    causes = doc.get("root_causes") or []
    if not causes:
        return ""
    items = []
    for rc in causes:
        first = (rc.get("tests") or [None])[0]
        where = f'<a href="{escape(link)}#{anchor(first)}">{_t(rc.get("object"))}</a>' if first else _t(rc.get("object"))
        n = len(rc.get("consequences") or [])
        items.append(f"<li><b>[{_t(rc.get('layer'))}] {where}</b>: {_t(rc.get('summary'))}; fix: {_fix(rc)}"
                     f"{f'; explains {n} other failing check' + ('' if n == 1 else 's') if n else ''}</li>")
    return f"<ul class=\"root-causes\">{''.join(items)}</ul>"


def _stamp_of(doc: dict[str, Any]) -> str:
    started = doc.get("started")
    if not isinstance(started, (int, float)):
        return "an earlier run"
    return datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M UTC")


def changes(previous: dict[str, Any] | None, doc: dict[str, Any]) -> str:
    """One line (and the lists) of what changed since the previous run, compared by test id."""
    if not previous or not previous.get("tests"):
        return '<p class="changes">No previous run to compare with.</p>'
    d = diff(Run.from_doc("previous", previous), Run.from_doc("current", doc))

    def names(records: list[dict[str, Any]]) -> str:
        shown = ", ".join(f"<code>{_t(r['nodeid'].split('::')[-1])}</code>" for r in records[:6])
        return f": {shown}{', …' if len(records) > 6 else ''}" if records else ""

    return (f'<p class="changes">Since the run of {_t(_stamp_of(previous))}: <b>{len(d.new)} new failing</b>{names(d.new)}; '
            f"{len(d.fixed)} fixed{names(d.fixed)}; {len(d.still)} still failing.</p>")


@dataclass
class Cell:
    counts: Counter[str] = field(default_factory=Counter)
    first: str | None = None           # the row the cell links to: its first failing check, else its first check
    skips: Counter[str] = field(default_factory=Counter)

    @property
    def outcome(self) -> str:
        if self.counts["failed"] or self.counts["error"]:
            return "failed"
        return "passed" if self.counts["passed"] else "skipped" if self.counts["skipped"] else "none"


def columns(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, header, title) per matrix column: every guest of the topology, then the host / suite-wide one."""
    topo = doc.get("topology") or {}
    cols = [(f"guest-{g['id']}", f"{g.get('kind', 'ct')}{g['id']}", f"{g['name']} ({g['role']}, {g['address']})")
            for g in topo.get("guests", [])]
    return [*cols, (HOST_COLUMN, "host", "the host and checks about no single guest")]


def matrix(doc: dict[str, Any]) -> tuple[list[str], dict[tuple[str, str], Cell]]:
    """Layers (the suite's five, then any other seen) and one cell per (layer, column) that has checks."""
    known = {g["id"] for g in (doc.get("topology") or {}).get("guests", [])}
    cells: dict[tuple[str, str], Cell] = {}
    for rec in doc.get("tests", []):
        layer = str(rec.get("layer") or "other")
        ctid = rec.get("ctid")
        col = f"guest-{int(ctid)}" if ctid is not None and int(ctid) in known else HOST_COLUMN
        cell = cells.setdefault((layer, col), Cell())
        cell.counts[rec["outcome"]] += 1
        if cell.first is None or (rec["outcome"] in ("failed", "error") and cell.outcome != "failed"):
            cell.first = rec["nodeid"]
        if rec["outcome"] == "skipped":
            reason = (rec.get("evidence") or "").strip().splitlines()
            cell.skips[re.sub(r"^Skipped:\s*", "", reason[0]) if reason else "no reason given"] += 1
    seen = {layer for layer, _ in cells}
    return [*BASE_LAYERS, *sorted(seen - set(BASE_LAYERS))], cells


def _cell_title(layer: str, header: str, cell: Cell) -> str:
    c = cell.counts
    lines = [f"{layer} x {header}: {c['passed']} passed, {c['failed'] + c['error']} failed, {c['skipped']} skipped"]
    lines += [f"skipped ({n}): {reason}" for reason, n in cell.skips.most_common(5)]
    return _t("\n".join(lines))


def render_matrix(doc: dict[str, Any], link: str = "") -> str:
    layers, cells = matrix(doc)
    cols = columns(doc)
    head = "".join(f'<th class="guest" id="m-{key}" title="{_t(title)}"><b>{_t(h)}</b>{_t(title.split(" (")[0])}</th>'
                   for key, h, title in cols)
    rows = []
    for layer in layers:
        tds = []
        for key, header, _ in cols:
            cell = cells.get((layer, key))
            if cell is None:
                tds.append('<td class="none">–</td>')
                continue
            c = cell.counts
            text = (f'<span class="p">{c["passed"]}</span>/<span class="f">{c["failed"] + c["error"]}</span>/'
                    f'<span class="s">{c["skipped"]}</span>')
            tds.append(f'<td class="{cell.outcome}" id="m-{_t(layer)}-{key}" data-outcome="{cell.outcome}" '
                       f'title="{_cell_title(layer, header, cell)}"><a href="{escape(link)}#{anchor(cell.first or "")}">{text}</a></td>')
        rows.append(f'<tr><th class="layer">{_t(layer)}</th>{"".join(tds)}</tr>')
    return (f'<table id="matrix"><thead><tr><th class="layer">layer \\ guest<br><small>passed/failed/skipped</small></th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def block(doc: dict[str, Any], previous: dict[str, Any] | None, link: str = "") -> str:
    """Verdict, root causes, changes, picture, matrix: the review section (with its CSS)."""
    css_class, line = verdict(doc)
    return (f'<style>{CSS}</style><section id="review"><div class="verdict {css_class}">{_t(line)}</div>'
            f"{_root_causes(doc, link)}{changes(previous, doc)}"
            f"<h2>Topology: worst outcome per object (click an object for its checks)</h2>{topology_svg.render(doc, link=link)}"
            f"<h2>Layers x guests</h2>{render_matrix(doc, link)}</section>")


_TITLE = re.compile(r'(<h1 id="title">.*?</h1>)', re.DOTALL)
_FOOTER = "<footer>"


def inject(page: str, section: str, n_rows: int) -> str:
    """Put the review section right under the title and fold pytest-html's environment, summary and rows."""
    title = _TITLE.search(page)
    footer = page.rfind(_FOOTER)
    if title is None or footer < title.end():
        raise ValueError("latest.html does not look like a pytest-html report (no title or footer)")
    head, rest, tail = page[: title.end()], page[title.end(): footer], page[footer:]
    fold = (f'<details id="rows"><summary>All {n_rows} checks: environment, filters and the sortable table '
            "(layer, CT, remediation)</summary>")
    return f"{head}{section}{fold}{rest}</details>{tail}"


def previous_doc(report_dir: Path) -> dict[str, Any] | None:
    """The run to compare with: the previous kept run when report_dir is a nightly history dir, else the latest.json
    an earlier run left in report_dir (read before this run overwrites it)."""
    if report_dir.parent.name == "history":
        older = [p for p in run_dirs(report_dir.parent) if p.name < report_dir.name]
        candidates = [older[-1] / "latest.json"] if older else []
    else:
        candidates = [report_dir / "latest.json"]
    for path in candidates:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("tests"), list):
            return doc
    return None


def rewrite(html_path: Path, json_path: Path, previous: dict[str, Any] | None) -> None:
    """The HTML report with the review section on top, built from the latest.json of the same run."""
    if not (html_path.is_file() and json_path.is_file()):
        return
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    html_path.write_text(inject(html_path.read_text(encoding="utf-8"), block(doc, previous), len(doc.get("tests", []))),
                         encoding="utf-8")
