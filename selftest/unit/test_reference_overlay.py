"""fixtures/lab/ is the real Phoenix config translated to lab addresses plus the documented overlay, so the lab
can never drift from the config it stands for (issue 15 item 1). The translation and the overlay rules are
also tested on their own, with made-up configs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from phoenix_lab import reference
from phoenix_model.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "fixtures" / "lab"


def test_lab_inventory_is_translated_reference_plus_overlay() -> None:
    derived = reference.derive(reference.REFERENCE)
    for key, name in reference.FILES.items():
        assert derived[key] == json.loads((LAB / name).read_text()), f"fixtures/lab/{name} drifted from the reference"


def test_as_declared_keeps_the_real_defects_and_still_loads(tmp_path: Path) -> None:
    declared = reference.derive(reference.REFERENCE, kinds=["lab_shape"])
    inv = load_inventory(reference.write(declared, tmp_path))
    chat = inv.containers[950]
    assert chat.vllm is not None and "granite" not in chat.vllm.model  # the defect stays for the suite to find
    assert not inv.containers[953].firewall.rules


def test_every_real_address_moves_to_the_lab_range() -> None:
    text = json.dumps(reference.translate(reference.load_config(reference.REFERENCE)))
    assert "10.0.0." not in text and "198.18.0.153" in text


def test_translate_keeps_the_host_part_and_nothing_else() -> None:
    doc = {"ip": "10.0.0.152/24", "gw": "10.0.0.1", "dns": "10.0.0.53 8.8.8.8", "subnet": "10.0.0.0/24",
           "not": ["110.0.0.5", "10.0.0.1234", "10.0.1.5", "x10.0.0.7"], "n": 10, "b": True}
    assert reference.translate(doc) == {"ip": "198.18.0.152/24", "gw": "198.18.0.1", "dns": "198.18.0.53 8.8.8.8",
                                        "subnet": "198.18.0.0/24", "not": ["110.0.0.5", "10.0.0.1234", "10.0.1.5", "x198.18.0.7"],
                                        "n": 10, "b": True}


def _overlay(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "overlay.json"
    path.write_text(json.dumps(doc))
    return path


def test_overlay_sets_and_deletes(tmp_path: Path) -> None:
    docs = {"hypervisor": {"a": {"b": 1, "c": [1, 2]}}, "lxc": {"lxc_configs": {"950": {"x": 1}, "951": {}}}}
    edits = reference.load_overlay(_overlay(tmp_path, {"conformance": [
        {"why": "fix b", "file": "hypervisor", "set": {"/a/b": 2, "/a/c/1": 3}},
        {"why": "drop 951", "file": "lxc", "delete": ["/lxc_configs/951"]}]}))
    out = reference.apply(docs, edits)
    assert out == {"hypervisor": {"a": {"b": 2, "c": [1, 3]}}, "lxc": {"lxc_configs": {"950": {"x": 1}}}}
    assert docs["hypervisor"]["a"]["b"] == 1  # the input is not modified


@pytest.mark.parametrize(("entry", "message"), [
    ({"file": "lxc", "set": {"/a": 1}}, "`why` must be one line"),
    ({"why": "two\nlines", "file": "lxc", "set": {"/a": 1}}, "`why` must be one line"),
    ({"why": "w", "file": "other", "set": {"/a": 1}}, "`file` must be one of"),
    ({"why": "w", "file": "lxc"}, "sets or deletes something"),
])
def test_bad_overlay_entries_are_one_line_errors(tmp_path: Path, entry: dict, message: str) -> None:
    with pytest.raises(reference.OverlayError, match=message) as err:
        reference.load_overlay(_overlay(tmp_path, {"lab_shape": [entry]}))
    assert "lab_shape[0]" in str(err.value)


def test_stale_overlay_paths_fail(tmp_path: Path) -> None:
    docs = {"hypervisor": {}, "lxc": {"lxc_configs": {}}}
    for entry in ({"why": "w", "file": "lxc", "delete": ["/lxc_configs/999"]},
                  {"why": "w", "file": "lxc", "set": {"/lxc_configs/999/name": "x"}}):
        with pytest.raises(reference.OverlayError, match="/lxc_configs/999"):
            reference.apply(docs, reference.load_overlay(_overlay(tmp_path, {"conformance": [entry]})))


def test_unreadable_config_dir_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(reference.OverlayError, match="phoenix_hypervisor_config.json: cannot read"):
        reference.load_config(tmp_path)
