"""Planners for services inside the containers: unit restarts, vLLM, nginx, the gateway config and
certificates, and the qdrant embeddings collection."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phoenix_model.deployment import DAEMON_UNIT, docker_services
from phoenix_model.services import SERVICE_TYPES, DockerService, unit_of
from phoenix_verify.remediation.context import (
    Command,
    Context,
    InvalidArgument,
    ManualStep,
    Plan,
    PlanFailure,
    require_running,
)

ORCHESTRATOR = "/usr/local/phoenix_hypervisor/bin/phoenix_orchestrator.sh"
QDRANT_PORT = SERVICE_TYPES["qdrant"].ports[0]   # qdrant's REST port, asked from inside its CT
VLLM_UNIT, NGINX_UNIT = unit_of("vllm"), unit_of("gateway")
READY_TIMEOUT_S = 120   # a vLLM engine can take minutes on real hardware; the lab's services listen within seconds
QDRANT_DISTANCES = ("Cosine", "Dot", "Euclid", "Manhattan")


def plan_service_restart(ctx: Context, ctid: str, unit: str) -> Plan:
    ct = ctx.container(ctid)
    if not re.fullmatch(r"[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]*", unit) or len(unit) > 256:
        raise InvalidArgument(f"invalid unit name {unit!r}")
    require_running(ctx, ct)
    commands: list[Command] = [("pct", "exec", str(ct.ctid), "--", "systemctl", "restart", unit)]
    ports = sorted({m.container for m in ct.ports} | ({ct.vllm.port} if ct.vllm else set()))
    if ports:   # `restart` returns once the process is forked; the fix is done when the service listens again
        commands.append(("pct", "exec", str(ct.ctid), "--", *wait_for_ports(ports)))
    return Plan(commands)


def wait_for_ports(ports: list[int], seconds: int = READY_TIMEOUT_S) -> tuple[str, ...]:
    """A read-only wait inside the CT until every port listens (exit 124 after `seconds`)."""
    listening = " && ".join(f"ss -tlnH 'sport = :{p}' | grep -q ." for p in ports)
    return ("timeout", str(seconds), "sh", "-c", f"until {listening}; do sleep 0.5; done")


def plan_docker_restart(ctx: Context, ctid: str) -> Plan:
    """A docker CT's service is down: start the daemon (and the containers) or restart the stopped containers; a
    crash-looping or missing container is re-created by re-running the application script."""
    ct = ctx.container(ctid)
    containers = docker_services(ct)
    if not containers:
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) runs no service in Docker")
    require_running(ctx, ct)
    inside = ("pct", "exec", str(ct.ctid), "--")
    commands: list[Command]
    if ctx.run(*inside, "systemctl", "is-active", DAEMON_UNIT).stdout.strip() != "active":
        commands = [(*inside, "systemctl", "start", DAEMON_UNIT), *((*inside, "docker", "start", svc.name) for svc in containers)]
    else:
        states: dict[DockerService, str] = {}
        for svc in containers:
            probe = ctx.run(*inside, "docker", "inspect", "-f", "{{.State.Status}}", svc.name)
            states[svc] = probe.stdout.strip() if probe.returncode == 0 else "missing"
        if all(state == "running" for state in states.values()):
            names = ", ".join(svc.name for svc in containers)
            verb = "containers {} are" if len(containers) > 1 else "container {} is"
            return Plan([], [f"ct{ct.ctid}: {verb.format(names)} running: nothing to do"])
        broken = [svc for svc, state in states.items() if state in ("missing", "restarting")]
        if broken:
            return _redeploy(ctx, ct, "app-script", f"so it runs {', '.join(svc.image for svc in broken)} again")
        commands = [(*inside, "docker", "start", svc.name) for svc, state in states.items() if state != "running"]
    ports = sorted({m.host for m in ct.ports})
    if ports:
        commands.append((*inside, *wait_for_ports(ports)))
    return Plan(commands)


def plan_vllm_restart(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    if ct.vllm is None:
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) is not a vLLM container")
    return plan_service_restart(ctx, ctid, VLLM_UNIT)


def plan_nginx_reload(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    require_running(ctx, ct)
    test = ctx.run("pct", "exec", str(ct.ctid), "--", "nginx", "-t")
    if test.returncode != 0:
        error = (test.stderr or test.stdout).strip().replace("\n", " | ")
        raise PlanFailure(f"ct{ct.ctid}: nginx -t failed, not reloading: {error}")
    return Plan(
        [("pct", "exec", str(ct.ctid), "--", "systemctl", "reload-or-restart", NGINX_UNIT)],
        [f"ct{ct.ctid}: nginx -t passed"],
    )


def lab_cli(ctx: Context) -> str | None:
    """`phoenix-lab` when the lab's state exists: from PATH, else the one installed next to this interpreter."""
    if not Path(ctx.environ.get("PHOENIX_LAB_HOME", "/var/lib/phoenix-lab")).is_dir():
        return None
    if shutil.which("phoenix-lab", path=ctx.environ.get("PATH")):
        return "phoenix-lab"
    beside = Path(sys.executable).parent / "phoenix-lab"
    return str(beside) if os.access(beside, os.X_OK) else None


def plan_gateway_config(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    if ct.role != "gateway":
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) is not the gateway container")
    return _redeploy(ctx, ct, "gateway-config", f"then run remediate/nginx-reload.sh {ct.ctid}")


def plan_app_script(ctx: Context, ctid: str) -> Plan:
    """Re-run the CT's application script: regenerates its unit/config from the inventory and restarts it."""
    ct = ctx.container(ctid)
    if ct.is_template:
        raise InvalidArgument(f"ct{ct.ctid} ({ct.name}) is a template: it has no application to redeploy")
    return _redeploy(ctx, ct, "app-script", f"then restart its service with remediate/service-restart.sh {ct.ctid} UNIT")


