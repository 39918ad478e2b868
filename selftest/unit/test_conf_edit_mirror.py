"""remediate/pve-conf-edit.py runs with a bare Proxmox node's python3, so it keeps its own reading of
/etc/pve/lxc/<id>.conf; it must agree with phoenix_model.pve_formats (the suite's one reader) on every config."""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_model.pve_formats import CtConfig, parse_ct_config, typed_value, write_ct_config

SCRIPT = Path(__file__).resolve().parents[2] / "remediate" / "pve-conf-edit.py"
spec = importlib.util.spec_from_file_location("pve_conf_edit", SCRIPT)
assert spec and spec.loader
conf_edit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conf_edit)

KEYS = st.sampled_from(["arch", "cores", "hostname", "memory", "net0", "onboot", "ostype", "rootfs", "mp0", "mp1",
                        "startup", "swap", "unprivileged", "features", "tags"])
VALUES = st.one_of(st.from_regex(r"[a-z0-9][a-z0-9=,./:_-]{0,30}", fullmatch=True), st.sampled_from(["yes", "0", "on", "512"]))
RAW = st.sampled_from(["lxc.idmap", "lxc.apparmor.profile", "lxc.mount.entry", "lxc.cgroup2.devices.allow"])
RAW_VALUES = st.from_regex(r"[a-z0-9][a-z0-9 /:_*,.-]{0,30}[a-z0-9]", fullmatch=True)
SECTIONS = st.builds(lambda cur, lxc: CtConfig(current=cur, lxc=lxc),
                     st.dictionaries(KEYS, VALUES, min_size=1, max_size=8), st.lists(st.tuples(RAW, RAW_VALUES), max_size=5))


def mirror_read(text: str) -> tuple[dict[str, str], list[str]]:
    """The current section as pve-conf-edit.py reads it: key -> value, and the raw lines."""
    current, _ = conf_edit.split_sections(text)
    edited = conf_edit.edit_current(current, argparse.Namespace(drop_raw=[], drop_raw_prefix=[], set=[], add_raw=[]))
    keys = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in edited if not line.startswith(("lxc.", "#")))}
    return keys, [line for line in edited if line.startswith("lxc.")]


@settings(max_examples=150, deadline=None)
@given(SECTIONS, st.dictionaries(st.sampled_from(["pre-configured", "final-form"]), SECTIONS, max_size=2))
def test_both_readers_agree_on_the_current_section(current: CtConfig, snapshots: dict[str, CtConfig]) -> None:
    text = write_ct_config(CtConfig(current=current.current, lxc=current.lxc, snapshots=snapshots))
    parsed = parse_ct_config(text)
    keys, raw = mirror_read(text)
    assert {k: typed_value(k, v) for k, v in keys.items()} == parsed.current   # same text, same value once typed
    assert raw == [f"{k}: {v}" for k, v in parsed.lxc]


@settings(max_examples=100, deadline=None)
@given(SECTIONS, SECTIONS, st.lists(st.tuples(RAW, RAW_VALUES), min_size=1, max_size=3))
def test_an_edit_changes_only_the_current_section(current: CtConfig, snapshot: CtConfig, added: list[tuple[str, str]]) -> None:
    text = write_ct_config(CtConfig(current=current.current, lxc=current.lxc, snapshots={"final-form": snapshot}))
    before = parse_ct_config(text)
    lines, rest = conf_edit.split_sections(text)
    args = argparse.Namespace(drop_raw=[], drop_raw_prefix=["lxc.idmap"], set=[], add_raw=[f"{k}: {v}" for k, v in added])
    body = "\n".join(conf_edit.edit_current(lines, args)) + "\n" + ("\n" + "\n".join(rest) + "\n" if rest else "")
    after = parse_ct_config(body)
    assert after.snapshots["final-form"].current == before.snapshots["final-form"].current
    assert after.snapshots["final-form"].lxc == before.snapshots["final-form"].lxc
    assert after.current == before.current
    kept = [(k, v) for k, v in before.lxc if k != "lxc.idmap"]
    assert after.lxc == kept + [(k, v) for k, v in dict.fromkeys(added) if (k, v) not in kept]
