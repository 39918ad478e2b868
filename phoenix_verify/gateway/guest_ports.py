"""Which declared guest listens on an `ip:port`, and what runs there (service, scheme, model, model type).

A guest declares a port by its `ports` (container side), its vLLM port, its `traefik_service`, the services of
its docker stacks (VMs), or an inbound ACCEPT rule of its own firewall; a CT that declares no `ports` listens on
its role's registered ports (phoenix_model/services.py). Schemes come from the declaration when
it says (Traefik labels), else from the port's well-known use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from phoenix_model.deployment import service_ports
from phoenix_model.inventory import Container, Inventory
from phoenix_model.services import service_type

# The scheme a port speaks when the declaration does not say (IANA / the services' documented defaults).
WELL_KNOWN_SCHEMES = {443: "https", 8443: "https", 9443: "https", 6334: "grpc", 50051: "grpc", 9000: "http"}


@dataclass(frozen=True)
class GuestPort:
    guest: str               # "ct953" / "vm1002"
    name: str
    address: str             # ip:port
    service: str
    scheme: str
    model: str | None = None
    model_type: str | None = None

    def describe(self) -> str:
        what = f"{self.service} ({self.scheme})"
        if self.model:
            what += f", {self.model_type} model {self.model}"
        return f"{self.guest}-{self.name.lower()}:{self.address.rsplit(':', 1)[1]} {what}"


def _scheme(port: int, declared: str | None = None) -> str:
    return declared or WELL_KNOWN_SCHEMES.get(port, "http")


def _ct_ports(ct: Container) -> dict[int, GuestPort]:
    ip = str(ct.network.ip.ip)
    out: dict[int, GuestPort] = {}

    def add(port: int, service: str, scheme: str | None = None) -> None:
        out.setdefault(port, GuestPort(f"ct{ct.ctid}", ct.name, f"{ip}:{port}", service, _scheme(port, scheme)))

    if ct.vllm:
        out[ct.vllm.port] = GuestPort(f"ct{ct.ctid}", ct.name, f"{ip}:{ct.vllm.port}", "vllm", "http",
                                      ct.vllm.served_model_name, ct.vllm.model_type)
    traefik = ct.extra.get("traefik_service")
    if isinstance(traefik, dict) and isinstance(traefik.get("port"), int):
        add(traefik["port"], str(traefik.get("name") or ct.role))
    for p in ct.ports:
        add(p.container, ct.role)
    st = service_type(ct.role)
    for port in () if ct.ports else service_ports(ct):   # the role's registered ports when none are declared
        add(port, ct.role, st.scheme(port) if st else None)
    for rule in ct.firewall.rules:
        if rule.direction == "in" and rule.action == "ACCEPT" and rule.dport and (rule.proto or "tcp") == "tcp":
            for part in rule.dport.replace(":", ",").split(","):
                if part.isdigit():
                    add(int(part), ct.role)
    return out


def catalog(inv: Inventory) -> dict[str, GuestPort]:
    """`ip:port` -> what the inventory says listens there, over every running (non-template) guest."""
    out: dict[str, GuestPort] = {}
    for ct in inv.services():
        for gp in _ct_ports(ct).values():
            out.setdefault(gp.address, gp)
    for vm in inv.vms.values():
        if vm.is_template or vm.ip is None:
            continue
        ip = str(vm.ip.ip)
        for svc in vm.services:
            out.setdefault(f"{ip}:{svc.port}", GuestPort(f"vm{vm.vmid}", vm.name, f"{ip}:{svc.port}", svc.name,
                                                          _scheme(svc.port, svc.scheme if svc.scheme != "http" else None)))
        for rule in vm.firewall.rules:
            if rule.direction == "in" and rule.action == "ACCEPT" and rule.dport and rule.dport.isdigit():
                port = int(rule.dport)
                out.setdefault(f"{ip}:{port}", GuestPort(f"vm{vm.vmid}", vm.name, f"{ip}:{port}", vm.name.lower(),
                                                          _scheme(port)))
    return out


def guest_by_name(inv: Inventory) -> dict[str, str]:
    """Lower-case name -> guest IP, for proxy_pass targets written as names: guest names, their Traefik service
    names, and the names of the certificate manifest (whose files live under the guest's persistent-data dir)."""
    by_id = {ct.ctid: str(ct.network.ip.ip) for ct in inv.services()}
    by_id |= {vm.vmid: str(vm.ip.ip) for vm in inv.vms.values() if vm.ip is not None}
    owners = {cert: next((int(m) for m in re.findall(r"/(\d{3,9})/", cert.cert_path) if int(m) in by_id), None)
              for cert in inv.certificates}
    # a certificate's common name is its guest's own name; its SANs are names that guest also serves (weaker)
    out = {c.common_name.lower(): by_id[o] for c, o in owners.items() if o is not None}
    for ct in inv.services():
        ip = str(ct.network.ip.ip)
        out.setdefault(ct.name.lower(), ip)
        traefik = ct.extra.get("traefik_service")
        if isinstance(traefik, dict) and isinstance(traefik.get("name"), str):
            out.setdefault(traefik["name"].lower(), ip)
    for vm in inv.vms.values():
        if vm.ip is not None:
            out.setdefault(vm.name.lower(), str(vm.ip.ip))
            for svc in vm.services:
                out.setdefault(svc.name.lower(), str(vm.ip.ip))
    for cert, owner in owners.items():
        for name in cert.sans:
            if owner is not None:
                out.setdefault(name.lower(), by_id[owner])
    return out


def resolve_name(names: dict[str, str], host: str) -> str | None:
    """A written host name -> guest IP: the full name, else its first label (`qdrant.internal.example`)."""
    host = host.lower().rstrip(".")
    return names.get(host) or names.get(host.split(".")[0])
