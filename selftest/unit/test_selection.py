"""`-m` pruning of layer directories: a directory goes only when no test of its layer can match."""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_verify.suite.selection import layer_can_match, prunable_layer_dir

LAYERS = ("host", "lxc", "gateway", "vllm", "firewall")


@pytest.mark.parametrize("expr, kept", [
    ("host", {"host"}),
    ("not host", {"lxc", "gateway", "vllm", "firewall"}),
    ("host and static", {"host"}),
    ("(host or lxc) and slow", {"host", "lxc"}),
    ("not (lxc or vllm)", {"host", "gateway", "firewall"}),
    ("static", set(LAYERS)),
    ("gateway or ctid(n=951)", set(LAYERS)),     # a CT's tests live in every layer
    ("host and not host", set()),
])
def test_layers_kept(expr: str, kept: set[str]) -> None:
    assert {layer for layer in LAYERS if layer_can_match(expr, layer)} == kept


def test_bad_expression_prunes_nothing() -> None:
    assert all(layer_can_match("host and (", layer) for layer in LAYERS)


def test_only_layer_dirs_under_tests_are_pruned() -> None:
    assert prunable_layer_dir(Path("/x/tests/gateway"), "host")
    assert not prunable_layer_dir(Path("/x/tests/host"), "host")
    assert not prunable_layer_dir(Path("/x/selftest/gateway"), "host")
    assert not prunable_layer_dir(Path("/x/tests/gateway"), "")


def test_host_run_imports_no_other_layer(pytester: pytest.Pytester) -> None:
    for layer in LAYERS:
        (pytester.path / "tests" / layer).mkdir(parents=True)
        pytester.makepyfile(**{f"tests/{layer}/test_{layer}": f"import pytest\npytestmark = pytest.mark.{layer}\n"
                               f"IMPORTED = open('imported-{layer}', 'w')\ndef test_x(): pass\n"})
    result = pytester.runpytest_subprocess("tests", "-m", "host", "--collect-only", "--no-phoenix-reports")
    result.assert_outcomes()
    assert "1 test collected" in result.stdout.str()
    assert sorted(p.name for p in pytester.path.glob("imported-*")) == ["imported-host"]
