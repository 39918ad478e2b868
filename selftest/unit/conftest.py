"""Shared fixtures for the unit tests: the reference Phoenix config and the lab inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "phoenix-config"
LAB = REPO / "fixtures" / "lab"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not (REFERENCE / "phoenix_lxc_configs.json").is_file():
        pytest.skip(f"reference Phoenix config not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def lab_dir() -> Path:
    return LAB
