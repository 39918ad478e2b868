"""Malformed and mutated configs: unreadable input is an InventoryError, everything else a finding; both name
file and JSON path."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_model.inventory import HYPERVISOR_FILE, LXC_FILE, InventoryError, load_inventory, to_jsonable

MESSAGE = re.compile(rf"^({re.escape(LXC_FILE)}|{re.escape(HYPERVISOR_FILE)}): \S+: .+")


def write(dirpath: Path, hyper: Any, lxc: Any) -> Path:
    dirpath.mkdir(parents=True, exist_ok=True)
    (dirpath / HYPERVISOR_FILE).write_text(hyper if isinstance(hyper, str) else json.dumps(hyper))
    (dirpath / LXC_FILE).write_text(lxc if isinstance(lxc, str) else json.dumps(lxc))
    return dirpath


@pytest.fixture(scope="module")
def docs(lab_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return json.loads((lab_dir / HYPERVISOR_FILE).read_text()), json.loads((lab_dir / LXC_FILE).read_text())


def expect_finding(dirpath: Path, text: str) -> None:
    """The model still loads, and the problem is one of its findings."""
    found = [str(f) for f in load_inventory(dirpath).findings]
    assert text in found, found


def test_bad_ip_names_file_and_path(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["951"]["network_config"]["ip"] = "10.0.0.151/33"
    dirpath = write(tmp_path, hyper, lxc)
    expect_finding(dirpath, "phoenix_lxc_configs.json: lxc_configs.951.network_config.ip: '10.0.0.151/33' is not an IPv4 interface")
    assert 951 not in load_inventory(dirpath).containers and 950 in load_inventory(dirpath).containers


def test_invalid_json_names_the_file(tmp_path: Path, docs: Any) -> None:
    with pytest.raises(InventoryError, match=r"^phoenix_lxc_configs.json: \$: invalid JSON at line 1"):
        load_inventory(write(tmp_path, docs[0], '{"lxc_configs": '))


def test_clone_from_nowhere(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["950"]["clone_from_ctid"] = "777"
    expect_finding(write(tmp_path, hyper, lxc), "phoenix_lxc_configs.json: lxc_configs.950.clone_from_ctid: CTID 777 is not declared")


def test_clone_loop(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["900"]["clone_from_ctid"] = "950"
    found = [str(f) for f in load_inventory(write(tmp_path, hyper, lxc)).findings]
    assert any(re.search(r"clone_from_ctid: clone chain loops: .*950", f) for f in found), found


def test_duplicate_ip_and_mac(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["951"]["network_config"]["ip"] = lxc["lxc_configs"]["950"]["network_config"]["ip"]
    expect_finding(write(tmp_path / "ip", hyper, lxc),
                   "phoenix_lxc_configs.json: lxc_configs.951.network_config.ip: 198.18.0.150 is also used by CT 950")
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["951"]["mac_address"] = lxc["lxc_configs"]["950"]["mac_address"].lower()
    expect_finding(write(tmp_path / "mac", hyper, lxc),
                   "phoenix_lxc_configs.json: lxc_configs.951.mac_address: 52:54:00:67:89:B0 is also used by CT 950")


def test_wrong_type(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["953"]["cores"] = "four"
    dirpath = write(tmp_path, hyper, lxc)
    expect_finding(dirpath, "phoenix_lxc_configs.json: lxc_configs.953.cores: expected integer, got string; read as 1")
    assert load_inventory(dirpath).containers[953].cores == 1


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from([0, 1]), action=st.sampled_from(["replace", "delete"]))
def test_mutated_configs_only_raise_inventory_errors(tmp_path_factory: pytest.TempPathFactory, docs: Any,
                                                    data: st.DataObject, which: int, action: str) -> None:
    pair = list(copy.deepcopy(docs))
    paths = [p for p in _paths(pair[which]) if p]
    path = data.draw(st.sampled_from(paths))
    parent = pair[which]
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JUNK)
    dirpath = write(tmp_path_factory.mktemp("mut"), pair[0], pair[1])
    try:
        inv = load_inventory(dirpath)
    except InventoryError as exc:
        assert MESSAGE.match(str(exc)), str(exc)
    else:
        assert all(MESSAGE.match(str(f)) for f in inv.findings), [str(f) for f in inv.findings]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_arbitrary_bytes_are_an_inventory_error(tmp_path_factory: pytest.TempPathFactory, docs: Any, text: str) -> None:
    dirpath = write(tmp_path_factory.mktemp("raw"), docs[0], text)
    try:
        load_inventory(dirpath)
    except InventoryError as exc:
        assert str(exc).startswith(f"{LXC_FILE}: "), str(exc)


def test_dependency_on_undeclared_ct(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    lxc["lxc_configs"]["954"]["dependencies"] = ["953", "777"]
    expect_finding(write(tmp_path, hyper, lxc), "phoenix_lxc_configs.json: lxc_configs.954.dependencies[1]: guest 777 is not declared")


def test_plaintext_credential_is_a_finding_without_its_value(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    hyper["portainer_api"] = {"admin_user": "admin", "admin_password": "planted-Secret-42", "password_file": "/etc/pw"}
    inv = load_inventory(write(tmp_path, hyper, lxc))
    found = [f for f in inv.findings if f.kind == "credential"]
    assert [(f.file, f.path, f.layer) for f in found] == [(HYPERVISOR_FILE, "portainer_api.admin_password", "host")]
    assert "planted-Secret-42" not in repr(inv) and "planted-Secret-42" not in json.dumps(to_jsonable(inv))
    assert inv.secret_values == {"planted-Secret-42"}


def test_later_generation_list_where_a_string_was(tmp_path: Path, docs: Any) -> None:
    hyper, lxc = copy.deepcopy(docs)
    hyper["network"]["interfaces"]["dns_nameservers"] = ["198.18.0.53", "198.18.0.54"]
    inv = load_inventory(write(tmp_path, hyper, lxc))
    assert inv.host.dns == ("198.18.0.53", "198.18.0.54") and inv.findings == ()
