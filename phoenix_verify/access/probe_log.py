"""With $PHOENIX_PROBE_LOG set, every probe the suite makes is appended there as one JSON line (shell commands as
run, API GETs, gateway HTTP requests, TLS handshakes, WebSocket opens), so bench/ can replay exactly the same probes
in a tight loop and report the suite's overhead. Off (and free) otherwise. The log may hold request bodies: it is
meant for a scratch file of a benchmark run, never for reports."""
from __future__ import annotations

import json
import os
from typing import Any


def enabled() -> bool:
    return bool(os.environ.get("PHOENIX_PROBE_LOG"))


def record(kind: str, **fields: Any) -> None:
    path = os.environ.get("PHOENIX_PROBE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"kind": kind, **fields}) + "\n")


def shell(host: Any, command: str, *args: str) -> Any:
    """`host.run(command, *args)` on a testinfra host, logged as the shell line its backend runs."""
    if enabled():
        record("sh", command=host.backend.get_command(command, *args))
    return host.run(command, *args)
