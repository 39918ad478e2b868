"""Each lab fault is caught in its own layer: the suite goes red, every failing test belongs to
the fault's layer and names the faulty object, and the diagnosis gives exactly that layer and object.

One full suite run per fault. `make test` runs one fault of each mechanism (SMOKE); the rest of the catalogue
is `slow` and runs in `make fault-matrix`, whose round trip makes the same assertions before it remediates.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_lab import faults, lifecycle, provision
from phoenix_model.inventory import load_inventory
from selftest.lab.suite_runs import assert_caught_in_its_layer, suite

SMOKE = ("service-stopped", "docker-container-stopped", "vllm-engine-dead", "net0-firewall-removed",
         "datacenter-firewall-off", "shared-volume-owner-root", "template-snapshot-missing", "nginx-upstream-port",
         "cert-expired", "vllm-wrong-served-name")


@pytest.mark.parametrize("name", [pytest.param(f.name, marks=() if f.name in SMOKE else pytest.mark.slow)
                                  for f in faults.CATALOGUE])
def test_fault_is_caught_in_its_layer(name: str, tmp_path: Path) -> None:
    inv = load_inventory(lifecycle.inventory_dir())
    provision.wait_ready(inv, lambda _: None, timeout=90)
    fault = faults.BY_NAME[name]
    expected = fault.describe(fault.target(inv, None))
    faults.apply(name)
    try:
        doc = suite(tmp_path)
    finally:
        faults.clear(name)
    assert_caught_in_its_layer(name, doc, expected, inv)


def test_the_smoke_set_names_real_faults() -> None:
    assert set(SMOKE) <= set(faults.BY_NAME)
