"""Lab options chosen at `phoenix-lab up` and kept for the lab's lifetime (`<home>/options.json`).

They change what the CTs are built from (the SmolLM2 model layer), so a running lab keeps the options it was
created with: `up` with different options asks for a `down` first instead of half-switching.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from phoenix_lab.paths import LabPaths

CHAT_ENGINES = ("echo", "smollm2")


@dataclass(frozen=True)
class LabOptions:
    chat_engine: str = "echo"   # "echo": fast and deterministic; "smollm2": the real SmolLM2-135M for semantic checks


def load(paths: LabPaths) -> LabOptions:
    try:
        data = json.loads(paths.options.read_text())
    except (OSError, ValueError):
        return LabOptions()
    return LabOptions(chat_engine=data.get("chat_engine", "echo") if data.get("chat_engine") in CHAT_ENGINES else "echo")


def save(paths: LabPaths, opts: LabOptions) -> None:
    paths.options.parent.mkdir(parents=True, exist_ok=True)
    paths.options.write_text(json.dumps(asdict(opts)) + "\n")
