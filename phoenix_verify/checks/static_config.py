"""Checks over the declared state alone (no live system): they run before a deploy and on every run.

Each function returns findings as plain strings naming the object, so the tests stay one-line asserts.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import jsonschema

from phoenix_model.findings import layer_of
from phoenix_model.guests import STACKS_FILE, VM_FILE
from phoenix_model.inventory import HYPERVISOR_FILE, LXC_FILE, Container, Inventory
from phoenix_verify.gateway.contract import served_ports

SCHEMAS = {LXC_FILE: "phoenix_lxc_configs.schema.json", HYPERVISOR_FILE: "phoenix_hypervisor_config.schema.json",
           VM_FILE: "phoenix_vm_configs.schema.json", STACKS_FILE: "phoenix_stacks_config.schema.json"}
# Validators whose jsonschema message names only keys of the document (never a value, which may be a secret).
JSON_KINDS = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
KEY_ONLY_MESSAGES = ("required", "additionalProperties", "dependencies", "dependentRequired", "minProperties")
# vllm_args flag -> (VllmSpec attribute, how to compare)
SCALAR_ARGS = {
    "--max-model-len": ("max_model_len", int),
    "--gpu-memory-utilization": ("gpu_memory_utilization", float),
    "--tensor-parallel-size": ("tensor_parallel_size", int),
    "--quantization": ("quantization", str),
    "--served-model-name": ("served_model_name", str),
}


def schema_files(config_dir: Path) -> dict[str, Path]:
    """The Phoenix schemas that sit next to the configs (the orchestrator validates against them)."""
    return {doc: config_dir / schema for doc, schema in SCHEMAS.items()
            if (config_dir / schema).is_file() and (config_dir / doc).is_file()}


def schema_findings(config_dir: Path, document: str, layer: str | None = None) -> list[str]:
    """`file: json.path: problem` per schema violation (only those of `layer` when given). The problem is
    phrased from the schema, never from the offending value, so a misplaced credential cannot leak."""
    try:
        schema = json.loads((config_dir / SCHEMAS[document]).read_text())
        data = json.loads((config_dir / document).read_text())
    except (OSError, ValueError) as exc:
        return [f"{document}: $: cannot validate: {type(exc).__name__}"]
    out = []
    for e in sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in e.absolute_path) or "$"
        if layer is None or layer_of(document, path) == layer:
            out.append(f"{document}: {path}: {_schema_problem(e)}")
    return out


def declared_state_findings(inv: Inventory, document: str, layer: str) -> list[str]:
    """Everything wrong with one config file that belongs to `layer`: schema violations, then what the loader
    found (wrong types, undeclared guests, duplicate addresses, plaintext credentials)."""
    out = schema_findings(inv.source_dir, document, layer) if document in schema_files(inv.source_dir) else []
    return out + [str(f) for f in inv.findings if f.file == document and f.layer == layer]


def _schema_problem(error: jsonschema.ValidationError) -> str:
    if error.validator in KEY_ONLY_MESSAGES:
        return error.message[:200]
    if error.validator == "type":
        return f"expected {error.validator_value}, got {JSON_KINDS.get(type(error.instance), 'null')}"
    if error.validator == "enum":
        return f"not one of {', '.join(map(str, error.validator_value))[:160]}"
    return f"violates {error.validator} {str(error.validator_value)[:120]}"


def ports_without_rule(ct: Container) -> list[str]:
    """Declared ports that a firewalled CT never opens (with policy_in DROP they are unreachable), and for the
    gateway the ports it serves, declared or not. The CT's firewall filters on its own interface, so the port it
    must accept is the container side of HOST:CONTAINER."""
    if not ct.firewall.enabled:
        return []
    opened = declared_open_ports(ct)
    declared = {p.container for p in ct.ports}
    return [f"ct{ct.ctid}: port {p} is declared but no firewall rule accepts it" if p in declared
            else f"ct{ct.ctid}: the gateway serves port {p} but no firewall rule accepts it"
            for p in served_ports(ct) if p not in opened]


def declared_open_ports(ct: Container) -> set[int]:
    """The ports the CT's declared IN ACCEPT rules open."""
    return {int(p) for r in ct.firewall.rules if r.direction == "in" and r.action == "ACCEPT" and r.dport
            for p in _ports(r.dport)}


def _ports(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition(":")
        out += range(int(low), int(high or low) + 1)
    return out


def gpu_oversubscription(inv: Inventory) -> list[str]:
    """Running vLLM CTs sharing a GPU must not ask for more than the whole card (sum of utilisation > 1)."""
    load: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for ct in inv.services():
        if ct.vllm and ct.vllm.gpu_memory_utilization is not None and ct.start_at_boot:
            for gpu in ct.gpus:
                load[gpu].append((ct.ctid, ct.vllm.gpu_memory_utilization / max(1, len(ct.gpus))))
    return [
        f"GPU {gpu}: CTs {', '.join(str(c) for c, _ in users)} request {sum(u for _, u in users):.2f} of its memory"
        for gpu, users in sorted(load.items())
        if sum(u for _, u in users) > 1.0 + 1e-9
    ]


def duplicate_served_names(inv: Inventory) -> list[str]:
    seen: dict[str, list[int]] = defaultdict(list)
    for ct in inv.services():
        if ct.vllm:
            seen[ct.vllm.served_model_name].append(ct.ctid)
    return [f"served model name {name!r} is used by CTs {', '.join(map(str, cts))}" for name, cts in seen.items() if len(cts) > 1]


def vllm_arg_disagreements(ct: Container) -> list[str]:
    """Only vllm_args reach the command line; the scalar vllm_* fields must say the same."""
    if ct.vllm is None:
        return []
    args = [part for arg in ct.vllm.args for part in (arg.split("=", 1) if arg.startswith("--") else [arg])]
    findings = []
    for flag, (attr, kind) in SCALAR_ARGS.items():
        declared = getattr(ct.vllm, attr)
        if flag not in args:
            continue
        idx = args.index(flag)
        if idx + 1 >= len(args):
            findings.append(f"ct{ct.ctid}: vllm_args has {flag} without a value")
            continue
        try:
            value = kind(args[idx + 1])
        except ValueError:
            findings.append(f"ct{ct.ctid}: vllm_args {flag} {args[idx + 1]!r} is not a {kind.__name__}")
            continue
        if declared is not None and value != declared:
            findings.append(f"ct{ct.ctid}: vllm_args {flag} {args[idx + 1]} disagrees with vllm_{attr} = {declared}")
    if ct.vllm.trust_remote_code != ("--trust-remote-code" in args):
        findings.append(f"ct{ct.ctid}: vllm_trust_remote_code = {ct.vllm.trust_remote_code} but vllm_args "
                        f"{'lacks' if ct.vllm.trust_remote_code else 'has'} --trust-remote-code")
    return findings


def dependency_order(inv: Inventory, ct: Container) -> list[str]:
    """A dependency (a CT or, since VMs exist, a VM) must boot strictly earlier (smaller boot_order)."""
    findings = []
    for dep_id in ct.dependencies:
        dep = inv.containers.get(dep_id) or inv.vms.get(dep_id)
        if dep is None:
            findings.append(f"ct{ct.ctid}: depends on undeclared guest {dep_id}")
        elif not dep.start_at_boot and ct.start_at_boot:
            findings.append(f"ct{ct.ctid}: depends on ct{dep_id}, which does not start at boot")
        elif dep.boot_order >= ct.boot_order:
            findings.append(f"ct{ct.ctid}: boot_order {ct.boot_order} but its dependency ct{dep_id} boots at {dep.boot_order}")
    return findings
