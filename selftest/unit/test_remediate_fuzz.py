"""Hypothesis feeds every remediation script random arguments (shell metacharacters, unicode, huge numbers, empty
strings, options): invalid input exits 2, runs no command at all (the fake pct/pvesh/… log every call) and never
lets an injected `touch canary` happen."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from phoenix_model.inventory import load_inventory
from selftest.unit import remediate_fakes as fakes
from selftest.unit.remediate_fakes import LAB_INVENTORY, REMEDIATE, SCRIPTS

INVENTORY = load_inventory(LAB_INVENTORY)
UNIT = re.compile(r"[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]*")
PAYLOADS = [
    "950; touch canary",
    "$(touch canary)",
    "`touch canary`",
    "950 && touch canary",
    "950|touch canary",
    "950\ntouch canary",
    "' ; touch canary ; '",
    '"; touch canary"',
    "nginx.service; touch canary",
    "-o",
    "--apply=1",
    "--force",
    "-",
    "--",
    "",
    " ",
    "0",
    "0950",
    "99",
    "1000000000",
    "9" * 40,
    "-950",
    "950 ",
    " 950",
    "٩٥٠",
    "９５０",
    "950.0",
    "0x3b6",
    "1e3",
    "ssl_certs/../..",
    "../etc",
    "*",
    "~",
    "${IFS}touch${IFS}canary",
    "a" * 300,
    "nginx\x00",
    "ünït.service",
    "-rf",
]
ARG = st.one_of(
    st.sampled_from(PAYLOADS),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(alphabet=st.sampled_from(list(";&|$`'\"\\<>(){}[]*?!#~ \t\n-=.,:/@_") + ["a", "9", "ü", "٩"]), max_size=12),
    st.text(max_size=20),
)


def arg_kinds(script: str) -> list[str]:
    """The positional arguments a script takes, from its usage line."""
    usage = re.search(r'Usage: \S+ \[--apply\]([^\n"]*)', (REMEDIATE / script).read_text())
    assert usage is not None, script
    return [word for word in usage.group(1).split() if not word.startswith("[")]   # options like [--allow-disruptive]


def valid(kind: str, value: str) -> bool:
    """The validation rules of the brief, written independently of remediate/lib.sh."""
    if kind == "CTID":
        return re.fullmatch(r"[1-9][0-9]{2,8}", value, re.ASCII) is not None and int(value) in INVENTORY.containers
    if kind == "UNIT":
        return len(value) <= 256 and UNIT.fullmatch(value) is not None
    if kind == "VOLUME":
        return value in INVENTORY.shared_volumes
    raise AssertionError(kind)


def is_valid_call(kinds: list[str], args: list[str]) -> bool:
    if any(a in ("--help", "-h") for a in args):
        return True
    positional = [a for a in args if a != "--apply"]
    if any(a.startswith("-") for a in positional) or len(positional) != len(kinds):
        return False
    return all(valid(kind, value) for kind, value in zip(kinds, positional, strict=True))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("remediate-fuzz")
    state = root / "pve"
    (state / "lxc").mkdir(parents=True)
    fakes.install(root / "bin", sys.executable)
    env = {
        "PATH": f"{root / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "PHOENIX_INVENTORY": str(LAB_INVENTORY),
        "PHOENIX_PVE_DIR": str(state),
        "PHOENIX_ETC_DIR": str(root / "etc"),
        "PHOENIX_PYTHON": sys.executable,
        "HOME": str(root),
    }
    return root, env


@pytest.mark.parametrize("script", SCRIPTS)
def test_invalid_arguments_run_nothing(script: str, sandbox: tuple[Path, dict[str, str]]) -> None:
    root, env = sandbox
    kinds = arg_kinds(script)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(args=st.lists(ARG, max_size=len(kinds) + 1), apply=st.booleans())
    def check(args: list[str], apply: bool) -> None:
        args = [a for a in args if "\x00" not in a]  # argv cannot carry NUL
        assume(not is_valid_call(kinds, args))
        (root / "pve" / "calls.jsonl").unlink(missing_ok=True)
        argv = [str(REMEDIATE / script), *args, *(["--apply"] if apply else [])]
        result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=root, timeout=60, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.strip(), "an invalid call must say why"
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert fakes.calls(root / "pve") == []
        assert not (root / "canary").exists()

    check()


@pytest.mark.parametrize("script", [s for s in SCRIPTS if "CTID" in arg_kinds(s)])
def test_valid_ctid_with_injection_suffix_is_rejected_whole(script: str, sandbox: tuple[Path, dict[str, str]]) -> None:
    """A known CTID followed by a command (the issue's `950; rm -rf /`) is one invalid argument, not two."""
    root, env = sandbox
    ctid = str(next(iter(INVENTORY.containers)))
    extra = ["nginx.service"] if arg_kinds(script) == ["CTID", "UNIT"] else []
    (root / "pve" / "calls.jsonl").unlink(missing_ok=True)
    result = subprocess.run(
        [str(REMEDIATE / script), f"{ctid}; touch canary", *extra, "--apply"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "invalid CTID" in result.stderr
    assert fakes.calls(root / "pve") == []
    assert not (root / "canary").exists()
