"""The lab's inventory derived from a real Phoenix config directory: translate(config) + overlay.

translate() moves every address of the real /24 (10.0.0.0/24) to the lab's 198.18.0.0/24 keeping the host part
(guests, gateway, nameservers, the portainer/NFS server): nothing else changes. The overlay
(fixtures/lab-overlay.json) is a list of documented edits, each naming in one line what it fixes:
  * `conformance`: the smallest corrections that make the real config conform to the strategy (the defects
    `phoenix-lab up --as-declared` leaves live, for the suite to find);
  * `lab_shape`: where the lab does not yet run the declared form (each entry says why); this list only shrinks.
fixtures/lab/ is derive(reference) with both; selftest/unit/test_reference_overlay.py proves it."""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phoenix_lab.paths import REPO

FILES = {"hypervisor": "phoenix_hypervisor_config.json", "lxc": "phoenix_lxc_configs.json"}
OVERLAY = REPO / "fixtures" / "lab-overlay.json"
REFERENCE = REPO / "fixtures" / "reference" / "phoenix-config"   # the real config, as published
KINDS = ("conformance", "lab_shape")
REAL_HOST = re.compile(r"(?<![\d.])10\.0\.0\.(\d{1,3})(?![\d])")


class OverlayError(Exception):
    """The config directory or the overlay cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Edit:
    kind: str
    why: str
    file: str
    set: Mapping[str, Any] = field(default_factory=dict)
    delete: tuple[str, ...] = ()


def translate(value: Any) -> Any:
    """10.0.0.X -> 198.18.0.X in every string (keys and values), recursively; other values unchanged."""
    if isinstance(value, dict):
        return {translate(k): translate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [translate(v) for v in value]
    if isinstance(value, str):
        return REAL_HOST.sub(r"198.18.0.\1", value)
    return value


def load_config(config_dir: Path) -> dict[str, Any]:
    docs = {}
    for key, name in FILES.items():
        path = config_dir / name
        try:
            docs[key] = json.loads(path.read_text())
        except OSError as exc:
            raise OverlayError(f"{path}: cannot read: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise OverlayError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    return docs


def load_overlay(path: Path = OVERLAY) -> list[Edit]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise OverlayError(f"{path}: cannot load the overlay: {exc}") from None
    edits = []
    for kind in KINDS:
        for i, raw in enumerate(doc.get(kind, [])):
            where = f"{path.name}: {kind}[{i}]"
            why = raw.get("why")
            if not isinstance(why, str) or not why.strip() or "\n" in why:
                raise OverlayError(f"{where}: `why` must be one line naming what the entry fixes")
            if raw.get("file") not in FILES:
                raise OverlayError(f"{where}: `file` must be one of {sorted(FILES)}")
            if not raw.get("set") and not raw.get("delete"):
                raise OverlayError(f"{where}: an entry sets or deletes something")
            edits.append(Edit(kind, why, raw["file"], raw.get("set", {}), tuple(raw.get("delete", ()))))
    return edits


def _walk(doc: Any, pointer: str, where: str) -> tuple[Any, str]:
    """The container holding the pointer's last key, and that key (JSON pointer, no escapes)."""
    keys = pointer.strip("/").split("/")
    node = doc
    for key in keys[:-1]:
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise OverlayError(f"{where}: {pointer}: no `{key}` in the config")
    return node, keys[-1]


def apply(docs: dict[str, Any], edits: Iterable[Edit]) -> dict[str, Any]:
    """A copy of `docs` with the edits applied; an edit whose path is gone is an error (the overlay is stale)."""
    out = copy.deepcopy(docs)
    for edit in edits:
        where = f"overlay {edit.kind} `{edit.why}`"
        for pointer in edit.delete:
            parent, key = _walk(out[edit.file], pointer, where)
            if not isinstance(parent, dict) or key not in parent:
                raise OverlayError(f"{where}: {pointer}: nothing to delete")
            del parent[key]
        for pointer, value in edit.set.items():
            parent, key = _walk(out[edit.file], pointer, where)
            if isinstance(parent, list):
                parent[int(key)] = copy.deepcopy(value)
            else:
                parent[key] = copy.deepcopy(value)
    return out


def derive(config_dir: Path, kinds: Iterable[str] = KINDS, overlay: Path = OVERLAY) -> dict[str, Any]:
    """translate(config_dir) + the overlay's entries of the given kinds."""
    wanted = set(kinds)
    return apply(translate(load_config(config_dir)), [e for e in load_overlay(overlay) if e.kind in wanted])


def write(docs: Mapping[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        (out_dir / name).write_text(json.dumps(docs[key], indent=4) + "\n")
    return out_dir
