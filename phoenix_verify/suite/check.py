"""`phoenix-verify check [pytest args]`: the conformance suite from any directory, installed or in the checkout.

Everything after `check` goes to pytest (`--target`, `--report-dir`, `-m gateway`, `-k`, ...). The suite's own
settings and rootdir are passed explicitly, so test ids read `tests/<layer>/...` and reports land in ./reports
(the checkout's reports/ in a checkout) whatever the working directory is.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from phoenix_verify import locations


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the conformance suite; every further argument goes to pytest",
                       description="phoenix-verify check [--target PATH] [--report-dir DIR] [pytest args...]", add_help=False)
    p.set_defaults(func=None)


def pytest_args(user_args: list[str]) -> list[str]:
    """pytest's argv: the suite's ini and rootdir, the user's args with `tests/...` paths made absolute, and the
    suite directory itself when no test path was given."""
    root = locations.suite_root()
    ini = root / "pyproject.toml" if locations.CHECKOUT else locations.pytest_ini()
    args, paths = [], []
    for arg in user_args:
        if arg == "tests" or arg.startswith("tests/"):
            paths.append(str(root / arg))
        else:
            args.append(arg)
    return ["-c", str(ini), "--rootdir", str(root), *args, *(paths or [str(locations.suite_dir())])]


def run(user_args: list[str]) -> int:
    """pytest in a fresh interpreter: this process has imported phoenix_verify already, too early for pytest's
    assertion rewriting of the plugin."""
    if not locations.suite_dir().is_dir():
        print(f"phoenix-verify: {locations.suite_dir()}: the conformance tests are missing from this install", file=sys.stderr)
        return 2
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args(user_args)], check=False).returncode
