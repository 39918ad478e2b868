"""Self-tests never talk to anything outside loopback and the lab range (see phoenix_verify.suite.egress_guard)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from phoenix_verify.suite.egress_guard import Guard


@pytest.fixture(autouse=True)
def egress_guard() -> Iterator[Guard]:
    guard = Guard().install()
    yield guard
    guard.uninstall()
