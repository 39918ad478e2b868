"""Where the live Phoenix system is: `phoenix.toml`, or the embedded lab when nothing else is configured.

Secrets are never inline: the token secret is read lazily from an env var or a file, so the target can be
printed, logged and shown in reports without leaking it.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAB_HOME = Path(os.environ.get("PHOENIX_LAB_HOME", "/var/lib/phoenix-lab"))
LAB_NETNS = "phx-host"
LAB_NOT_RUNNING = "the lab is not running: run 'phoenix-lab up' (or 'make demo')"
KNOWN_KEYS = {
    "inventory": {"config_dir"},
    "proxmox": {"node", "api_url", "ca_bundle", "token_id", "token_secret_env", "token_secret_file", "timeout"},
    "access": {"pct"},
    "gateway": {"address", "hostnames", "ca_bundle", "cert_expiry_days", "hsts_min_age"},
    "vllm": {"chat_semantics"},
    "host": {"gpus"},
    "lab": {"netns", "home"},
}


class TargetError(Exception):
    """The target config cannot be used; the message is one line naming the file and key."""


@dataclass(frozen=True)
class Target:
    source: Path
    inventory_dir: Path
    node: str | None = None
    api_url: str | None = None
    api_ca_bundle: str | None = None
    token_id: str | None = None
    token_secret_env: str | None = None
    token_secret_file: str | None = None
    api_timeout: float = 10.0
    pct: str = "local"
    gateway_address: str | None = None
    gateway_hostnames: tuple[str, ...] = ()
    gateway_ca_bundle: str | None = None
    cert_expiry_days: int = 30
    hsts_min_age: int = 15768000
    chat_semantics: bool = True   # ask the chat models questions with known answers (off for a stand-in engine)
    gpus: bool = True             # false: the host has no GPUs by design (the lab); GPU checks skip saying so
    lab_netns: str | None = None
    lab_home: str | None = None

    @property
    def is_lab(self) -> bool:
        return self.lab_netns is not None

    @property
    def is_live(self) -> bool:
        """Whether the target describes a live system (the lab, or a host with an API, node or gateway)."""
        return self.is_lab or bool(self.api_url or self.node or self.gateway_address)

    @property
    def kind(self) -> str:
        if self.is_lab:
            return "phoenix-lab"
        return "Proxmox host" if self.is_live else "declared config only (static checks)"

    @property
    def has_api(self) -> bool:
        return bool(self.api_url and self.token_id and (self.token_secret_env or self.token_secret_file))

    def token_secret(self) -> str:
        """Read the API token secret now (never stored on the object, never printed)."""
        if self.token_secret_env:
            value = os.environ.get(self.token_secret_env)
            if not value:
                raise TargetError(f"{self.source}: proxmox.token_secret_env: ${self.token_secret_env} is not set")
            return value.strip()
        if self.token_secret_file:
            try:
                return Path(self.token_secret_file).read_text().strip()
            except OSError as exc:
                raise TargetError(f"{self.source}: proxmox.token_secret_file: cannot read {self.token_secret_file}: {exc.strerror}") from None
        raise TargetError(f"{self.source}: proxmox: no token_secret_env or token_secret_file")

    def facts(self) -> dict[str, str]:
        """Non-secret facts for report environment tables."""
        facts = {
            "Target": str(self.source),
            "Inventory": str(self.inventory_dir),
            "Kind": self.kind,
            "PVE node": self.node or "",
            "API URL": self.api_url or "(not configured: pct config / /etc/pve)",
            "API token id": self.token_id or "",
            "Container access": self.pct,
            "Gateway": self.gateway_address or "",
            "Gateway hostnames": ", ".join(self.gateway_hostnames),
        }
        return {k: v for k, v in facts.items() if v}


def lab_target_path() -> Path:
    return Path(os.environ.get("PHOENIX_LAB_HOME", str(LAB_HOME))) / "target.toml"


def lab_is_up(netns: str = LAB_NETNS) -> bool:
    return Path("/run/netns", netns).exists()


def select_target_path(explicit: str | os.PathLike[str] | None) -> Path:
    """--target, then $PHOENIX_TARGET, then ./phoenix.toml, then the lab's generated target."""
    for candidate in (explicit, os.environ.get("PHOENIX_TARGET")):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                raise TargetError(f"{path}: target config not found")
            return path
    local = Path("phoenix.toml")
    if local.is_file():
        return local
    lab = lab_target_path()
    if not lab.is_file() or not lab_is_up():
        raise TargetError(LAB_NOT_RUNNING)
    return lab


