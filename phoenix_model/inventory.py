"""Phoenix declared state -> typed, immutable expectations.

Reads `phoenix_hypervisor_config.json` and `phoenix_lxc_configs.json` exactly as the Phoenix orchestrator
does (same defaults, same `clone_from_ctid` feature inheritance) so every check can be generated from the
declared state instead of being written by hand. Later generations add `phoenix_vm_configs.json`,
`phoenix_stacks_config.json` and `certificate-manifest.json` (phoenix_model.guests).

Only unreadable input raises `InventoryError`; every other problem (wrong type, undeclared reference,
duplicate address, plaintext credential) becomes a `ConfigFinding` in `Inventory.findings`.
"""
from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from phoenix_model import services
from phoenix_model.findings import ConfigFinding, credentials, mask
from phoenix_model.guests import (
    CERT_FILE,
    STACKS_FILE,
    VM_FILE,
    Certificate,
    StackService,
    VirtualMachine,
    certificates,
    stack_services,
    virtual_machines,
)

T = TypeVar("T")

HYPERVISOR_FILE = "phoenix_hypervisor_config.json"
LXC_FILE = "phoenix_lxc_configs.json"
DEFAULT_SHARED_OWNER = (100000, 100000)  # container root under the default unprivileged idmap
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")

KNOWN_CT_FIELDS = frozenset(
    {
        "name", "memory_mb", "swap_mb", "cores", "template", "storage_pool", "storage_size_gb",
        "network_config", "mac_address", "gpu_assignment", "unprivileged", "portainer_role",
        "clone_from_ctid", "features", "application_script", "ports", "vllm_model", "vllm_quantization",
        "vllm_max_model_len", "vllm_gpu_memory_utilization", "vllm_tensor_parallel_size",
        "vllm_served_model_name", "vllm_model_type", "vllm_port", "vllm_trust_remote_code",
        "vllm_parameters", "vllm_args", "firewall", "dependencies", "start_at_boot", "boot_order",
        "boot_delay", "integration_tests", "run_integration_tests", "template_snapshot_name", "pct_options",
        "volumes", "health_check", "vllm_embedding_dim", "vllm_engine_config",
    }
)
# Known keys of the objects nested in a CT entry; anything else there is a later Phoenix addition
# (e.g. `network_config.nameservers`) and lands in `Container.extra` under its dotted path.
KNOWN_NESTED_FIELDS = {
    "network_config": frozenset({"name", "bridge", "ip", "gw"}),
    "firewall": frozenset({"enabled", "rules"}),
    "firewall.rules": frozenset({"type", "action", "source", "dest", "proto", "port", "dport", "comment"}),
    "volumes": frozenset({"name", "pool", "size_gb", "mount_point"}),
}
KNOWN_LXC_TOP = frozenset({"$schema", "nvidia_driver_version", "nvidia_repo_url", "nvidia_runfile_url", "lxc_configs"})
KNOWN_HYPERVISOR_TOP = frozenset(
    {
        "version", "author", "users", "core_paths", "timezone", "network", "docker", "nfs", "samba", "zfs",
        "proxmox_storage_ids", "mount_point_base", "proxmox_defaults", "vm_defaults", "vms",
        "nvidia_driver", "behavior", "shared_volumes", "firewall",
    }
)


