"""Later Phoenix generations: VMs (`phoenix_vm_configs.json`, reached with `qm`), docker stacks
(`phoenix_stacks_config.json`) and the certificate manifest (`certificate-manifest.json`).

All optional: a directory without them is an older generation. Shape problems are recorded as findings by the
caller's reader; only the facts that can be read are modelled.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Interface
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phoenix_model.inventory import Firewall, _Reader

VM_FILE = "phoenix_vm_configs.json"
STACKS_FILE = "phoenix_stacks_config.json"
CERT_FILE = "certificate-manifest.json"
LB_PORT = re.compile(r"^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port=(\d{1,5})$")
LB_SCHEME = re.compile(r"^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.scheme=(\w+)$")


@dataclass(frozen=True)
class Service:
    """Something listening on a guest port, as declared: the name, the port and the scheme it speaks."""
    name: str
    port: int
    scheme: str = "http"


@dataclass(frozen=True)
class StackService:
    stack: str
    service: str
    port: int | None
    scheme: str


@dataclass(frozen=True)
class VirtualMachine:
    vmid: int
    name: str
    ip: IPv4Interface | None      # None: DHCP or not declared
    is_template: bool
    clone_from: int | None
    start_at_boot: bool
    boot_order: int
    features: tuple[str, ...]
    dependencies: tuple[int, ...]
    firewall: Firewall
    docker_stacks: tuple[str, ...]
    services: tuple[Service, ...]
    portainer_role: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return f"vm{self.vmid}-{self.name.lower()}"


@dataclass(frozen=True)
class Certificate:
    common_name: str
    sans: tuple[str, ...]
    cert_path: str
    key_path: str
    owner: str | None
    permissions: str | None
    post_renewal_command: str | None


def stack_services(r: _Reader, doc: Mapping[str, Any]) -> dict[str, tuple[StackService, ...]]:
    """stack name -> its services, with the port and scheme their Traefik labels publish."""
    out: dict[str, tuple[StackService, ...]] = {}
    stacks = r.soft_obj(doc.get("docker_stacks", {}), "docker_stacks")
    for stack, raw in stacks.items():
        path = f"docker_stacks.{stack}"
        found: dict[str, StackService] = {}
        envs = r.soft_obj(r.soft_obj(raw, path).get("environments", {}), f"{path}.environments")
        for env, env_raw in envs.items():
            spath = f"{path}.environments.{env}.services"
            for name, svc in r.soft_obj(r.soft_obj(env_raw, f"{path}.environments.{env}").get("services", {}), spath).items():
                labels = r.soft_obj(svc, f"{spath}.{name}").get("traefik_labels", [])
                labels = [x for x in labels if isinstance(x, str)] if isinstance(labels, list) else []
                port = next((int(m.group(1)) for x in labels if (m := LB_PORT.match(x))), None)
                scheme = next((m.group(1) for x in labels if (m := LB_SCHEME.match(x))), "http")
                found.setdefault(name, StackService(stack, name, port, scheme))
        out[stack] = tuple(found.values())
    return out


def virtual_machines(r: _Reader, doc: Mapping[str, Any], stacks: Mapping[str, tuple[StackService, ...]]
                     ) -> dict[int, VirtualMachine]:
    from phoenix_model.inventory import _firewall, _str_list

    out: dict[int, VirtualMachine] = {}
    vms = r.get(doc, "vms", "$", list, [])
    for i, raw_vm in enumerate(vms):
        path = f"vms[{i}]"
        vm = r.soft_obj(raw_vm, path)
        if not vm:
            continue
        vmid = r.soft(None, r.ctid, vm.get("vmid"), f"{path}.vmid")
        if vmid is None:
            continue
        net = r.soft_obj(vm.get("network_config", {}), f"{path}.network_config")
        ip_raw = net.get("ip")
        ip = None if ip_raw in (None, "dhcp") else r.soft(None, r.interface, ip_raw, f"{path}.network_config.ip")
        stack_names = tuple(_str_list(r, r.get(vm, "docker_stacks", path, list, []), f"{path}.docker_stacks"))
        services: list[Service] = []
        traefik = r.soft_obj(vm.get("traefik_service", {}) or {}, f"{path}.traefik_service")
        if isinstance(traefik.get("port"), int) and isinstance(traefik.get("name"), str):
            services.append(Service(traefik["name"], traefik["port"], "https" if traefik["port"] in (443, 9443) else "http"))
        for j, stack in enumerate(stack_names):
            if stack not in stacks:
                r.finding(f"{path}.docker_stacks[{j}]", "reference", f"stack {stack!r} is not declared in {STACKS_FILE}")
            services += [Service(s.service, s.port, s.scheme) for s in stacks.get(stack, ()) if s.port]
        clone = vm.get("clone_from_vmid")
        out[vmid] = VirtualMachine(
            vmid=vmid,
            name=r.get(vm, "name", path, str, f"vm{vmid}"),
            ip=ip,
            is_template=r.get(vm, "is_template", path, bool, False),
            clone_from=r.soft(None, r.ctid, clone, f"{path}.clone_from_vmid") if clone is not None else None,
            start_at_boot=r.get(vm, "start_at_boot", path, bool, False),
            boot_order=r.get(vm, "boot_order", path, int, 0),
            features=tuple(_str_list(r, r.get(vm, "features", path, list, []), f"{path}.features")),
            dependencies=tuple(d for j, raw_dep in enumerate(r.get(vm, "dependencies", path, list, []))
                               if (d := r.soft(None, r.ctid, raw_dep, f"{path}.dependencies[{j}]")) is not None),
            firewall=_firewall(r, vm, path),
            docker_stacks=stack_names,
            services=tuple(dict.fromkeys(services)),
            portainer_role=r.get(vm, "portainer_role", path, str, "none"),
            extra={k: v for k, v in vm.items() if k not in VM_KNOWN},
        )
    return out


VM_KNOWN = frozenset({"vmid", "name", "network_config", "is_template", "clone_from_vmid", "start_at_boot", "boot_order",
                      "features", "dependencies", "firewall", "docker_stacks", "traefik_service", "portainer_role"})


def certificates(r: _Reader, doc: Any) -> tuple[Certificate, ...]:
    out = []
    entries = doc if isinstance(doc, list) else []
    if not isinstance(doc, list):
        r.finding("$", "type", "expected an array of certificates")
    for i, raw in enumerate(entries):
        path = f"[{i}]"
        c = r.soft_obj(raw, path)
        if not c:
            continue
        cn = r.get(c, "common_name", path, str, None)
        cert, key = r.get(c, "cert_path", path, str, None), r.get(c, "key_path", path, str, None)
        if not cn or not cert or not key:
            r.finding(path, "schema", "a certificate needs common_name, cert_path and key_path")
            continue
        out.append(Certificate(cn, tuple(_strs(c.get("sans"))), cert, key, r.get(c, "owner", path, str, None),
                               r.get(c, "permissions", path, str, None),
                               r.get(c, "post_renewal_command", path, str, None)))
    return tuple(out)


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
