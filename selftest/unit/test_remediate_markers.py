"""Every conformance test in tests/ names its remediation with a `remediate(script, *args)` marker, and the script
exists in remediate/ with the number of arguments its usage line declares."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REMEDIATE = ROOT / "remediate"
TESTS = ROOT / "tests"
LAB_INVENTORY = ROOT / "fixtures" / "lab"

DUMP_PLUGIN = """
import json, os

def pytest_collection_finish(session):
    items = []
    for item in session.items:
        marks = [[list(map(str, m.args)), {k: str(v) for k, v in m.kwargs.items()}]
                 for m in item.iter_markers("remediate")]
        items.append({"nodeid": item.nodeid, "remediate": marks})
    with open(os.environ["REMEDIATE_MARKER_DUMP"], "w") as out:
        json.dump(items, out)
"""


def usage_arity(script: str) -> int:
    usage = re.search(r'Usage: \S+ \[--apply\]([^\n"]*)', (REMEDIATE / script).read_text())
    assert usage is not None, f"{script} has no usage line"
    return len([word for word in usage.group(1).split() if not word.startswith("[")])   # options like [--allow-disruptive]


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """Collect tests/ in a separate pytest process (inventory-only target: no live system needed)."""
    tmp = tmp_path_factory.mktemp("markers")
    (tmp / "remediate_marker_dump.py").write_text(DUMP_PLUGIN)
    target = tmp / "phoenix.toml"
    target.write_text(f'[inventory]\nconfig_dir = "{LAB_INVENTORY}"\n')
    dump = tmp / "dump.json"
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp),
        "PYTHONPATH": f"{tmp}:{ROOT}",
        "REMEDIATE_MARKER_DUMP": str(dump),
        "PHOENIX_TARGET": str(target),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "remediate_marker_dump",
            "-p",
            "no:cacheprovider",
            str(TESTS),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    items = json.loads(dump.read_text())
    assert items, "tests/ collected no test at all"
    return items


def test_every_conformance_test_names_a_remediation(collected: list[dict]) -> None:
    missing = [item["nodeid"] for item in collected if not item["remediate"]]
    assert missing == [], f"{len(missing)} test(s) without a remediate(...) marker, e.g. {missing[:5]}"


def test_every_named_script_exists_with_its_arguments(collected: list[dict]) -> None:
    problems = set()
    for item in collected:
        for args, _kwargs in item["remediate"]:
            if not args:
                problems.add(f"{item['nodeid']}: remediate() without a script name")
                continue
            script, script_args = args[0], args[1:]
            if "/" in script or not (REMEDIATE / script).is_file() or script == "lib.sh":
                problems.add(f"{item['nodeid']}: no script remediate/{script}")
            elif len(script_args) != usage_arity(script):
                problems.add(f"{item['nodeid']}: {script} takes {usage_arity(script)} argument(s), got {script_args}")
    assert sorted(problems) == []