class InventoryError(Exception):
    """One malformed fact in the declared state; the message names the file and the JSON path."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        super().__init__(f"{file}: {path}: {problem}")
        self.file, self.path, self.problem = file, path, problem


@dataclass(frozen=True)
class PortMap:
    host: int
    container: int


@dataclass(frozen=True)
class FirewallRule:
    direction: str
    action: str
    source: str | None = None
    dest: str | None = None
    proto: str | None = None
    dport: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Firewall:
    enabled: bool
    rules: tuple[FirewallRule, ...] = ()


@dataclass(frozen=True)
class Network:
    name: str
    bridge: str
    ip: IPv4Interface
    gateway: IPv4Address
    mac: str


@dataclass(frozen=True)
class DedicatedVolume:
    name: str
    pool: str
    size_gb: int
    mount_point: str


@dataclass(frozen=True)
class SharedMount:
    volume: str
    host_path: str
    mount_path: str
    owner_uid: int
    owner_gid: int


@dataclass(frozen=True)
class SharedVolume:
    name: str
    host_path: str
    mounts: Mapping[int, str]
    owner_uid: int
    owner_gid: int


@dataclass(frozen=True)
class VllmSpec:
    model: str
    served_model_name: str
    model_type: str
    max_model_len: int | None
    port: int
    args: tuple[str, ...]
    gpu_memory_utilization: float | None
    tensor_parallel_size: int | None
    quantization: str | None
    trust_remote_code: bool
    embedding_dim: int | None
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class Container:
    ctid: int
    name: str
    role: str
    is_template: bool
    template_snapshot: str | None
    clone_from: int | None
    network: Network
    unprivileged: bool
    features: tuple[str, ...]
    own_features: tuple[str, ...]
    cores: int
    memory_mb: int
    swap_mb: int | None
    storage_pool: str
    storage_size_gb: int
    start_at_boot: bool
    boot_order: int
    boot_delay: int
    ports: tuple[PortMap, ...]
    firewall: Firewall
    dedicated_volumes: tuple[DedicatedVolume, ...]
    shared_mounts: tuple[SharedMount, ...]
    gpus: tuple[int, ...]
    vllm: VllmSpec | None
    dependencies: tuple[int, ...]
    pct_options: tuple[str, ...]
    portainer_role: str
    application_script: str | None
    health_check: Mapping[str, Any] | None
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown CT keys; nested ones by dotted path

    @property
    def slug(self) -> str:
        """Readable test-id fragment, e.g. `ct951-vllm-granite-embed-r2`."""
        return f"ct{self.ctid}-{self.name.lower()}"


@dataclass(frozen=True)
class HostSpec:
    hostname: str
    bridge: str
    address: IPv4Interface
    gateway: IPv4Address
    dns: tuple[str, ...]
    firewall_enabled: bool
    policy_in: str
    policy_out: str
    admin_user: str
    admin_sudo: bool
    timezone: str
    nvidia_driver_version: str | None
    mount_point_base: str
    portainer_ip: IPv4Address | None
    portainer_port: int | None


@dataclass(frozen=True)
class Inventory:
    source_dir: Path
    host: HostSpec
    containers: Mapping[int, Container]
    shared_volumes: Mapping[str, SharedVolume]
    warnings: tuple[str, ...]
    vms: Mapping[int, VirtualMachine] = field(default_factory=dict)
    stacks: Mapping[str, tuple[StackService, ...]] = field(default_factory=dict)
    certificates: tuple[Certificate, ...] = ()
    findings: tuple[ConfigFinding, ...] = ()
    documents: tuple[str, ...] = ()      # the config files read, for per-file static tests
    secret_values: frozenset[str] = field(default=frozenset(), repr=False, compare=False)  # for redaction only

    def container(self, ctid: int | str) -> Container:
        try:
            return self.containers[int(ctid)]
        except (KeyError, ValueError):
            raise InventoryError(LXC_FILE, f"lxc_configs.{ctid}", f"unknown CTID {ctid}") from None

    def services(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers.values() if not c.is_template)

    def gateway(self) -> Container | None:
        return next((c for c in self.containers.values() if c.role == "gateway"), None)

    def by_role(self, role: str) -> tuple[Container, ...]:
        return tuple(c for c in self.containers.values() if c.role == role)


class _Reader:
    """Typed access to one JSON document that reports failures as `file: json.path: problem`."""

    def __init__(self, file: str, findings: list[ConfigFinding] | None = None) -> None:
        self.file = file
        self.findings = findings if findings is not None else []

    def fail(self, path: str, problem: str) -> InventoryError:
        return InventoryError(self.file, path, problem)

    def finding(self, path: str, kind: str, problem: str) -> None:
        self.findings.append(ConfigFinding(self.file, path, kind, problem))

    def soft(self, default: T, read: Callable[..., T], *args: Any) -> T:
        """`read(*args)`, or `default` with its InventoryError recorded as a finding."""
        try:
            return read(*args)
        except InventoryError as exc:
            self.finding(exc.path, "type", exc.problem)
            return default

    def soft_obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if isinstance(value, dict):
            return value
        self.finding(path, "type", f"expected an object, got {_kind(value)}")
        return {}

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_kind(value)}")
        return value

    def get(self, data: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in data or data[key] is None:
            if default is ...:
                raise self.fail(f"{path}.{key}", "is required")
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            problem = f"expected {_names(kinds)}, got {_kind(value)}"
            if default is ...:
                raise self.fail(f"{path}.{key}", problem)
            self.finding(f"{path}.{key}", "type", f"{problem}; read as {default!r}")
            return default
        return value

    def ctid(self, value: Any, path: str) -> int:
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not text.isdigit() or not 100 <= int(text) <= 999_999_999:
            raise self.fail(path, f"{value!r} is not a CTID (an integer 100..999999999)")
        return int(text)

    def interface(self, value: Any, path: str) -> IPv4Interface:
        if not isinstance(value, str) or "/" not in value:
            raise self.fail(path, f"{value!r} is not an IPv4 interface")
        try:
            return IPv4Interface(value)
        except ValueError:
            raise self.fail(path, f"{value!r} is not an IPv4 interface") from None

    def address(self, value: Any, path: str) -> IPv4Address:
        if not isinstance(value, str):
            raise self.fail(path, f"{value!r} is not an IPv4 address")
        try:
            return IPv4Address(value)
        except (ValueError, TypeError):
            raise self.fail(path, f"{value!r} is not an IPv4 address") from None


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(_kind(k()) if k is not type(None) else "null" for k in kinds)


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryError(path.name, "$", f"file not found in {path.parent}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(path.name, "$", f"cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(path.name, "$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def load_inventory(config_dir: Path | str) -> Inventory:
    """Load and resolve a Phoenix config directory of any generation.

    Raises InventoryError only for unreadable input (missing or invalid JSON, a host without its network);
    everything else is a finding and the rest of the model still loads.
    """
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise InventoryError(str(config_dir), "$", "is not a directory with Phoenix config files")
    docs = {HYPERVISOR_FILE: _load_json(config_dir / HYPERVISOR_FILE), LXC_FILE: _load_json(config_dir / LXC_FILE)}
    docs |= {f: _load_json(config_dir / f) for f in (VM_FILE, STACKS_FILE, CERT_FILE) if (config_dir / f).is_file()}
    found: list[ConfigFinding] = []
    secrets: set[str] = set()
    for file, doc in docs.items():
        for path, value in credentials(doc):
            found.append(ConfigFinding(file, path, "credential",
                                       "plaintext credential (value not shown): reference a secret store instead"))
            secrets.add(value)
    docs = {file: mask(doc, secrets) for file, doc in docs.items()}
    warnings: list[str] = []
    hyper, lxc = _Reader(HYPERVISOR_FILE, found), _Reader(LXC_FILE, found)
    hyper_doc = hyper.obj(docs[HYPERVISOR_FILE], "$")
    lxc_doc = lxc.obj(docs[LXC_FILE], "$")
    _warn_unknown(warnings, HYPERVISOR_FILE, "", hyper_doc, KNOWN_HYPERVISOR_TOP)
    _warn_unknown(warnings, LXC_FILE, "", lxc_doc, KNOWN_LXC_TOP)
    host = _host_spec(hyper, hyper_doc, lxc, lxc_doc)
    raw_cts = lxc.soft_obj(lxc_doc.get("lxc_configs", {}), "lxc_configs")
    ctids = {ctid: key for key in raw_cts if (ctid := lxc.soft(None, lxc.ctid, key, f"lxc_configs.{key}"))}
    shared = _shared_volumes(hyper, hyper_doc, set(ctids))
    containers: dict[int, Container] = {}
    for ctid in sorted(ctids):
        key = ctids[ctid]
        path = f"lxc_configs.{key}"
        ct = lxc.soft(None, _container, lxc, ctid, raw_cts[key], path, shared, warnings)
        if ct is None:
            lxc.finding(path, "schema", f"CT {ctid} cannot be modelled (see the finding above); it is left out")
        else:
            containers[ctid] = ct
    containers = _resolve_features(lxc, containers)
    stacks_r, vm_r, cert_r = _Reader(STACKS_FILE, found), _Reader(VM_FILE, found), _Reader(CERT_FILE, found)
    stacks = stack_services(stacks_r, stacks_r.soft_obj(docs.get(STACKS_FILE, {}), "$"))
    vms = virtual_machines(vm_r, vm_r.soft_obj(docs.get(VM_FILE, {}), "$"), stacks)
    certs = certificates(cert_r, docs[CERT_FILE]) if CERT_FILE in docs else ()
    _check_unique(lxc, vm_r, containers, vms)
    _check_references(lxc, vm_r, containers, vms)
    return Inventory(
        source_dir=config_dir.resolve(),
        host=host,
        containers=MappingProxyType(containers),
        shared_volumes=MappingProxyType(shared),
        warnings=tuple(warnings),
        vms=MappingProxyType(vms),
        stacks=MappingProxyType(stacks),
        certificates=certs,
        findings=tuple(dict.fromkeys(found)),
        documents=tuple(docs),
        secret_values=frozenset(secrets),
    )


def _warn_unknown(warnings: list[str], file: str, path: str, data: Mapping[str, Any], known: frozenset[str]) -> None:
    for key in data:
        if key not in known:
            where = f"{path}.{key}" if path else key
            warnings.append(f"{file}: {where}: unknown field kept as-is")


def _host_spec(hyper: _Reader, doc: Mapping[str, Any], lxc: _Reader, lxc_doc: Mapping[str, Any]) -> HostSpec:
    network = hyper.obj(hyper.get(doc, "network", "$", dict, {}), "network")
    iface = hyper.obj(hyper.get(network, "interfaces", "network", dict), "network.interfaces")
    users = hyper.obj(hyper.get(doc, "users", "$", dict, {}), "users")
    shared = hyper.obj(hyper.get(doc, "shared_volumes", "$", dict, {}), "shared_volumes")
    # The orchestrator reads the datacenter policy from shared_volumes.firewall; the schema puts it top-level.
    if "firewall" in doc and "firewall" not in shared:
        fw_where, fw = "firewall", hyper.obj(hyper.get(doc, "firewall", "$", dict, {}), "firewall")
    else:
        fw_where = "shared_volumes.firewall"
        fw = hyper.obj(hyper.get(shared, "firewall", "shared_volumes", dict, {}), fw_where)
    nvidia = hyper.obj(hyper.get(doc, "nvidia_driver", "$", dict, {}), "nvidia_driver")
    dns_raw = hyper.get(iface, "dns_nameservers", "network.interfaces", (str, list), "")  # a list since 0385ea2
    dns = " ".join(_str_list(hyper, dns_raw, "network.interfaces.dns_nameservers")) if isinstance(dns_raw, list) else dns_raw
    portainer_ip = network.get("portainer_server_ip")
    return HostSpec(
        hostname=hyper.get(network, "hostname", "network", str, "phoenix"),
        bridge=hyper.get(iface, "name", "network.interfaces", str),
        address=hyper.interface(hyper.get(iface, "address", "network.interfaces", str), "network.interfaces.address"),
        gateway=hyper.address(hyper.get(iface, "gateway", "network.interfaces", str), "network.interfaces.gateway"),
        dns=tuple(d for d in re.split(r"[\s,]+", dns) if d),
        firewall_enabled=hyper.get(fw, "enabled", fw_where, bool, False),
        policy_in=hyper.get(fw, "default_input_policy", fw_where, str, "DROP").upper(),
        policy_out=hyper.get(fw, "default_output_policy", fw_where, str, "ACCEPT").upper(),
        admin_user=hyper.get(users, "username", "users", str, "phoenix_admin"),
        admin_sudo=hyper.get(users, "sudo_access", "users", bool, False),
        timezone=hyper.get(doc, "timezone", "$", str, "UTC"),
        nvidia_driver_version=hyper.get(nvidia, "version", "nvidia_driver", str, None)
        or lxc.get(lxc_doc, "nvidia_driver_version", "$", str, None),
        mount_point_base=hyper.get(doc, "mount_point_base", "$", str, "/mnt/pve"),
        portainer_ip=hyper.address(portainer_ip, "network.portainer_server_ip") if portainer_ip is not None else None,
        portainer_port=hyper.get(network, "portainer_server_port", "network", int, None),
    )


def _owner(r: _Reader, value: Any, path: str) -> tuple[int, int]:
    """`owner` (strategy §6.1): "uid:gid", a single uid, or an integer; default: container root (100000)."""
    if value is None:
        return DEFAULT_SHARED_OWNER
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    match = re.fullmatch(r"(\d+)(?::(\d+))?", text)
    if not match:
        raise r.fail(path, f"{value!r} is not an owner (uid or uid:gid)")
    uid = int(match.group(1))
    return uid, int(match.group(2) or uid)


def _shared_volumes(r: _Reader, doc: Mapping[str, Any], ctids: set[int]) -> dict[str, SharedVolume]:
    volumes: dict[str, SharedVolume] = {}
    shared = r.obj(r.get(doc, "shared_volumes", "$", dict, {}), "shared_volumes")
    for name, raw in shared.items():
        path = f"shared_volumes.{name}"
        if name == "firewall":  # Phoenix keeps the datacenter firewall policy here (misplaced, but real)
            continue
        vol = r.obj(raw, path)
        host_path = r.get(vol, "host_path", path, str)
        mounts_raw = r.obj(r.get(vol, "mounts", path, dict, {}), f"{path}.mounts")
        mounts: dict[int, str] = {}
        for key, mount_path in mounts_raw.items():
            mpath = f"{path}.mounts.{key}"
            ctid = r.soft(0, r.ctid, key, mpath)
            if not ctid:
                continue
            if ctid not in ctids:
                r.finding(mpath, "reference", f"CTID {ctid} is not declared in {LXC_FILE}")
            elif not isinstance(mount_path, str) or not mount_path.startswith("/"):
                r.finding(mpath, "type", "not an absolute path")
            else:
                mounts[ctid] = mount_path
        uid, gid = _owner(r, vol.get("owner"), f"{path}.owner")
        volumes[name] = SharedVolume(name, host_path, MappingProxyType(mounts), uid, gid)
    return volumes


def _container(
    r: _Reader, ctid: int, raw_any: Any, path: str, shared: Mapping[str, SharedVolume], warnings: list[str]
) -> Container:
    raw = r.obj(raw_any, path)
    _warn_unknown(warnings, LXC_FILE, path, raw, KNOWN_CT_FIELDS)
    nested_extra = _nested_unknown(raw)
    for where in nested_extra:
        warnings.append(f"{LXC_FILE}: {path}.{where}: unknown field kept as-is")
    name = r.get(raw, "name", path, str)
    if not name:
        raise r.fail(f"{path}.name", "must not be empty")
    net = _network(r, raw, path)
    snapshot = r.get(raw, "template_snapshot_name", path, str, None)
    start = r.get(raw, "start_at_boot", path, bool, False)
    clone = raw.get("clone_from_ctid")
    own_features = tuple(_str_list(r, r.get(raw, "features", path, list, []), f"{path}.features"))
    vllm = _vllm(r, raw, path)
    shared_mounts = tuple(
        SharedMount(v.name, v.host_path, v.mounts[ctid], v.owner_uid, v.owner_gid)
        for v in shared.values()
        if ctid in v.mounts
    )
    is_template = snapshot is not None and not start
    extra = {k: v for k, v in raw.items() if k not in KNOWN_CT_FIELDS} | nested_extra
    ct = Container(
        ctid=ctid,
        name=name,
        role="",
        is_template=is_template,
        template_snapshot=snapshot,
        clone_from=r.ctid(clone, f"{path}.clone_from_ctid") if clone is not None else None,
        network=net,
        unprivileged=r.get(raw, "unprivileged", path, bool, False),
        features=own_features,
        own_features=own_features,
        cores=_positive(r, r.get(raw, "cores", path, int, 1), f"{path}.cores"),
        memory_mb=_positive(r, r.get(raw, "memory_mb", path, int, 512), f"{path}.memory_mb"),
        swap_mb=r.get(raw, "swap_mb", path, int, None),
        storage_pool=r.get(raw, "storage_pool", path, str, "local-lvm"),
        storage_size_gb=_positive(r, r.get(raw, "storage_size_gb", path, int, 8), f"{path}.storage_size_gb"),
        start_at_boot=start,
        boot_order=r.get(raw, "boot_order", path, int, 0),
        boot_delay=r.get(raw, "boot_delay", path, int, 0),
        ports=tuple(_port(r, p, f"{path}.ports[{i}]") for i, p in enumerate(r.get(raw, "ports", path, list, []))),
        firewall=_firewall(r, raw, path),
        dedicated_volumes=tuple(
            _volume(r, v, f"{path}.volumes[{i}]") for i, v in enumerate(r.get(raw, "volumes", path, list, []))
        ),
        shared_mounts=shared_mounts,
        gpus=_gpus(r, r.get(raw, "gpu_assignment", path, str, "none"), f"{path}.gpu_assignment"),
        vllm=vllm,
        dependencies=tuple(
            r.ctid(d, f"{path}.dependencies[{i}]") for i, d in enumerate(r.get(raw, "dependencies", path, list, []))
        ),
        pct_options=tuple(_str_list(r, r.get(raw, "pct_options", path, list, []), f"{path}.pct_options")),
        portainer_role=r.get(raw, "portainer_role", path, str, "none"),
        application_script=r.get(raw, "application_script", path, str, None),
        health_check=MappingProxyType(dict(r.get(raw, "health_check", path, dict, {}))) or None,
        extra=MappingProxyType(extra),
    )
    return _with_role(ct)


def _nested_unknown(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Unknown keys inside network_config, firewall (+ rules) and volumes, keyed by their dotted path.

    Malformed shapes are left to the typed readers, which report them with their JSON path.
    """
    found: dict[str, Any] = {}
    objects: list[tuple[str, str, Any]] = [
        ("network_config", "network_config", raw.get("network_config")),
        ("firewall", "firewall", raw.get("firewall")),
    ]
    fw = raw.get("firewall")
    if isinstance(fw, dict) and isinstance(fw.get("rules"), list):
        objects += [(f"firewall.rules[{i}]", "firewall.rules", rule) for i, rule in enumerate(fw["rules"])]
    if isinstance(raw.get("volumes"), list):
        objects += [(f"volumes[{i}]", "volumes", vol) for i, vol in enumerate(raw["volumes"])]
    for where, kind, obj in objects:
        if isinstance(obj, dict):
            found |= {f"{where}.{k}": v for k, v in obj.items() if k not in KNOWN_NESTED_FIELDS[kind]}
    return found


