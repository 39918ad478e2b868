"""Bad input, generated: a malformed target file, inventory or command line gives one line and a non-zero exit,
never a traceback (the project's rule for every entry point)."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_model.inventory import InventoryError, load_inventory
from phoenix_verify import locations
from phoenix_verify.cli import main
from phoenix_verify.target import KNOWN_KEYS, Target, TargetError, parse_target

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SCALARS = st.one_of(st.text(max_size=12), st.integers(-5, 10**6), st.booleans(), st.floats(allow_nan=False, width=32),
                    st.lists(st.text(max_size=6), max_size=3), st.lists(st.integers(), max_size=2))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if abs(value) != float("inf") else "0.0"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


@st.composite
def target_texts(draw: st.DrawFn) -> str:
    """Mostly well-formed TOML with known and unknown sections/keys and values of any type; sometimes garbage."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=80))
    sections = draw(st.lists(st.sampled_from([*KNOWN_KEYS, "bogus"]), unique=True, max_size=6))
    lines = []
    for section in sections:
        lines.append(f"[{section}]")
        keys = draw(st.lists(st.sampled_from([*sorted(KNOWN_KEYS.get(section, {"x"})), "token_secret", "nope"]), unique=True, max_size=5))
        lines += [f"{key} = {toml_value(draw(SCALARS))}" for key in keys]
    return "\n".join(lines) + "\n"


def one_line_exit(argv: list[str]) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:          # argparse
            code = int(exc.code or 0)
    return code, err.getvalue()


@SETTINGS
@given(text=target_texts())
def test_any_target_file_parses_or_names_the_problem(tmp_path: Path, text: str) -> None:
    path = tmp_path / "phoenix.toml"
    path.write_text(text)
    try:
        assert isinstance(parse_target(path), Target)
    except TargetError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))


@SETTINGS
@given(text=target_texts())
def test_cli_with_a_bad_target_is_one_line_exit_2(tmp_path: Path, text: str) -> None:
    path = tmp_path / "phoenix.toml"
    path.write_text(text)
    try:
        parse_target(path)
    except TargetError:
        code, err = one_line_exit(["inventory", "--target", str(path)])
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 10**9), st.text(max_size=8)),
                       lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                       max_leaves=8)


@SETTINGS
@given(path=st.lists(st.sampled_from(["lxc_configs", "951", "952", "network_config", "ip", "mount_points", "cores",
                                      "ports", "firewall", "rules", "vllm_args", "gpu_assignment", "0", "features"]),
                     min_size=1, max_size=4),
       value=JSONISH)
def test_any_damaged_inventory_loads_or_names_the_field(tmp_path: Path, lab_dir: Path, path: list[str], value: object) -> None:
    """One value somewhere in a real inventory replaced by anything: InventoryError (one line) or a loaded inventory."""
    inv_dir = tmp_path / "inv"
    shutil.rmtree(inv_dir, ignore_errors=True)
    shutil.copytree(lab_dir, inv_dir)
    doc = json.loads((inv_dir / "phoenix_lxc_configs.json").read_text())
    node = doc
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            break
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value
    (inv_dir / "phoenix_lxc_configs.json").write_text(json.dumps(doc))
    try:
        load_inventory(inv_dir)
    except InventoryError as exc:
        assert "\n" not in str(exc)
        code, err = one_line_exit(["inventory", "--config-dir", str(inv_dir)])
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


WORDS = ["inventory", "lint-nginx", "diagnose", "remediate", "promote", "nightly", "--target", "--config-dir", "--json",
         "--inventory", "--report", "--apply", "--keep", "--reports", "--index-only", "0", "-1", "abc", "951", "/nonexistent",
         "--allow-disruptive", "", "--", "-x"]


@SETTINGS
@given(argv=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=6))
def test_every_cli_rejects_bad_arguments_in_one_line(tmp_path: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the words: exit 0 only for what is valid, otherwise a non-zero exit with at most one line and no
    traceback. Paths point nowhere and the lab is absent, so nothing real runs."""
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "no-lab"))
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(locations, "reports_dir", lambda: tmp_path / "reports")   # nightly --index-only writes there
    if argv[:1] == ["check"]:
        return
    code, err = one_line_exit(argv)
    assert "Traceback" not in err
    if code != 0:
        assert len([line for line in err.splitlines() if line.strip()]) <= 1, err
