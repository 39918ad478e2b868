"""Puts the diagnosis where people look: terminal summary, top of the HTML report, `root_causes` in latest.json."""
from __future__ import annotations

import html
from typing import Any

import pytest

from phoenix_verify.diagnosis.tree import RootCause, diagnose
from phoenix_verify.suite import params, reports
from phoenix_verify.suite.redact import redact

_cache: dict[int, list[RootCause]] = {}


def root_causes(records: list[dict[str, Any]]) -> list[RootCause]:
    """Diagnosis of the run's records (computed once per set of records)."""
    key = len(records)
    if not records:
        return []
    if key not in _cache:
        _cache.clear()
        target = params.loaded_target()
        _cache[key] = diagnose(records, params.inventory()) if target is not None and records else []
    return _cache[key]


def pytest_configure(config: pytest.Config) -> None:
    reports.add_section("root_causes", lambda cfg, records: [rc.as_dict() for rc in root_causes(records)])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    causes = root_causes(reports.records())
    if not causes:
        return
    terminalreporter.section("phoenix: diagnosis (root causes, lowest failing layer first)")
    for rc in causes:
        fix = rc.remediation if rc.automatic else f"manual: {rc.manual_step or 'see evidence'}"
        terminalreporter.write_line(redact(f"[{rc.layer}] {rc.object}: {rc.summary}"))
        terminalreporter.write_line(redact(f"    fix: {fix}"))
        for line in rc.consequences[:8]:
            terminalreporter.write_line(redact(f"    consequence: {line}"))
        if len(rc.consequences) > 8:
            terminalreporter.write_line(f"    ... and {len(rc.consequences) - 8} more consequences")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session: Any = None) -> None:
    causes = root_causes(reports.records())
    if not causes:
        prefix.append("<h2>Diagnosis</h2><p>No root causes: every check passed.</p>")
        return
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
            html.escape(rc.layer), html.escape(rc.object), html.escape(redact(rc.summary)),
            html.escape(redact(rc.evidence[:300])),
            html.escape(rc.remediation or "" if rc.automatic else f"manual: {rc.manual_step}"), len(rc.consequences))
        for rc in causes)
    prefix.append("<h2>Diagnosis: root causes</h2><table id=\"root-causes\"><thead><tr><th>Layer</th><th>Object</th>"
                  "<th>Summary</th><th>Evidence</th><th>Remediation</th><th>Consequences</th></tr></thead>"
                  f"<tbody>{rows}</tbody></table>")
