"""The suite's markers, and reading layer / CTID / remediation off a collected test."""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

LAYERS = ("host", "lxc", "gateway", "vllm", "firewall")
# The rungs of the decision tree (strategy §2.1/§2.3), lowest first: a failure on a low rung explains those above it.
RUNGS = ("host", "ct-config", "ct-running", "deps", "process", "service", "path", "gateway-route", "client")
MARKERS = {
    "host": "host layer: the Proxmox host itself (bridge, API, volumes, subuid, datacenter firewall)",
    "lxc": "lxc layer: a container's config, runtime state, mounts, idmap and services",
    "gateway": "gateway layer: the NGINX gateway contract, TLS, headers and config drift",
    "vllm": "vllm layer: vLLM servers, OpenAI conformance, model facts",
    "firewall": "firewall layer: Proxmox firewall config and reachability on the wire",
    "remediate(script, *args)": "the script under remediate/ that fixes this failure; args may use {ctid}",
    "ctid(N)": "the container this test is about (select with -m 'ctid(951)' or --ctid 951)",
    "rung(name)": "the rung of the decision tree this test checks: " + ", ".join(RUNGS),
    "static": "needs no live system: checks the declared config only",
    "semantic": "needs a real model to judge meaning",
    "gpu": "needs NVIDIA GPUs on the target",
    "docker": "needs a docker engine in the container",
    "slow": "takes longer than a few seconds",
}
_CTID_EXPR = re.compile(r"\bctid\(\s*(\d+)\s*\)")


def register(config: pytest.Config) -> None:
    for name, doc in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")


def rewrite_markexpr(expr: str) -> str:
    """pytest's -m grammar takes only keyword args: `ctid(951)` -> `ctid(n=951)`."""
    return _CTID_EXPR.sub(r"ctid(n=\1)", expr)


def layer_of(item: pytest.Item) -> str | None:
    for layer in LAYERS:
        if item.get_closest_marker(layer):
            return layer
    parts = Path(str(item.path)).parts
    return next((p for p in reversed(parts) if p in LAYERS), None)


def ctid_of(item: pytest.Item) -> int | None:
    mark = item.get_closest_marker("ctid")
    return int(mark.args[0]) if mark and mark.args else None


def rung_of(item: pytest.Item) -> str | None:
    """The declared rung; an undeclared or unknown rung is None (the rung self-test refuses both)."""
    mark = item.get_closest_marker("rung")
    return str(mark.args[0]) if mark and mark.args and mark.args[0] in RUNGS else None


def remediation_spec(item: pytest.Item) -> tuple[str, tuple[str, ...]] | None:
    """The fix as data: (script under remediate/, its arguments with `{ctid}`-style fields filled in)."""
    mark = item.get_closest_marker("remediate")
    if not mark or not mark.args:
        return None
    params: dict[str, Any] = dict(getattr(getattr(item, "callspec", None), "params", {}))
    params.setdefault("ctid", ctid_of(item))
    args = []
    for arg in mark.args[1:]:
        try:
            args.append(str(arg).format(**params))
        except (KeyError, AttributeError, IndexError):
            args.append(str(arg))
    return str(mark.args[0]), tuple(args)


def render(script: str, args: tuple[str, ...] | list[str]) -> str:
    """The command an operator would type, e.g. `remediate/net0-firewall.sh 951` (display only, never re-split)."""
    return " ".join(shlex.quote(a) for a in [f"remediate/{script}", *args])


def remediation_of(item: pytest.Item) -> str | None:
    spec = remediation_spec(item)
    return render(*spec) if spec else None
