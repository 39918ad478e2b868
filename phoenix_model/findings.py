"""Problems in the declared state that do not stop it from being modelled, and plaintext credentials in it.

Only unreadable input is a load error (`InventoryError`); a wrong type, a reference to an undeclared guest, a
duplicate address or a credential written in clear is a `ConfigFinding` that a `static` test of its layer
reports with file and JSON path. A credential's value is never kept in a finding's text.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LAYER_BY_FILE = {
    "phoenix_hypervisor_config.json": "host",
    "phoenix_lxc_configs.json": "lxc",
    "phoenix_vm_configs.json": "lxc",          # VMs are guests like CTs: the guest layer owns them
    "phoenix_stacks_config.json": "lxc",
    "certificate-manifest.json": "gateway",
}
# A key naming a credential; keys naming *where* a credential is (a file, an env var, an id) are not one.
SECRET_KEY = re.compile(
    r"(^|[_.-]|(?<=[a-z])(?=[A-Z]))(?i:pass|password|passwd|secret|token|api[_-]?key|private[_-]?key|credentials?)$")
NOT_A_VALUE = re.compile(r"(?i)_(file|path|env|id|name|url|user|username|hostname)$")
# Values that refer to a credential kept elsewhere rather than being one.
REFERENCE = re.compile(r"^(\$\{?[A-Za-z_]|\{\{|/|file:|env:|vault:|op://|<|CHANGE|REPLACE)")


@dataclass(frozen=True)
class ConfigFinding:
    file: str
    path: str
    kind: str        # schema | type | reference | duplicate | credential
    message: str

    @property
    def layer(self) -> str:
        return layer_of(self.file, self.path)

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


def layer_of(file: str, path: str) -> str:
    """The layer whose static test reports a fact: firewall and vLLM fields by path, the rest by file."""
    low = path.lower()
    if "firewall" in low:
        return "firewall"
    if "vllm" in low:
        return "vllm"
    return LAYER_BY_FILE.get(file, "host")


def credentials(doc: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, value) of every credential written in clear: a secret-named key with a literal string, or a
    `{"name": "DB_PASS", "value": "..."}` pair (the shape of docker stack variables)."""
    if isinstance(doc, dict):
        name = doc.get("name")
        if isinstance(name, str) and _secret_key(name) and _literal(doc.get("value")):
            yield f"{path}.value", doc["value"]
        for key, value in doc.items():
            sub = f"{path}.{key}" if path != "$" else str(key)
            if isinstance(key, str) and _secret_key(key) and _literal(value):
                yield sub, value
            else:
                yield from credentials(value, sub)
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from credentials(value, f"{path}[{i}]")


def _secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not NOT_A_VALUE.search(key)


def _literal(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 4 and not REFERENCE.match(value)


def mask(doc: Any, secrets: set[str]) -> Any:
    """The document with every credential value replaced, so no model object can carry one."""
    if isinstance(doc, str):
        return "***" if doc in secrets else doc
    if isinstance(doc, dict):
        return {k: mask(v, secrets) for k, v in doc.items()}
    if isinstance(doc, list):
        return [mask(v, secrets) for v in doc]
    return doc