def _with_role(ct: Container) -> Container:
    """Role from the declared facts: vllm when `vllm_model_type` is set; template with a `template_snapshot_name`
    and not started at boot; else the first service type of phoenix_model/services.py whose keyword is in the
    name or application script (or whose `portainer_role` it declares); otherwise "other"."""
    from dataclasses import replace

    if ct.vllm is not None:
        role = "vllm"
    elif ct.is_template:
        role = "template"
    else:
        role = services.detect(ct.name, ct.application_script, ct.portainer_role)
    return replace(ct, role=role)


def _positive(r: _Reader, value: int, path: str) -> int:
    if value <= 0:
        raise r.fail(path, f"{value} must be positive")
    return value


def _str_list(r: _Reader, values: list[Any], path: str) -> list[str]:
    """The strings of a list; other items are findings and left out."""
    out = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            out.append(value)
        else:
            r.finding(f"{path}[{i}]", "type", f"expected string, got {_kind(value)}")
    return out


def _network(r: _Reader, raw: Mapping[str, Any], path: str) -> Network:
    npath = f"{path}.network_config"
    net = r.obj(r.get(raw, "network_config", path, dict), npath)
    mac = r.get(raw, "mac_address", path, str)
    if not MAC_RE.match(mac):
        raise r.fail(f"{path}.mac_address", f"{mac!r} is not a MAC address")
    return Network(
        name=r.get(net, "name", npath, str, "eth0"),
        bridge=r.get(net, "bridge", npath, str, "vmbr0"),
        ip=r.interface(r.get(net, "ip", npath, str), f"{npath}.ip"),
        gateway=r.address(r.get(net, "gw", npath, str), f"{npath}.gw"),
        mac=mac.upper(),
    )


