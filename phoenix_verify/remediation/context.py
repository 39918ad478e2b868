"""Shared pieces of the remediation planners: failures with exit codes, the plan, access to the inventory
and to the live system (read-only), and the Proxmox formats the planners read."""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from phoenix_model.pve_formats import CtConfig, parse_ct_config
from phoenix_verify import locations

Command = tuple[str, ...]
QUERY_TIMEOUT_S = 60


class PlanFailure(Exception):
    """A one-line reason to stop; `code` is the script's exit status."""

    code = 1


class InvalidArgument(PlanFailure):
    code = 2


class ManualStep(PlanFailure):
    code = 3

    def __str__(self) -> str:
        return f"not automatic: {super().__str__()}"


@dataclass
class Plan:
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What makes it disruptive (deletes data, stops/reboots a guest, changes a datacenter-wide policy): such a plan
    # runs only with --apply --allow-disruptive, and says this first.
    disruptive: list[str] = field(default_factory=list)

    def extend(self, other: Plan) -> None:
        self.commands += other.commands
        self.notes += other.notes
        self.disruptive += other.disruptive


@dataclass
class Context:
    """Access to the inventory and to the live system (read-only queries with timeouts)."""

    environ: dict[str, str]

    @cached_property
    def inventory(self) -> Any:
        try:
            from phoenix_model.inventory import InventoryError, load_inventory
        except ImportError as exc:
            raise PlanFailure(f"cannot load the inventory code: {exc}") from None
        try:
            return load_inventory(self._inventory_dir())
        except InventoryError as exc:
            raise PlanFailure(f"inventory: {exc}") from None

    def _inventory_dir(self) -> Path:
        configured = self.environ.get("PHOENIX_INVENTORY")
        if configured:
            return Path(configured)
        from phoenix_verify.target import TargetError, load_target

        try:
            return Path(load_target(None).inventory_dir)
        except TargetError as exc:
            raise PlanFailure(f"no inventory: set PHOENIX_INVENTORY or a target ({exc})") from None

    def container(self, ctid_arg: str) -> Any:
        if not re.fullmatch(r"[1-9][0-9]{2,8}", ctid_arg):
            raise InvalidArgument(f"invalid CTID {ctid_arg!r}: expected digits 100..999999999")
        ctid = int(ctid_arg)
        if ctid not in self.inventory.containers:
            raise InvalidArgument(f"unknown CTID {ctid}: not in the inventory ({self.inventory.source_dir})")
        return self.inventory.containers[ctid]

    @property
    def pve_dir(self) -> Path:
        """/etc/pve on Proxmox; the lab keeps it under $PHOENIX_LAB_HOME/pve (set inside `phoenix-lab run`)."""
        if self.environ.get("PHOENIX_PVE_DIR"):
            return Path(self.environ["PHOENIX_PVE_DIR"])
        if self.environ.get("PHOENIX_LAB_HOME"):
            return Path(self.environ["PHOENIX_LAB_HOME"]) / "pve"
        return Path("/etc/pve")

    @property
    def etc_dir(self) -> Path:
        return Path(self.environ.get("PHOENIX_ETC_DIR", "/etc"))

    @property
    def remediate_dir(self) -> Path:
        return Path(self.environ.get("PHOENIX_REMEDIATE_DIR", locations.remediate_dir()))

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False
            )
        except FileNotFoundError:
            raise PlanFailure(f"{argv[0]}: command not found (needed to read the live state)") from None
        except subprocess.TimeoutExpired:
            raise PlanFailure(f"{shlex.join(argv)}: no answer within {QUERY_TIMEOUT_S}s") from None

    def query(self, *argv: str) -> str:
        done = self.run(*argv)
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise PlanFailure(f"{shlex.join(argv)} failed (exit {done.returncode}): {reason[0] if reason else ''}")
        return done.stdout

    def pvesh_get(self, path: str) -> Any:
        text = self.query("pvesh", "get", path, "--output-format", "json")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise PlanFailure(f"pvesh get {path}: output is not JSON") from None

    @cached_property
    def node(self) -> str:
        """PHOENIX_NODE, else the only node pvesh knows (the lab's `pve`), else the host name (a PVE node)."""
        if self.environ.get("PHOENIX_NODE"):
            return self.environ["PHOENIX_NODE"]
        nodes = self.pvesh_get("/nodes")
        if isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict) and "node" in nodes[0]:
            return str(nodes[0]["node"])
        return socket.gethostname()


def read_ct_config(ctx: Context, ctid: int) -> CtConfig:
    """`pct config <ctid>` (the current section), parsed by the one reader of PVE config text."""
    return parse_ct_config(ctx.query("pct", "config", str(ctid)))


def conf_value(conf: CtConfig, key: str, default: str = "") -> str:
    """A current-section value as `pct config` prints it (the parser types 0/1 and sizes)."""
    value = conf.current.get(key)
    return default if value is None else str(value)


def raw_lines(conf: CtConfig) -> tuple[str, ...]:
    """The raw `lxc.*` lines in file order, as `key: value`."""
    return tuple(f"{key}: {value}" for key, value in conf.lxc)


def ct_status(ctx: Context, ctid: int) -> str:
    out = ctx.query("pct", "status", str(ctid)).strip()
    return out.partition(":")[2].strip() or "unknown"


def require_running(ctx: Context, ct: Any) -> None:
    if ct_status(ctx, ct.ctid) != "running":
        raise PlanFailure(f"ct{ct.ctid} is not running: start it first with remediate/ct-start.sh {ct.ctid}")


def with_stop_start(ctx: Context, ct: Any, edits: list[Command], why: str) -> Plan:
    """Raw lxc.* changes only apply at container start: wrap them in stop/start when the CT runs."""
    if ct_status(ctx, ct.ctid) != "running":
        return Plan(edits, [f"{why}; ct{ct.ctid} is stopped, the change applies at its next start"])
    return Plan(
        [("pct", "stop", str(ct.ctid)), *edits, ("pct", "start", str(ct.ctid))],
        [f"{why}: this needs a stop/start of ct{ct.ctid}"],
        disruptive=[f"stops and starts the running ct{ct.ctid}"],
    )


def conf_edit(ctx: Context, ctid: int, *options: str) -> Command:
    conf = ctx.pve_dir / "lxc" / f"{ctid}.conf"
    return ("python3", str(ctx.remediate_dir / "pve-conf-edit.py"), str(conf), *options)
