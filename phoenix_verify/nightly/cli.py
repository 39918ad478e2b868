"""`phoenix-verify nightly`: run the whole suite into reports/history/<UTC stamp>/, prune, rebuild the overview.

The suite runs as a subprocess (a fresh pytest per night, its output on our stdout for the journal); the
overview (index.html + the Prometheus textfile) is rebuilt from history/ alone, so `--index-only` and a
failing night produce it the same way.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from phoenix_verify import locations
from phoenix_verify.nightly import history, index_page, prom_textfile
from phoenix_verify.suite.check import pytest_args as suite_args
from phoenix_verify.target import load_target

TEXTFILE_NAME = "phoenix_conformance.prom"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nightly", help="run the suite into reports/history/, rebuild reports/index.html and the Prometheus textfile")
    p.add_argument("--target", help="phoenix.toml (default: $PHOENIX_TARGET, ./phoenix.toml, the lab)")
    p.add_argument("--keep", type=int, default=30, help="runs kept under history/ (default: 30)")
    p.add_argument("--reports", default=str(locations.reports_dir()), help="reports directory (default: reports/ of the checkout, else ./reports)")
    p.add_argument("--textfile", help=f"Prometheus textfile, e.g. in node_exporter's textfile dir (default: REPORTS/{TEXTFILE_NAME})")
    p.add_argument("--index-only", action="store_true", help="rebuild index.html and the textfile from history/ without running tests")
    p.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="extra pytest arguments, after `--`")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"phoenix-verify: {message}", file=sys.stderr)
    return 2


def _check_writable(directory: Path) -> str | None:
    """Why the outputs could not be written there, before spending a whole suite run on it (None: fine)."""
    if not directory.is_dir():
        return f"{directory}: not a directory"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{directory}: not writable"
    return None


def run_suite(target: Path, run_dir: Path, pytest_args: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", *suite_args(["-q", f"--target={target.resolve()}", "--report-dir", str(run_dir.resolve()), *pytest_args])]
    return subprocess.run(cmd, check=False).returncode


def record_run(target: Path, reports: Path, keep: int, pytest_args: list[str]) -> int:
    """One suite run into a new history dir, then retention; returns pytest's exit status."""
    run_dir = history.new_run_dir(reports / "history")
    status = run_suite(target, run_dir, pytest_args)
    if not (run_dir / "latest.json").exists():
        print(f"phoenix-verify: pytest exited {status} without writing history/{run_dir.name}/latest.json", file=sys.stderr)
        if not any(run_dir.iterdir()):
            run_dir.rmdir()
    history.prune(reports / "history", keep)
    return status


def rebuild(reports: Path, textfile: Path) -> list[history.Run]:
    """index.html from every kept run, the textfile from the newest one (none without runs: no data beats stale data)."""
    runs, problems = history.load_runs(reports / "history")
    for problem in problems:
        print(f"phoenix-verify: warning: history/{problem}", file=sys.stderr)
    prom_textfile.write_atomic(reports / "index.html", index_page.render(runs))
    if runs:
        prom_textfile.write_atomic(textfile, prom_textfile.render(runs[-1], history.layers(runs)))
    return runs


def run(args: argparse.Namespace) -> int:
    if args.keep < 1:
        return _fail(f"--keep {args.keep}: keep at least one run")
    reports = Path(args.reports).absolute()
    textfile = Path(args.textfile).absolute() if args.textfile else reports / TEXTFILE_NAME
    if args.index_only and not (reports / "history").is_dir():
        return _fail(f"{reports / 'history'}: no history to index (run `phoenix-verify nightly` first)")
    target = None if args.index_only else load_target(args.target)  # TargetError -> one line, exit 2 (cli.main)
    try:
        reports.mkdir(parents=True, exist_ok=True)
        problem = _check_writable(reports) or _check_writable(textfile.parent)
        if problem:
            return _fail(problem)
        status = record_run(target.source.absolute(), reports, args.keep, args.pytest_args) if target else 0
        runs = rebuild(reports, textfile)
    except OSError as exc:
        return _fail(f"{exc.filename or reports}: {exc.strerror or exc}")
    newest = f"newest {runs[-1].stamp}" if runs else "no runs"
    print(f"nightly: {len(runs)} kept runs ({newest}); {reports / 'index.html'}; {textfile if runs else 'no textfile'}")
    return status