def _port(r: _Reader, value: Any, path: str) -> PortMap:
    match = re.fullmatch(r"(\d{1,5})(?::(\d{1,5}))?", value if isinstance(value, str) else str(value))
    if isinstance(value, bool) or not match or not all(0 < int(p) < 65536 for p in match.groups() if p):
        raise r.fail(path, f"{value!r} is not a port mapping HOST:CONTAINER")
    host = int(match.group(1))
    return PortMap(host, int(match.group(2) or host))


def _firewall(r: _Reader, raw: Mapping[str, Any], path: str) -> Firewall:
    fpath = f"{path}.firewall"
    fw = r.obj(r.get(raw, "firewall", path, dict, {}), fpath)
    rules = []
    for i, rule_raw in enumerate(r.get(fw, "rules", fpath, list, [])):
        rpath = f"{fpath}.rules[{i}]"
        rule = r.obj(rule_raw, rpath)
        direction = r.get(rule, "type", rpath, str, "in").lower()
        if direction not in ("in", "out", "group"):
            raise r.fail(f"{rpath}.type", f"{direction!r} is not in/out/group")
        action = r.get(rule, "action", rpath, str).upper()
        port = rule.get("port", rule.get("dport"))
        if port is not None and not re.fullmatch(r"\d{1,5}([:,]\d{1,5})*", str(port)):
            raise r.fail(f"{rpath}.port", f"{port!r} is not a port or port range")
        for key in ("source", "dest"):
            if rule.get(key) is not None:
                _cidr(r, rule[key], f"{rpath}.{key}")
        rules.append(
            FirewallRule(
                direction=direction,
                action=action,
                source=rule.get("source"),
                dest=rule.get("dest"),
                proto=(r.get(rule, "proto", rpath, str, None) or None),
                dport=str(port) if port is not None else None,
                comment=r.get(rule, "comment", rpath, str, None),
            )
        )
    return Firewall(enabled=r.get(fw, "enabled", fpath, bool, False), rules=tuple(rules))


