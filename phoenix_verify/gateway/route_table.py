"""The effective route table of a gateway config: for every (listen port, TLS, server_name, location), where the
request goes and what runs there.

Built from the crossplane model of `nginx_lint.load` (never a second nginx grammar). A target is an `upstream`,
a variable set by `map`/`set`/`js_set`, or a literal address; each is resolved to the declared guest and port
(`guest_ports.catalog`). `stream {}` servers are TCP/TLS routes.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from phoenix_model.inventory import Inventory
from phoenix_verify.gateway.guest_ports import GuestPort, catalog, guest_by_name, resolve_name
from phoenix_verify.gateway.nginx_lint import Config, Directive

PASS_DIRECTIVES = {"proxy_pass": None, "grpc_pass": "grpc", "uwsgi_pass": "uwsgi", "fastcgi_pass": "fastcgi",
                   "scgi_pass": "scgi"}
ACME_PREFIX = "/.well-known/acme-challenge"
VAR = re.compile(r"\$\{?(\w+)\}?")


@dataclass(frozen=True)
class Endpoint:
    address: str                  # host:port as written after resolution
    via: str | None = None        # the map key (e.g. a model name) that selects it, None if unconditional
    guest: GuestPort | None = None
    source: Directive | None = field(default=None, compare=False, repr=False)   # the map/set/upstream line

    def as_dict(self) -> dict[str, Any]:
        g = self.guest
        return {"address": self.address, "via": self.via,
                "guest": g.guest if g else None, "service": g.service if g else None,
                "scheme": g.scheme if g else None, "model": g.model if g else None,
                "model_type": g.model_type if g else None}


@dataclass(frozen=True)
class RouteEntry:
    protocol: str                 # "http" or "tcp" (stream)
    port: int
    tls: bool
    server_names: tuple[str, ...]
    location: str                 # "= /v1/models", "/qdrant/", "*" (the server answers before any location)
    action: str                   # proxy | redirect | return | acme | static | none
    target: str                   # the directive's argument (proxy_pass URL, return code+URL, root)
    target_kind: str              # upstream | variable | literal | none
    scheme: str | None            # http, https, grpc, grpcs, tcp, tls
    endpoints: tuple[Endpoint, ...]
    file: str
    line: int
    scopes: tuple[tuple[Directive, ...], ...] = field(default=(), compare=False, repr=False)  # innermost first
    server: Directive | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        """The request path the location matches (modifier stripped; "/" for the server-level answer)."""
        return self.location.split()[-1] if self.location != "*" else "/"

    def effective(self, name: str) -> Directive | None:
        """A directive as nginx inherits it: innermost scope (location) first, then server, then http."""
        for scope in self.scopes:
            found = [d for d in scope if d.name == name]
            if found:
                return found[-1]
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "port": self.port, "tls": self.tls, "server_names": list(self.server_names),
                "location": self.location, "action": self.action, "target": self.target,
                "target_kind": self.target_kind, "scheme": self.scheme,
                "endpoints": [e.as_dict() for e in self.endpoints], "file": self.file, "line": self.line}


def listens(server: Directive, default_port: int = 80) -> list[tuple[int, bool]]:
    """(port, tls) per `listen`; a server without one listens on 80 (http) as nginx does."""
    legacy_ssl = any(d.args == ["on"] for d in server.children("ssl"))
    out = []
    for d in server.children("listen"):
        if not d.args:
            continue
        addr = d.args[0]
        port = addr.rsplit(":", 1)[-1] if not addr.startswith("unix:") else ""
        if port.isdigit():
            out.append((int(port), "ssl" in d.args or "quic" in d.args or legacy_ssl))
        elif not addr.startswith("unix:"):
            out.append((default_port, "ssl" in d.args or legacy_ssl))   # `listen 10.0.0.153;`
    return out or [(default_port, legacy_ssl)]


class _Resolver:
    def __init__(self, cfg: Config, inv: Inventory | None) -> None:
        self.upstreams = {d.args[0]: d for d in cfg.http + cfg.stream if d.name == "upstream" and d.args}
        self.maps: dict[str, Directive] = {}
        for d in cfg.http + cfg.stream:
            if d.name == "map" and len(d.args) == 2:
                self.maps[d.args[1].lstrip("$")] = d
        self.js_vars = {d.args[0].lstrip("$") for d in cfg.http + cfg.stream if d.name == "js_set" and d.args}
        self.catalog = catalog(inv) if inv else {}
        self.names = guest_by_name(inv) if inv else {}

    def target(self, value: str, scopes: tuple[tuple[Directive, ...], ...]) -> tuple[str, list[Endpoint]]:
        """(kind, endpoints) of a proxy_pass/grpc_pass argument or a stream `proxy_pass host:port`."""
        hostport = re.sub(r"^[a-z]+://", "", value).split("/")[0]
        var = VAR.fullmatch(hostport) or VAR.match(hostport)
        if var:
            return "variable", self._variable(var.group(1), scopes, depth=0)
        if hostport in self.upstreams:
            return "upstream", self._upstream(hostport, None)
        return "literal", [self._endpoint(hostport, None, value)]

    def _variable(self, name: str, scopes: tuple[tuple[Directive, ...], ...], depth: int) -> list[Endpoint]:
        for scope in scopes:
            sets = [d for d in scope if d.name == "set" and d.args and d.args[0].lstrip("$") == name]
            if sets and len(sets[-1].args) > 1:
                return self._value(sets[-1].args[1], None, scopes, depth, sets[-1])
        if name in self.maps:
            out: list[Endpoint] = []
            for entry in self.maps[name].block or []:
                if entry.name in ("hostnames", "volatile", "include") or not entry.args:
                    continue
                key = None if entry.name == "default" else entry.name
                out += self._value(entry.args[0], key, scopes, depth, entry)
            return out
        if name in self.js_vars:
            return [Endpoint(f"${name} (js_set: decided by JavaScript at request time)")]
        return [Endpoint(f"${name} (not set by any map/set/js_set)")]

    def _value(self, value: str, via: str | None, scopes: tuple[tuple[Directive, ...], ...], depth: int,
               source: Directive) -> list[Endpoint]:
        var = VAR.fullmatch(value)
        if var and depth < 4:
            return [Endpoint(e.address, via or e.via, e.guest, e.source)
                    for e in self._variable(var.group(1), scopes, depth + 1)]
        hostport = re.sub(r"^[a-z]+://", "", value).split("/")[0]
        if hostport in self.upstreams:
            return self._upstream(hostport, via)
        return [self._endpoint(hostport, via, value, source)]

    def _upstream(self, name: str, via: str | None) -> list[Endpoint]:
        servers = [s for s in self.upstreams[name].children("server") if s.args]
        return [self._endpoint(s.args[0], via, s.args[0], s) for s in servers] or [Endpoint(f"upstream {name} (no servers)", via)]

    def _endpoint(self, hostport: str, via: str | None, written: str, source: Directive | None = None) -> Endpoint:
        host, _, port = hostport.rpartition(":") if re.search(r":\d+$", hostport) else (hostport, "", "")
        if not port:
            port = "443" if written.startswith(("https://", "grpcs://")) else "80"
        ip = host.strip("[]")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            ip = resolve_name(self.names, host) or host
        address = f"{ip}:{port}"
        return Endpoint(address, via, self.catalog.get(address), source)


def _locations(block: list[Directive], parents: tuple[tuple[Directive, ...], ...]) -> Iterator[tuple[Directive, tuple[tuple[Directive, ...], ...]]]:
    for d in block:
        if d.name == "location":
            scopes = (tuple(d.block or []), *parents)
            yield d, scopes
            yield from _locations(d.block or [], scopes)


def _action(block: list[Directive]) -> tuple[str, Directive | None]:
    for d in block:
        if d.name in PASS_DIRECTIVES and d.args:
            return "proxy", d
    for d in block:
        if d.name == "return" and d.args:
            code = d.args[0]
            redirect = code in ("301", "302", "303", "307", "308") or code.startswith(("http://", "https://", "$scheme"))
            return ("redirect" if redirect else "return"), d
    for d in block:
        if d.name in ("root", "alias", "try_files", "js_content", "content_by_lua_block", "stub_status"):
            return "static", d
    return "none", None


def build(cfg: Config, inv: Inventory | None) -> list[RouteEntry]:
    """Every route of the config, in file order; `inv` resolves endpoints to declared guests (None: unresolved)."""
    res = _Resolver(cfg, inv)
    out: list[RouteEntry] = []
    http_scope = tuple(cfg.http)
    for server in cfg.servers():
        block = server.block or []
        names = tuple(a for d in server.children("server_name") for a in d.args) or ("",)
        server_scopes = (tuple(block), http_scope)
        server_return = [d for d in block if d.name == "return"]
        entries: list[tuple[str, Directive, tuple[tuple[Directive, ...], ...]]] = []
        if server_return:        # the rewrite phase answers before any location is chosen
            entries.append(("*", server, server_scopes))
        else:
            entries += [(" ".join(loc.args), loc, scopes) for loc, scopes in _locations(block, server_scopes)]
            if not entries:
                entries.append(("*", server, server_scopes))
        for port, tls in listens(server, 80):
            for location, where, scopes in entries:
                out.append(_entry("http", port, tls, names, location, where, scopes, res, server))
    for server in [d for d in cfg.stream if d.name == "server"]:
        scopes = (tuple(server.block or []), tuple(cfg.stream))
        for port, tls in listens(server, 0):
            out.append(_entry("tcp", port, tls, ("",), "*", server, scopes, res, server))
    return out


def _entry(protocol: str, port: int, tls: bool, names: tuple[str, ...], location: str, where: Directive,
           scopes: tuple[tuple[Directive, ...], ...], res: _Resolver, server: Directive) -> RouteEntry:
    action, directive = _action(list(scopes[0]))
    path = location.split()[-1] if location != "*" else "/"
    if path.startswith(ACME_PREFIX):
        action = "acme"
    target, kind, scheme = "", "none", None
    endpoints: tuple[Endpoint, ...] = ()
    if directive is not None:
        target = " ".join(directive.args)
    if action == "proxy" and directive is not None:
        value = directive.args[0]
        m = re.match(r"^([a-z]+)://", value)
        scheme = m.group(1) if m else (PASS_DIRECTIVES[directive.name] or ("tls" if protocol == "tcp" and _proxy_ssl(scopes) else "tcp"))
        if directive.name == "grpc_pass" and not m:
            scheme = "grpc"
        kind, found = res.target(value, scopes)
        endpoints = tuple(found)
    anchor = directive or where
    return RouteEntry(protocol, port, tls, names, location, action, target, kind, scheme, endpoints,
                      anchor.file, anchor.line, scopes, server)


def _proxy_ssl(scopes: tuple[tuple[Directive, ...], ...]) -> bool:
    return any(d.name == "proxy_ssl" and d.args == ["on"] for scope in scopes for d in scope)


def render(entries: list[RouteEntry]) -> str:
    """The table an operator reads: one line per route and endpoint."""
    rows = [["PORT", "TLS", "SERVER_NAME", "LOCATION", "ACTION", "TARGET", "GUEST / SERVICE", "WHERE"]]
    for e in entries:
        head = [f"{e.port}/{e.protocol}", "tls" if e.tls else "-", ",".join(e.server_names) or "_", e.location,
                e.action, e.target[:48]]
        where = f"{e.file}:{e.line}"
        if not e.endpoints:
            rows.append([*head, "-", where])
        for i, ep in enumerate(e.endpoints):
            desc = ep.guest.describe() if ep.guest else f"{ep.address} (no declared guest/port)"
            if ep.via:
                desc = f"[{ep.via}] {desc}"
            rows.append([*(head if i == 0 else [""] * len(head)), desc, where if i == 0 else ""])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
