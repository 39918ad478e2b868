"""Running the conformance suite from a lab self-test (phoenix_verify.suite.run) and reading its result."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from phoenix_model.inventory import Inventory
from phoenix_verify.diagnosis.tree import route_backend
from phoenix_verify.suite.run import run_suite

OBJECT_LAYERS = ("host", "lxc", "firewall")   # whose tests are per CT, volume or host (gateway tests are per hostname)


def suite(report_dir: Path, *args: str) -> dict[str, Any]:
    return run_suite(["tests", *args], report_dir, None)


def failing(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc["tests"] if t["outcome"] in ("failed", "error")]


def root_causes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(rc["layer"], rc["object"]) for rc in doc.get("root_causes", [])]


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


def assert_caught_in_its_layer(name: str, doc: dict[str, Any], expected: dict[str, str], inv: Inventory) -> None:
    """The suite is red, only in the fault's layer, every red test names the fault's object, and the diagnosis
    gives exactly that layer and object."""
    red = failing(doc)
    assert red, f"{name}: the suite stayed green"
    elsewhere = [f"{t['nodeid']} ({t['layer']})" for t in red if t["layer"] != expected["layer"]]
    assert elsewhere == [], f"{name} ({expected['layer']}): failing outside its layer"
    if expected["layer"] in OBJECT_LAYERS:
        unnamed = [t["nodeid"] for t in red if not names_object(t, expected["object"], inv)]
        assert unnamed == [], f"{name}: failing tests that do not name {expected['object']}"
    assert root_causes(doc) == [(expected["layer"], expected["object"])], f"{name}: diagnosed {root_causes(doc)}"
