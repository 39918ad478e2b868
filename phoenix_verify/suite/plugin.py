"""pytest plugin (entry point `pytest11: phoenix`): markers, selection, metadata on reports, summaries."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from phoenix_verify import access  # noqa: F401  (registers the pct:// testinfra backend at plugin load)
from phoenix_verify.access import dropped
from phoenix_verify.access.proxmox import HostPlane, ProxmoxError, control_plane
from phoenix_verify.suite import activation, hung, markers, params, reports, selection, stats
from phoenix_verify.suite.redact import redact
from phoenix_verify.target import Target

ACTIVE = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phoenix", "phoenix-verify")
    group.addoption(activation.OPTION, default=None, help="phoenix.toml of the system under test (default: $PHOENIX_TARGET, ./phoenix.toml, the lab)")
    group.addoption("--ctid", action="append", type=int, default=[], help="only tests about this CT (repeatable)")
    group.addoption("--phoenix-stats", action="store_true", help="print probe statistics (pct exec calls per CT, ...)")
    group.addoption("--report-dir", default=None, help="where latest.html/.xml/.json go (default: reports/)")
    group.addoption("--no-phoenix-reports", action="store_true", help="do not write the default reports")


def _active(config: pytest.Config) -> bool:
    return config.stash.get(ACTIVE, False)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    activation.repair_space_form(early_config, parser, args)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    markers.register(config)   # declarations only: `pytest --markers` lists them in any project
    config.stash[ACTIVE] = activation.is_suite_run(config)
    if not _active(config):
        return
    if config.option.markexpr:
        config.option.markexpr = markers.rewrite_markexpr(config.option.markexpr)
    params.configure(config.getoption("--target"))
    if not (config.option.help or config.option.markers):
        # A bad target or inventory stops the run here, in one line, before collection would turn it into one
        # collection error (with a stack) per test module.
        params.inventory()
    reports.configure(config)
    hung.reset()
    dropped.reset()
    if hasattr(config, "workerinput"):
        stats.reset()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m host` does not import the other layers' test modules (see suite/selection.py)."""
    return True if selection.prunable_layer_dir(collection_path, config.option.markexpr) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    for item in items:
        layer = markers.layer_of(item)
        if layer and not item.get_closest_marker(layer):
            item.add_marker(getattr(pytest.mark, layer))
    wanted = set(config.getoption("--ctid"))
    if wanted:
        keep = [i for i in items if markers.ctid_of(i) in wanted]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Conformance tests need the target: stop before the first one (one line) if it is unusable, e.g. the lab is down."""
    if _active(session.config) and not session.config.option.collectonly and any(markers.layer_of(item) for item in session.items):
        target = params.target()
        if target.is_live and any(not item.get_closest_marker("static") for item in session.items):
            _preflight(target)


def _preflight(target: Target) -> None:
    """Once, before any test: the control plane answers (tool present, host reachable, ssh key accepted, token valid
    and allowed) and pct reaches the host, or the run stops with one line instead of every test failing alike."""
    ctids = sorted(params.inventory().containers)
    try:
        plane = control_plane(target)
        plane.preflight(ctids)
        if not isinstance(plane, HostPlane):
            HostPlane(target).preflight(ctids)    # in-CT facts go through pct whatever the control plane is
    except ProxmoxError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    if _active(item.config):
        hung.fail_if_hung(markers.ctid_of(item), markers.layer_of(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if not _active(item.config):
        return report
    ctid = markers.ctid_of(item)
    if call.when == "call" and call.excinfo is not None and ctid is not None and hung.is_timeout(call.excinfo.value):
        hung.mark(ctid, f"{item.name} timed out ({type(call.excinfo.value).__name__})")
    props = dict(report.user_properties)
    spec = markers.remediation_spec(item)
    for key, value in (("layer", markers.layer_of(item)), ("rung", markers.rung_of(item)), ("ctid", markers.ctid_of(item)),
                       ("remediation", markers.render(*spec) if spec else None),
                       ("remediation_script", spec[0] if spec else None), ("remediation_args", list(spec[1]) if spec else None)):
        if value is not None and key not in props:
            report.user_properties.append((key, value))
    if report.longrepr is not None and report.failed:
        text = str(report.longrepr)
        clean = redact(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redact(content)) for title, content in report.sections]
    report.user_properties = [(k, redact(v) if isinstance(v, str) else v) for k, v in report.user_properties]
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """pytest-html attaches `extras` in its own makereport wrapper: redact them before it renders them."""
    for extra in getattr(report, "extras", ()):
        if isinstance(extra, dict) and isinstance(extra.get("content"), str) and extra.get("format_type") != "image":
            extra["content"] = redact(extra["content"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _active(session.config):
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["phoenix_stats"] = stats.snapshot()


@pytest.hookimpl(optionalhook=True)   # an xdist hook: the plugin also loads with -p no:xdist
def pytest_testnodedown(node: Any, error: Any) -> None:
    stats.merge(getattr(node, "workeroutput", {}).get("phoenix_stats", {}))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _active(config):
        return
    failed = [r for key in ("failed", "error") for r in terminalreporter.stats.get(key, []) if getattr(r, "nodeid", None)]
    if any(dict(getattr(r, "user_properties", ())).get("layer") for r in failed):
        terminalreporter.section("phoenix: failures by layer")
        by_layer: dict[str, list[Any]] = {}
        for rep in failed:
            by_layer.setdefault(dict(getattr(rep, "user_properties", ())).get("layer") or "other", []).append(rep)
        for layer in sorted(by_layer):
            terminalreporter.write_line(f"[{layer}] {len(by_layer[layer])} failing")
            for rep in by_layer[layer]:
                fix = dict(getattr(rep, "user_properties", ())).get("remediation") or "(no remediation declared)"
                terminalreporter.write_line(f"  {rep.nodeid}\n      fix: {fix}")
    for line in reports.summary_lines(config):
        terminalreporter.write_line(line)
    if config.getoption("--phoenix-stats"):
        terminalreporter.section("phoenix: probe statistics")
        data = stats.by_kind()
        if not data:
            terminalreporter.write_line("no probes counted")
        for kind, counts in data.items():
            for key, n in counts.items():
                terminalreporter.write_line(f"{kind:<14} {key:<10} {n}")
