"""Where the suite's own files are, in a checkout (`pip install -e .`) and in an installed wheel.

The wheel ships `tests/` as `phoenix_verify/tests` and `remediate/` as `phoenix_verify/remediate` (see setup.py);
a checkout keeps them at the top. Reports go to the checkout's `reports/`, or `./reports` when installed.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_TOP = PACKAGE.parent
CHECKOUT: Path | None = _TOP if (_TOP / "pyproject.toml").is_file() and (_TOP / "tests").is_dir() else None
SUITE_PACKAGE = "phoenix_verify.tests"


def suite_dir() -> Path:
    """The conformance tests (`tests/host`, `tests/lxc`, ...)."""
    return CHECKOUT / "tests" if CHECKOUT else PACKAGE / "tests"


def suite_root() -> Path:
    """pytest's rootdir for the suite: test ids read `tests/<layer>/test_x.py::...` either way."""
    return suite_dir().parent


def remediate_dir() -> Path:
    return CHECKOUT / "remediate" if CHECKOUT else PACKAGE / "remediate"


def reports_dir() -> Path:
    return CHECKOUT / "reports" if CHECKOUT else Path.cwd() / "reports"


def pytest_ini() -> Path:
    """The suite's pytest settings for runs outside the checkout (kept equal to pyproject's by a self-test)."""
    return PACKAGE / "suite" / "pytest.ini"
