"""Replay a suite run's probe log (phoenix_verify.access.probe_log) in a tight loop: the raw cost of the probes alone.

Each probe is issued exactly as the suite issued it (the same shell line, API GET, gateway request, TLS handshake
or WebSocket open), sequentially, with no pytest, no parsing and no assertions around it. It enters the lab's
namespaces, so it runs as its own process: `python bench/replay.py PROBES.jsonl` prints the seconds taken.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from typing import Any

import httpx

from phoenix_verify.access import netns
from phoenix_verify.access import tls as tls_probe
from phoenix_verify.access.http import gateway_client, websocket_opens
from phoenix_verify.access.proxmox import ApiPlane
from phoenix_verify.target import load_target


def replay(probes: list[dict[str, Any]]) -> float:
    target = load_target(None)
    if target.is_lab:
        netns.enter_lab(target)
    api = ApiPlane(target).api if target.has_api else None
    clients: dict[tuple[str | None, str], httpx.Client] = {}
    started = time.monotonic()
    for p in probes:
        kind = p["kind"]
        if kind == "sh":
            subprocess.run(["/bin/sh", "-c", p["command"]], capture_output=True, timeout=120, check=False)
        elif kind == "api" and api is not None:
            with contextlib.suppress(Exception):   # a missing object costs the suite the same round trip
                api(p["path"]).get(**p["params"])
        elif kind == "http":
            key = (p["hostname"], p["scheme"])
            client = clients.get(key) or clients.setdefault(key, gateway_client(target, p["hostname"], p["scheme"]))
            with contextlib.suppress(httpx.HTTPError):   # the suite saw the same failure; its cost is what counts
                client.request(p["method"], p["path"], content=p["body"].encode("latin-1") or None).read()
        elif kind == "tls":
            tls_probe.handshake_version(p["address"], p["hostname"], p["version"], p["port"])
        elif kind == "cert":
            with contextlib.suppress(OSError):
                tls_probe.peer_certificate(p["address"], p["hostname"], p["ca_bundle"], p["port"])
        elif kind == "ws":
            websocket_opens(target, p["hostname"], p["path"])
    elapsed = time.monotonic() - started
    for client in clients.values():
        client.close()
    return elapsed


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as log:
        lines = log.read().splitlines()
    print(f"{replay([json.loads(line) for line in lines]):.3f}")
