"""Lab self-tests: they need the lab up (`phoenix-lab up`); they never bring it up or down themselves except
the lifecycle test, which runs last (see pytest_collection_modifyitems)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_lab.host import netns_exists

REPO = Path(__file__).resolve().parents[2]
LAB = [sys.executable, "-m", "phoenix_lab.cli"]


def lab(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], check=False, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)


@pytest.fixture(scope="session")
def lab_cli():
    """`phoenix-lab ARGS...` as a subprocess of this interpreter."""
    return lab


@pytest.fixture(scope="session", autouse=True)
def lab_is_up() -> None:
    if not netns_exists():
        pytest.exit("the lab is not running: run 'phoenix-lab up' (or 'make demo')", returncode=2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The lifecycle test (down, then up again) goes last so it cannot disturb the others."""
    items.sort(key=lambda item: "test_lifecycle" in str(item.path))
