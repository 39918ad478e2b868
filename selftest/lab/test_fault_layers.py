"""Each lab fault is caught in its own layer: the suite goes red, every failing test belongs to
the fault's layer and names the faulty object, and the diagnosis gives exactly that layer and object.

One full suite run per fault (about 20 s each); `make fault-matrix` adds the remediation round trip.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from phoenix_lab import faults, lifecycle, provision
from phoenix_model.inventory import Inventory, load_inventory
from phoenix_verify.diagnosis.tree import route_backend
from selftest.lab.suite_runs import failing, root_causes, suite

OBJECT_LAYERS = ("host", "lxc", "firewall")   # whose tests are per CT, volume or host (gateway tests are per hostname)


def names_object(test: dict[str, Any], obj: str, inv: Inventory) -> bool:
    """Whether a failing test points at the fault's object: its CT, its volume, its route, or the host itself."""
    if obj.startswith("ct"):
        return test["ctid"] == int(obj[2:])
    if obj.startswith("volume:"):
        return obj[7:] in test["nodeid"]
    if obj.startswith("gateway:"):
        route = obj[8:]
        return route in test["nodeid"] or test["ctid"] == route_backend(route, inv)
    return test["ctid"] is None   # "host": a host-wide check


@pytest.mark.parametrize("name", [f.name for f in faults.CATALOGUE])
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
    red = failing(doc)
    assert red, f"{name}: the suite stayed green"
    elsewhere = [f"{t['nodeid']} ({t['layer']})" for t in red if t["layer"] != expected["layer"]]
    assert elsewhere == [], f"{name} ({expected['layer']}): failing outside its layer"
    if expected["layer"] in OBJECT_LAYERS:
        unnamed = [t["nodeid"] for t in red if not names_object(t, expected["object"], inv)]
        assert unnamed == [], f"{name}: failing tests that do not name {expected['object']}"
    assert root_causes(doc) == [(expected["layer"], expected["object"])]