def load_target(explicit: str | os.PathLike[str] | None = None) -> Target:
    path = select_target_path(explicit)
    target = parse_target(path)
    if target.is_lab and not lab_is_up(target.lab_netns or LAB_NETNS):
        raise TargetError(LAB_NOT_RUNNING)
    return target


def parse_target(path: Path) -> Target:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise TargetError(f"{path}: cannot read: {exc.strerror}") from None
    for section, value in data.items():
        if section not in KNOWN_KEYS or not isinstance(value, dict):
            raise TargetError(f"{path}: [{section}]: unknown section")
        for key in value:
            if key == "token_secret":
                raise TargetError(f"{path}: {section}.token_secret: secrets must not be inline; use token_secret_env or token_secret_file")
            if key not in KNOWN_KEYS[section]:
                raise TargetError(f"{path}: {section}.{key}: unknown key")
    inv = data.get("inventory", {})
    if "config_dir" not in inv:
        raise TargetError(f"{path}: inventory.config_dir: is required")
    inventory_dir = Path(_str(path, inv, "inventory", "config_dir"))
    if not inventory_dir.is_absolute():
        inventory_dir = (path.parent / inventory_dir).resolve()
    pve, access, gw, vllm, lab, host = (data.get(s, {}) for s in ("proxmox", "access", "gateway", "vllm", "lab", "host"))
    if not isinstance(vllm.get("chat_semantics", True), bool):
        raise TargetError(f"{path}: vllm.chat_semantics: expected true or false")
    if not isinstance(host.get("gpus", True), bool):
        raise TargetError(f"{path}: host.gpus: expected true or false")
    pct = _str(path, access, "access", "pct", "local")
    if pct != "local" and not pct.startswith("ssh://"):
        raise TargetError(f"{path}: access.pct: {pct!r} is neither 'local' nor 'ssh://user@host'")
    hostnames = gw.get("hostnames", [])
    if not isinstance(hostnames, list) or not all(isinstance(h, str) for h in hostnames):
        raise TargetError(f"{path}: gateway.hostnames: expected a list of strings")
    return Target(
        source=path.resolve(),
        inventory_dir=inventory_dir,
        node=_str(path, pve, "proxmox", "node", None),
        api_url=_str(path, pve, "proxmox", "api_url", None),
        api_ca_bundle=_str(path, pve, "proxmox", "ca_bundle", None),
        token_id=_str(path, pve, "proxmox", "token_id", None),
        token_secret_env=_str(path, pve, "proxmox", "token_secret_env", None),
        token_secret_file=_str(path, pve, "proxmox", "token_secret_file", None),
        api_timeout=float(_num(path, pve, "proxmox", "timeout", 10)),
        pct=pct,
        gateway_address=_str(path, gw, "gateway", "address", None),
        gateway_hostnames=tuple(hostnames),
        gateway_ca_bundle=_str(path, gw, "gateway", "ca_bundle", None),
        cert_expiry_days=int(_num(path, gw, "gateway", "cert_expiry_days", 30)),
        hsts_min_age=int(_num(path, gw, "gateway", "hsts_min_age", 15768000)),
        chat_semantics=vllm.get("chat_semantics", True),
        gpus=host.get("gpus", True),
        lab_netns=_str(path, lab, "lab", "netns", None) if lab else None,
        lab_home=_str(path, lab, "lab", "home", None) if lab else None,
    )


def _str(path: Path, table: dict[str, Any], section: str, key: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise TargetError(f"{path}: {section}.{key}: is required")
        return default
    if not isinstance(table[key], str):
        raise TargetError(f"{path}: {section}.{key}: expected a string")
    return table[key]


def _num(path: Path, table: dict[str, Any], section: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TargetError(f"{path}: {section}.{key}: expected a number")
    return value
