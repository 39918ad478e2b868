"""reports/index.html: the nightly overview (trend per layer, what changed, the newest failures, every kept run).

Static HTML with inline CSS and SVG, so it opens from disk and any web server can serve it; every text taken
from a run goes through `redact()` and `html.escape()` (latest.json is redacted already, this page must not
depend on that).
"""
from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from phoenix_verify.nightly import trend_svg
from phoenix_verify.nightly.history import OUTCOMES, Run, diff, layer_of, layers, sort_by_layer
from phoenix_verify.suite import topology_svg
from phoenix_verify.suite.redact import redact

CSS = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #666; margin-top: 0; }
.status { font-size: 1.05em; padding: 8px 12px; border-radius: 4px; }
.ok { background: #e6f4ea; } .bad { background: #fdecea; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } td.num { text-align: right; }
code { font-size: 0.92em; word-break: break-all; } .evidence { font-family: monospace; color: #7a1c1c; }
.changes { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; }
.changes ul { padding-left: 18px; margin: 4px 0; } .changes li { margin-bottom: 4px; }
.layer { display: inline-block; padding: 0 5px; border-radius: 3px; color: #fff; font-size: 0.85em; }
svg.topology { width: 100%; height: auto; }
"""


def _t(value: Any) -> str:
    """Text from a run, safe for HTML: redacted, then escaped; None shows as nothing."""
    return escape(redact("" if value is None else str(value)))


def _when(stamp: str) -> str:
    """20261126T224900Z(-2) -> 2026-11-26 22:49:00 UTC (#2)."""
    repeat = f" #{stamp[17:]}" if len(stamp) > 16 else ""
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]} UTC{repeat}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def _link(run: Run, name: str, text: str) -> str:
    return f'<a href="history/{quote(run.stamp)}/{name}">{escape(text)}</a>'


def _layer_badge(record: dict[str, Any], palette: list[str]) -> str:
    layer = layer_of(record)
    index = palette.index(layer) if layer in palette else len(palette)
    return f'<span class="layer" style="background:{trend_svg.colour(layer, index)}">{_t(layer)}</span>'


def _summary(run: Run) -> str:
    totals = run.totals
    target = run.doc.get("target") or {}
    counts = " · ".join(f"{totals[o]} {o}" for o in OUTCOMES)
    status = run.doc.get("exitstatus")
    incomplete = "" if status in (0, 1) else (
        f"<br><strong>The suite did not run to the end</strong> (pytest exit status {_t(status)}: interrupted, a collection "
        "error, a usage error or no tests): the counts are not a verdict, see the full report.")
    return (
        f'<p class="status {"ok" if status == 0 else "bad"}"><strong>{_t(_when(run.stamp))}</strong>: {counts}; '
        f"{_count(len(run.doc.get('root_causes') or []), 'root cause')}; exit status {_t(status)}; "
        f"{float(run.doc.get('duration') or 0):.1f} s; target {_t(target.get('Kind', '?'))} ({_t(target.get('Target', '?'))}). "
        f"{_link(run, 'latest.html', 'full report')} · {_link(run, 'latest.json', 'JSON')} · {_link(run, 'latest.xml', 'JUnit')}{incomplete}</p>"
    )


def _change_list(title: str, records: list[dict[str, Any]], palette: list[str]) -> str:
    items = "".join(f"<li>{_layer_badge(r, palette)} <code>{_t(r['nodeid'])}</code></li>" for r in records) or "<li>none</li>"
    return f"<div><h3>{escape(title)} ({len(records)})</h3><ul>{items}</ul></div>"


def _changes(previous: Run | None, current: Run, palette: list[str]) -> str:
    if previous is None:
        return "<p>This is the first kept run: nothing to compare with yet.</p>"
    d = diff(previous, current)
    return (
        f"<p>Compared by test id with the run of {_t(_when(previous.stamp))}.</p><div class=\"changes\">"
        f"{_change_list('New failures', d.new, palette)}{_change_list('Fixed', d.fixed, palette)}"
        f"{_change_list('Still failing', d.still, palette)}</div>"
    )


def _failures(run: Run, palette: list[str]) -> str:
    failing = sort_by_layer(list(run.failing.values()))
    if not failing:
        return "<p>No failures in the newest run.</p>"
    rows = "".join(
        f"<tr><td><code>{_t(r['nodeid'])}</code></td><td>{_layer_badge(r, palette)}</td>"
        f"<td>{'ct' + _t(r['ctid']) if r.get('ctid') else ''}</td><td><code>{_t(r.get('remediation'))}</code></td>"
        f"<td class=\"evidence\">{_t(_first_line(r.get('evidence')))}</td></tr>"
        for r in failing
    )
    return f"<table><tr><th>Test</th><th>Layer</th><th>CT</th><th>Remediation</th><th>Evidence</th></tr>{rows}</table>"


def _picture(run: Run) -> str:
    """The newest run's topology picture; its objects link into that run's full report (rows and matrix)."""
    report = f"history/{quote(run.stamp)}/latest.html"
    return ("<h2>Topology of the newest run</h2><p>Worst outcome per object; root causes ringed, their consequences hatched; "
            f"click an object for its checks.</p>{topology_svg.render(run.doc, link=report, checks_href=report)}")


def _runs_table(runs: list[Run]) -> str:
    rows = []
    for run in reversed(runs):
        totals = run.totals
        cells = "".join(f'<td class="num">{totals[o]}</td>' for o in OUTCOMES)
        rows.append(
            f"<tr><td>{_link(run, 'latest.html', _when(run.stamp))}</td>{cells}"
            f'<td class="num">{float(run.doc.get("duration") or 0):.1f}</td><td class="num">{_t(run.doc.get("exitstatus"))}</td>'
            f"<td>{_link(run, 'latest.json', 'JSON')} · {_link(run, 'latest.xml', 'JUnit')}</td></tr>"
        )
    head = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    return f"<table><tr><th>Run</th>{head}<th>seconds</th><th>exit</th><th>also</th></tr>{''.join(rows)}</table>"


def render(runs: list[Run], now: datetime | None = None) -> str:
    """The whole page; `runs` oldest first, as history.load_runs returns them."""
    generated = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Phoenix nightly conformance</title>'
        f"<style>{CSS}</style></head><body><h1>Phoenix nightly conformance</h1>"
        f'<p class="meta">Generated {generated} from {_count(len(runs), "kept run")} under history/.</p>'
    )
    if not runs:
        return head + "<p>No runs yet: <code>phoenix-verify nightly</code> adds one.</p></body></html>\n"
    palette = layers(runs)
    newest, previous = runs[-1], (runs[-2] if len(runs) > 1 else None)
    return (
        f"{head}<h2>Newest run</h2>{_summary(newest)}{_picture(newest)}"
        f"<h2>Trend per layer</h2>{trend_svg.render(runs, palette)}"
        f"<h2>Changes since the previous run</h2>{_changes(previous, newest, palette)}"
        f"<h2>Newest failures</h2>{_failures(newest, palette)}"
        f"<h2>Kept runs ({len(runs)})</h2>{_runs_table(runs)}</body></html>\n"
    )