def _cidr(r: _Reader, value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise r.fail(path, f"{value!r} is not an IP address or CIDR")
    try:
        ipaddress.ip_network(value, strict=False)
    except (ValueError, TypeError):
        raise r.fail(path, f"{value!r} is not an IP address or CIDR") from None


def _volume(r: _Reader, raw: Any, path: str) -> DedicatedVolume:
    vol = r.obj(raw, path)
    mount = r.get(vol, "mount_point", path, str)
    if not mount.startswith("/"):
        raise r.fail(f"{path}.mount_point", f"{mount!r} is not an absolute path")
    return DedicatedVolume(
        name=r.get(vol, "name", path, str),
        pool=r.get(vol, "pool", path, str),
        size_gb=_positive(r, r.get(vol, "size_gb", path, int), f"{path}.size_gb"),
        mount_point=mount,
    )


def _gpus(r: _Reader, value: str, path: str) -> tuple[int, ...]:
    if value.strip().lower() in ("", "none"):
        return ()
    parts = [p.strip() for p in value.split(",")]
    if not all(p.isdigit() for p in parts):
        raise r.fail(path, f"{value!r} is not 'none' or a comma list of GPU indexes")
    return tuple(int(p) for p in parts)


def _vllm(r: _Reader, raw: Mapping[str, Any], path: str) -> VllmSpec | None:
    model_type = r.get(raw, "vllm_model_type", path, str, None)
    engine = r.get(raw, "vllm_engine_config", path, dict, None)
    if model_type is None and engine is not None:
        return _vllm_engine(r, engine, f"{path}.vllm_engine_config")
    if model_type is None:
        return None
    if model_type not in ("chat", "embedding"):
        raise r.fail(f"{path}.vllm_model_type", f"{model_type!r} is not chat or embedding")
    model = r.get(raw, "vllm_model", path, str)
    args = tuple(_str_list(r, r.get(raw, "vllm_args", path, list, []), f"{path}.vllm_args"))
    ports = r.get(raw, "ports", path, list, [])
    port = r.get(raw, "vllm_port", path, int, None) or (_port(r, ports[0], f"{path}.ports[0]").container if ports else 8000)
    params = r.obj(r.get(raw, "vllm_parameters", path, dict, {}), f"{path}.vllm_parameters")
    return VllmSpec(
        model=model,
        served_model_name=r.get(raw, "vllm_served_model_name", path, str, model),
        model_type=model_type,
        max_model_len=r.get(raw, "vllm_max_model_len", path, int, None),
        port=port,
        args=args,
        gpu_memory_utilization=_float(r, raw, "vllm_gpu_memory_utilization", path),
        tensor_parallel_size=r.get(raw, "vllm_tensor_parallel_size", path, int, None),
        quantization=r.get(raw, "vllm_quantization", path, str, None),
        trust_remote_code=r.get(raw, "vllm_trust_remote_code", path, bool, False),
        embedding_dim=r.get(raw, "vllm_embedding_dim", path, int, None),
        parameters=MappingProxyType(dict(params)),
    )


EMBEDDING_TASKS = ("embed", "embedding", "pooling", "score", "classify", "reward")


def _vllm_engine(r: _Reader, engine: Mapping[str, Any], path: str) -> VllmSpec:
    """`vllm_engine_config` (0385ea2): vLLM's own config classes as JSON (ModelConfig, CacheConfig, ...).

    The model type is the declared task/runner when given; otherwise the model's name says "embed" (the
    convention every embedding model of both generations follows), else it is a chat model.
    """
    sections = {k: r.soft_obj(v, f"{path}.{k}") for k, v in engine.items()}
    merged: dict[str, Any] = {}
    for section in sections.values():
        merged |= section
    mpath = f"{path}.ModelConfig"
    model = r.get(merged, "model", mpath, str, "")
    if not model:
        r.finding(f"{mpath}.model", "schema", "is required")
    served = merged.get("served_model_name")
    served = served[0] if isinstance(served, list) and served and isinstance(served[0], str) else served
    task = str(merged.get("task") or merged.get("runner") or merged.get("convert") or "").lower()
    is_embedding = task in EMBEDDING_TASKS or (not task and "embed" in f"{model} {served or ''}".lower())
    return VllmSpec(
        model=model,
        served_model_name=served if isinstance(served, str) and served else model,
        model_type="embedding" if is_embedding else "chat",
        max_model_len=r.get(merged, "max_model_len", mpath, int, None),
        port=r.get(merged, "port", f"{path}.ServerConfig", int, 8000),
        args=_engine_args(merged),
        gpu_memory_utilization=_float(r, merged, "gpu_memory_utilization", f"{path}.CacheConfig"),
        tensor_parallel_size=r.get(merged, "tensor_parallel_size", f"{path}.ParallelConfig", int, None),
        quantization=r.get(merged, "quantization", mpath, str, None),
        trust_remote_code=r.get(merged, "trust_remote_code", mpath, bool, False),
        embedding_dim=None,
        parameters=MappingProxyType(dict(merged)),
    )


def _engine_args(merged: Mapping[str, Any]) -> tuple[str, ...]:
    """The `vllm serve` flags the engine config stands for (each field is the CLI flag of the same name)."""
    out: list[str] = []
    for key, value in merged.items():
        flag = "--" + key.replace("_", "-")
        if key == "model" or value is None or value is False or isinstance(value, (dict, list)):
            continue
        out += [flag] if value is True else [flag, str(value)]
    return tuple(out)


def _float(r: _Reader, raw: Mapping[str, Any], key: str, path: str) -> float | None:
    value = r.get(raw, key, path, (int, float), None)
    return float(value) if value is not None else None


def _resolve_features(r: _Reader, containers: dict[int, Container]) -> dict[int, Container]:
    """Effective features = ancestors' (through clone_from_ctid) then own, as update_lxc_features.py does."""
    from dataclasses import replace

    resolved: dict[int, Container] = {}
    for ctid, ct in containers.items():
        chain: list[int] = []
        current: Container | None = ct
        while current is not None:
            if current.ctid in chain:
                loop = " -> ".join(str(c) for c in [*chain, current.ctid])
                r.finding(f"lxc_configs.{ctid}.clone_from_ctid", "reference", f"clone chain loops: {loop}")
                break
            chain.append(current.ctid)
            parent = current.clone_from
            if parent is not None and parent not in containers and current.ctid == ctid:
                r.finding(f"lxc_configs.{ctid}.clone_from_ctid", "reference", f"CTID {parent} is not declared")
            current = containers.get(parent) if parent is not None else None
        features: list[str] = []
        for member in reversed(chain):
            features += [f for f in containers[member].own_features if f not in features]
        resolved[ctid] = replace(ct, features=tuple(features))
    return resolved


def _check_unique(r: _Reader, vm_r: _Reader, containers: Mapping[int, Container],
                  vms: Mapping[int, VirtualMachine]) -> None:
    """Two guests on one address (or MAC) answer for each other: a finding on the later one."""
    seen_ip: dict[IPv4Address, str] = {}
    seen_mac: dict[str, int] = {}
    for ctid, ct in containers.items():
        ip, mac = ct.network.ip.ip, ct.network.mac
        if ip in seen_ip:
            r.finding(f"lxc_configs.{ctid}.network_config.ip", "duplicate", f"{ip} is also used by {seen_ip[ip]}")
        if mac in seen_mac:
            r.finding(f"lxc_configs.{ctid}.mac_address", "duplicate", f"{mac} is also used by CT {seen_mac[mac]}")
        seen_ip.setdefault(ip, f"CT {ctid}")
        seen_mac.setdefault(mac, ctid)
    for i, (vmid, vm) in enumerate(vms.items()):
        if vm.ip is not None and vm.ip.ip in seen_ip:
            vm_r.finding(f"vms[{i}].network_config.ip", "duplicate", f"{vm.ip.ip} is also used by {seen_ip[vm.ip.ip]}")
        if vm.ip is not None:
            seen_ip.setdefault(vm.ip.ip, f"VM {vmid}")


def _check_references(r: _Reader, vm_r: _Reader, containers: Mapping[int, Container],
                      vms: Mapping[int, VirtualMachine]) -> None:
    """Dependencies name a declared guest: a CT or (since VMs exist) a VM."""
    for ctid, ct in containers.items():
        for i, dep in enumerate(ct.dependencies):
            if dep not in containers and dep not in vms:
                r.finding(f"lxc_configs.{ctid}.dependencies[{i}]", "reference", f"guest {dep} is not declared")
    for i, vm in enumerate(vms.values()):
        for j, dep in enumerate(vm.dependencies):
            if dep not in containers and dep not in vms:
                vm_r.finding(f"vms[{i}].dependencies[{j}]", "reference", f"guest {dep} is not declared")
        if vm.clone_from is not None and vm.clone_from not in vms:
            vm_r.finding(f"vms[{i}].clone_from_vmid", "reference", f"VM {vm.clone_from} is not declared")


def to_jsonable(value: Any) -> Any:
    """Plain JSON form of any inventory object (IPs as strings), for `phoenix-verify inventory --json`."""
    from dataclasses import fields, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, (Container, VirtualMachine)):
            out["slug"] = value.slug
        out.pop("secret_values", None)
        return out
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (IPv4Address, IPv4Interface, Path)):
        return str(value)
    return value
