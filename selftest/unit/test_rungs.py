"""Every conformance test declares its rung of the decision tree: the diagnosis places failures by it alone."""
from __future__ import annotations

from phoenix_verify.suite.markers import RUNGS


def test_suite_is_collected(suite_items: dict[str, dict]) -> None:
    assert len(suite_items) > 100, "the static lab target should collect the whole suite"


def test_every_test_declares_a_known_rung(suite_items: dict[str, dict]) -> None:
    missing = sorted(nodeid for nodeid, item in suite_items.items() if not item["declared_rung"])
    unknown = sorted(nodeid for nodeid, item in suite_items.items() if item["declared_rung"] and item["rung"] not in RUNGS)
    assert not missing, f"{len(missing)} tests declare no @pytest.mark.rung, e.g. {missing[:3]}"
    assert not unknown, f"{len(unknown)} tests declare a rung outside {RUNGS}, e.g. {unknown[:3]}"


def test_every_test_declares_a_layer(suite_items: dict[str, dict]) -> None:
    assert not [n for n, item in suite_items.items() if item["layer"] is None]