def _redeploy(ctx: Context, ct: Any, lab_command: str, manual_tail: str) -> Plan:
    """On Proxmox: the Phoenix state machine for this CT; in the lab: `phoenix-lab <lab_command> CTID`."""
    orchestrator = Path(ctx.environ.get("PHOENIX_ORCHESTRATOR", ORCHESTRATOR))
    if os.access(orchestrator, os.X_OK):
        return Plan([(str(orchestrator), str(ct.ctid))], [f"re-running the Phoenix state machine for ct{ct.ctid}"])
    lab = lab_cli(ctx)
    if lab is not None:
        if ctx.run(lab, lab_command, "--help").returncode != 0:
            raise ManualStep(f"this lab has no 'phoenix-lab {lab_command} CTID' command")
        return Plan([(lab, lab_command, str(ct.ctid))], [f"re-running the lab's application script for ct{ct.ctid}"])
    raise ManualStep(f"neither {orchestrator} nor the lab is here: redeploy the application of ct{ct.ctid} by hand, {manual_tail}")


def plan_gateway_cert(ctx: Context) -> Plan:
    gateway = ctx.inventory.gateway()
    volume = ctx.inventory.shared_volumes.get("ssl_certs")
    where = f" in {volume.host_path}" if volume is not None else ""
    ctid = gateway.ctid if gateway is not None else "<gateway CTID>"
    raise ManualStep(
        f"replace the expired or wrong certificate and key{where} with ones valid for the gateway hostnames "
        f"(Phoenix HEAD: managers/certificate-renewal-manager.sh --force), then run remediate/nginx-reload.sh {ctid}"
    )


@dataclass(frozen=True)
class Collection:
    name: str
    vector_size: int
    distance: str


def declared_collections(ctx: Context, ct: Any) -> list[Collection]:
    """The collections the qdrant CT must hold: its `qdrant_collections` field ([{name, vector_size, distance}],
    kept in `extra`: Phoenix declares none) or, by default, one collection named `embeddings` sized to the
    embedding model's declared dimension (`vllm_embedding_dim`)."""
    where = f"lxc_configs.{ct.ctid}.qdrant_collections"
    raw = ct.extra.get("qdrant_collections")
    if raw is None:
        raw = [{"name": "embeddings", "vector_size": embedding_dimension(ctx, where)}]
    if not isinstance(raw, list) or not raw:
        raise PlanFailure(f"inventory: {where}: expected a non-empty list of collections")
    collections = []
    for index, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        name, distance = item.get("name"), item.get("distance", "Cosine")
        size = item["vector_size"] if "vector_size" in item else embedding_dimension(ctx, f"{where}[{index}]")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise PlanFailure(f"inventory: {where}[{index}].name: {name!r} is not a collection name")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 65536:
            raise PlanFailure(f"inventory: {where}[{index}].vector_size: {size!r} is not a dimension")
        if distance not in QDRANT_DISTANCES:
            raise PlanFailure(f"inventory: {where}[{index}].distance: {distance!r} is not one of {QDRANT_DISTANCES}")
        collections.append(Collection(name, size, distance))
    return collections


def embedding_dimension(ctx: Context, where: str) -> int:
    """The declared dimension of the one embedding model (vllm_embedding_dim of the embedding vLLM CT)."""
    dims = {
        ct.vllm.embedding_dim
        for ct in ctx.inventory.services()
        if ct.vllm is not None and ct.vllm.model_type == "embedding" and ct.vllm.embedding_dim
    }
    if len(dims) != 1:
        raise PlanFailure(f"inventory: {where}: no vector size declared and no single vllm_embedding_dim to use")
    return dims.pop()


def existing_vector_size(ctx: Context, ctid: int, name: str) -> int | None:
    """The size of an existing collection (None if qdrant says it does not exist), asked from inside the CT."""
    url = f"http://127.0.0.1:{QDRANT_PORT}/collections/{name}"
    body = ctx.query("pct", "exec", str(ctid), "--", "curl", "-sS", "--max-time", "10", "-X", "GET", url)
    try:
        answer = json.loads(body)
        if "result" not in answer:
            return None
        vectors = answer["result"]["config"]["params"]["vectors"]
        return int(vectors["size"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise PlanFailure(f"ct{ctid}: unexpected answer from qdrant for {url}: {body[:200]!r}") from None


def plan_qdrant_collection(ctx: Context, ctid: str) -> Plan:
    ct = ctx.container(ctid)
    collections = declared_collections(ctx, ct)
    require_running(ctx, ct)
    plan = Plan()
    for collection in collections:
        size = existing_vector_size(ctx, ct.ctid, collection.name)
        if size == collection.vector_size:
            plan.notes.append(f"ct{ct.ctid}: collection {collection.name} exists with size {size}: nothing to do")
            continue
        if size is not None:
            raise ManualStep(
                f"ct{ct.ctid}: collection {collection.name} has vector size {size}, the inventory declares "
                f"{collection.vector_size}; recreating it deletes its points: delete it by hand, then re-run"
            )
        body = json.dumps({"vectors": {"size": collection.vector_size, "distance": collection.distance}})
        url = f"http://127.0.0.1:{QDRANT_PORT}/collections/{collection.name}"
        plan.commands.append(
            (
                "pct",
                "exec",
                str(ct.ctid),
                "--",
                "curl",
                "-sS",
                "--fail",
                "--max-time",
                "30",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
                url,
            )
        )
    return plan
