"""The checks wing compares; it never probes. A module of phoenix_verify/checks that imports a transport, or a
probe function of the access wing, would make its unit tests need a live system, so the floor plan forbids it.
The fact records the probes return (`CtFacts`, `HostFacts`, `Cell`, and their constants) are what checks compare."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHECKS = Path(__file__).resolve().parents[2] / "phoenix_verify" / "checks"
TRANSPORTS = ("socket", "ssl", "subprocess", "httpx", "requests", "urllib.request", "http.client", "proxmoxer",
              "testinfra", "openai")


def imported(path: Path) -> set[str]:
    """Modules imported, and `module.name` for every lower-case name taken from the access wing (a probe)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module.startswith("phoenix_verify.access"):
                names |= {f"probe:{node.module}.{a.name}" for a in node.names if not a.name[0].isupper()}
    return names


@pytest.mark.parametrize("path", sorted(CHECKS.glob("*.py")), ids=lambda p: p.name)
def test_check_module_imports_no_transport(path: Path) -> None:
    names = imported(path)
    bad = sorted(n for n in names if any(n == t or n.startswith(t + ".") for t in TRANSPORTS))
    bad += sorted(n for n in names if n.startswith("probe:"))
    assert not bad, f"{path.name} imports {bad}: probes belong in phoenix_verify/access"
