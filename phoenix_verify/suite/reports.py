"""Every run writes reports/latest.{html,xml,json} without flags; layer, CT and remediation on every row.

Other modules add top-level JSON keys (e.g. `root_causes`) through `add_section`.
"""
from __future__ import annotations

import html
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phoenix_verify import locations
from phoenix_verify.suite import review, topology_svg
from phoenix_verify.suite.redact import redact, redact_obj

_sections: dict[str, Callable[[pytest.Config, list[dict[str, Any]]], Any]] = {}
_records: list[dict[str, Any]] = []
_STATE: dict[str, Any] = {}


def add_section(name: str, producer: Callable[[pytest.Config, list[dict[str, Any]]], Any]) -> None:
    """Register a top-level key of latest.json, computed at the end of the run from the test records."""
    _sections[name] = producer


def records() -> list[dict[str, Any]]:
    """The run's test records so far (controller side)."""
    return _records


def report_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("--report-dir") or locations.reports_dir())


def _wants_reports(config: pytest.Config) -> bool:
    if config.getoption("--no-phoenix-reports") or config.getoption("collectonly"):
        return False
    args = [str(a) for a in config.args]
    return not args or not all("selftest" in Path(a).parts for a in args)


def configure(config: pytest.Config) -> None:
    _records.clear()
    _STATE.clear()
    if not _wants_reports(config) or hasattr(config, "workerinput"):
        return
    out = report_dir(config)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise PermissionError(13, "not writable")
    except OSError as exc:
        pytest.exit(f"--report-dir {out}: cannot write reports there: {exc.strerror or exc}", returncode=2)
    if getattr(config.option, "htmlpath", None) is None:
        config.option.htmlpath = str(out / "latest.html")
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(out / "latest.xml")
    _STATE.update(json_path=out / "latest.json", started=time.time(), previous=review.previous_doc(out))
    add_section("topology", _topology)
    config.pluginmanager.register(_ReportHooks(), "phoenix-reports")


class _ReportHooks:
    """Hooks that exist only when the reports are on (pytest-html hooks, the JSON collector)."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="layer">Layer</th>')
        cells.insert(3, '<th class="sortable" data-column-type="ct">CT</th>')
        cells.insert(4, '<th class="sortable" data-column-type="remediation">Remediation</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        props = dict(getattr(report, "user_properties", ()))
        ctid = props.get("ctid")
        row_id = topology_svg.anchor(report.nodeid)  # the review section's links land here
        cells.insert(2, f'<td class="col-layer" id="{row_id}">{html.escape(str(props.get("layer") or ""))}</td>')
        cells.insert(3, f'<td class="col-ct">{html.escape(f"ct{ctid}" if ctid else "")}</td>')
        cells.insert(4, f'<td class="col-remediation">{html.escape(redact(str(props.get("remediation") or "")))}</td>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "Phoenix conformance report"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        _fill_metadata(session.config)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed" or (report.when == "setup" and report.skipped):
            _records.append(_record(report))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        write_json(session.config, exitstatus)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """pytest-html has written latest.html at sessionfinish: put the verdict, picture and matrix on top."""
        try:
            review.rewrite(Path(config.option.htmlpath), _STATE["json_path"], _STATE.get("previous"))
        except (OSError, ValueError) as exc:
            print(f"phoenix reports: latest.html left without its review section: {exc}", file=sys.stderr)


def _topology(config: pytest.Config, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The inventory's host, guests and gateway routes, for the picture (None when no target was loaded)."""
    from phoenix_verify.suite import params

    return topology_svg.describe(params.inventory()) if params.loaded_target() else None


def _fill_metadata(config: pytest.Config) -> None:
    """Non-secret target facts in the HTML environment table (only if a target was already loaded)."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    from phoenix_verify.suite import params

    meta = config.stash.get(metadata_key, None)
    if meta is None:
        return
    for key in list(meta):
        meta[key] = redact_obj(meta[key])
    tgt = params.loaded_target()
    if tgt:
        meta.update(tgt.facts())


def _record(report: pytest.TestReport) -> dict[str, Any]:
    props = dict(getattr(report, "user_properties", ()))
    evidence = _evidence(report) if report.outcome != "passed" and report.longrepr is not None else ""
    return {
        "nodeid": report.nodeid,
        "outcome": "error" if report.when != "call" and report.failed else report.outcome,
        "layer": props.get("layer"),
        "rung": props.get("rung"),
        "ctid": props.get("ctid"),
        "remediation": props.get("remediation"),
        "fix": {"script": props["remediation_script"], "args": list(props.get("remediation_args") or [])}
        if props.get("remediation_script") else None,
        "duration": round(report.duration, 4),
        "evidence": evidence,
    }


def _evidence(report: pytest.TestReport) -> str:
    """The first lines of the failure itself: the crash message, else pytest's `E ` lines, else the text's head."""
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
    if crash:
        text = str(crash)
    elif isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    else:
        lines = str(report.longrepr).splitlines()
        text = "\n".join(line[1:].strip() for line in lines if line.startswith("E ")) or "\n".join(lines)
    return redact("\n".join(text.strip().splitlines()[:12]))[:2000]


def write_json(config: pytest.Config, exitstatus: int) -> None:
    path = _STATE.get("json_path")
    if path is None:
        return
    from phoenix_verify.suite import params

    summary: dict[str, int] = {}
    for rec in _records:
        summary[rec["outcome"]] = summary.get(rec["outcome"], 0) + 1
    tgt = params.loaded_target()
    doc: dict[str, Any] = {
        "started": _STATE["started"],
        "duration": round(time.time() - _STATE["started"], 3),
        "exitstatus": int(exitstatus),
        "target": tgt.facts() if tgt else {},
        "summary": summary,
        "tests": _records,
    }
    for name, producer in _sections.items():
        doc[name] = producer(config, _records)
    path.write_text(json.dumps(redact_obj(doc), indent=2) + "\n")


def summary_lines(config: pytest.Config) -> list[str]:
    path = _STATE.get("json_path")
    if path is None:
        return []
    out = path.parent
    return [f"phoenix reports: {out / 'latest.html'}  {out / 'latest.xml'}  {out / 'latest.json'}"]
