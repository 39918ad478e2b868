"""Static checks of a gateway nginx config against the inventory's gateway contract (config drift).

Input: a full nginx.conf, one site file (read as if included in `http {}`), or a directory of them. Files are
parsed with crossplane one at a time; `include` is expanded by this module so that a config copied off the CT
(absolute paths like /etc/nginx/sites-available/locations/x.conf) resolves inside the given directory.
Findings carry file and line so an operator can go straight to the directive.
"""
from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crossplane

from phoenix_model.inventory import Inventory
from phoenix_verify.gateway.contract import Route, routes, upstream_endpoints

PLUS_ONLY = {"health_check", "match", "sticky", "sticky_cookie_insert", "ntlm", "queue", "state", "zone_sync",
             "api", "status", "status_zone", "session_log", "js_import"}
MIN_STREAM_TIMEOUT_S = 300
ADDR = re.compile(r"^(?:https?://)?(\d{1,3}(?:\.\d{1,3}){3}):(\d+)")


class LintInputError(Exception):
    """The input cannot be linted (missing, unparsable); the message is one line naming the file."""


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str
    route: str | None = None    # the contract route this finding breaks, if any (not part of the JSON output)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "rule": self.rule, "message": self.message}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


@dataclass
class Directive:
    name: str
    args: list[str]
    file: str
    line: int
    block: list[Directive] | None = None

    def children(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]


@dataclass
class Config:
    """The http-level (and stream-level, and main-level) directives of every top-level file, includes expanded."""
    http: list[Directive] = field(default_factory=list)
    partial: bool = False    # one site file: routes served by other files are not expected in it
    stream: list[Directive] = field(default_factory=list)
    main: list[Directive] = field(default_factory=list)     # load_module, user, ... of an nginx.conf
    files: list[Path] = field(default_factory=list)         # the top-level files analysed
    skipped: list[Path] = field(default_factory=list)       # scripts, templates, docs found next to them

    def servers(self) -> list[Directive]:
        return [d for d in self.http if d.name == "server"]


def _parse_file(path: Path) -> list[dict[str, Any]]:
    payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False, comments=False)
    errors = payload["errors"] or payload["config"][0]["errors"]
    if errors:
        err = errors[0]
        raise LintInputError(f"{path}:{err.get('line') or '?'}: {err['error']}")
    return payload["config"][0]["parsed"]


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root if root.is_dir() else root.parent
        self.included: set[Path] = set()

    def resolve(self, pattern: str, current: Path) -> list[Path]:
        """An include target: the longest suffix of it found under the input directory (a config copied off its
        host: /etc/nginx/sites-enabled/* -> <input>/sites-enabled/*). Files outside the input are never read, so
        this machine's own /etc/nginx cannot leak into the result; unresolved includes (mime.types) are skipped."""
        parts = Path(pattern).parts
        candidates = [str(self.root.joinpath(*parts[i:])) for i in range(1 if parts[0] == "/" else 0, len(parts))]
        if not Path(pattern).is_absolute():
            candidates.insert(0, str(current.parent / pattern))
        for cand in candidates:
            hits = sorted(Path(p) for p in glob.glob(cand) if Path(p).is_file() and Path(p) != current)
            if hits:
                return hits
        return []

    def load(self, path: Path, depth: int = 0) -> list[Directive]:
        if depth > 8:
            raise LintInputError(f"{path}: include nesting deeper than 8")
        return list(self._convert(_parse_file(path), path, depth))

    def _convert(self, parsed: list[dict[str, Any]], path: Path, depth: int) -> Iterator[Directive]:
        for d in parsed:
            if d["directive"] == "include" and d["args"]:
                for target in self.resolve(d["args"][0], path):
                    self.included.add(target.resolve())
                    yield from self.load(target, depth + 1)
                continue
            block = list(self._convert(d["block"], path, depth)) if "block" in d else None
            yield Directive(d["directive"], d["args"], str(path), d["line"], block)


NOT_NGINX = re.compile(r"\.(sh|bash|py|md|txt|json|ya?ml|j2|jinja2?|tmpl|template|tpl|example|sample|bak|orig|"
                       r"swp|pem|crt|key|csr|js|mjs|html|lua|service|timer|log)$|~$", re.IGNORECASE)


def _nginx_files(path: Path) -> tuple[list[Path], list[Path]]:
    """What nginx would read from PATH, and what it would not (scripts, templates, certificates, docs).

    With an nginx.conf in the directory, only it is an entry point (its includes pull the rest, exactly as the
    CT loads it: a site in sites-available but not in sites-enabled is not served). Without one, sites-enabled/
    when present, else every file."""
    if path.is_file():
        return [path], []
    every = sorted(p for p in path.rglob("*") if p.is_file() and not any(x.startswith(".") for x in p.relative_to(path).parts))
    skipped = [p for p in every if NOT_NGINX.search(p.name)]
    candidates = [p for p in every if p not in skipped]
    entry = [p for p in candidates if p.name == "nginx.conf"]
    if entry:
        return [min(entry, key=lambda p: len(p.parts))], skipped
    enabled = [p for p in candidates if "sites-enabled" in p.relative_to(path).parts or "conf.d" in p.relative_to(path).parts]
    return (enabled or candidates), skipped


def load(path: Path) -> Config:
    """Parse PATH (file or directory) into the http-level directive list; LintInputError when unusable."""
    if not path.exists():
        raise LintInputError(f"{path}: no such file or directory")
    loader = _Loader(path)
    files, skipped = _nginx_files(path)
    if not files:
        raise LintInputError(f"{path}: no nginx files in this directory")
    per_file = {f: loader.load(f) for f in files}
    config = Config(skipped=skipped)
    for f, directives in per_file.items():
        if f.resolve() in loader.included and f != path:
            continue            # read where it is included, not a second time at http level
        config.files.append(f)
        http = [d for d in directives if d.name == "http"]
        stream = [d for d in directives if d.name == "stream"]
        if http or stream:
            config.main += [d for d in directives if d.name not in ("http", "stream", "events")]
            config.http += [x for d in http for x in d.block or []]
            config.stream += [x for d in stream for x in d.block or []]
        elif "stream" in f.parent.name:   # a stream.d/ file: included inside stream {}
            config.stream += directives
        else:
            config.http += directives
        config.partial = path.is_file() and not http
    return config


def _servers(cfg: Config) -> list[Directive]:
    return [d for d in cfg.http if d.name == "server"]


def _locations(block: list[Directive]) -> Iterator[Directive]:
    for d in block:
        if d.name == "location":
            yield d
            yield from _locations(d.block or [])


def _is_tls(server: Directive) -> bool:
    return any("ssl" in d.args for d in server.children("listen"))


def _names(server: Directive) -> set[str]:
    return {a for d in server.children("server_name") for a in d.args}


def _location_path(loc: Directive) -> str:
    return loc.args[-1]


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    if not m:
        return 0.0
    return int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def lint(cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Config-only rules, the properties of the effective route table (gateway.properties) and, with an
    inventory, the contract routes of strategy §3.1.2."""
    from phoenix_verify.gateway import properties, route_table
    from phoenix_verify.gateway.guest_ports import catalog

    out: list[Finding] = []
    upstreams = {d.args[0]: d for d in cfg.http if d.name == "upstream" and d.args}
    out += _plus_only(cfg.http)
    out += _cache_findings(cfg)
    out += properties.check(route_table.build(cfg, inv), cfg, inv)
    if inv is not None:
        known = frozenset(catalog(inv)) | upstream_endpoints(inv)
        out += _upstream_findings(upstreams, known, _upstream_routes(cfg, inv))
        for server in _servers(cfg):
            for loc in _locations(server.block or []):
                out += _direct_proxy_findings(loc, known)
        out += _route_findings(cfg, inv, upstreams)
    return sorted(set(out), key=lambda f: (f.file, f.line, f.rule, f.route or ""))


def _upstream_routes(cfg: Config, inv: Inventory) -> dict[str, str]:
    """upstream block name -> the contract route whose location proxies to it."""
    out = {}
    for route in routes(inv):
        for server in _servers(cfg):
            if route.hostname not in _names(server):
                continue
            for loc in _locations(server.block or []):
                if _location_path(loc) == route.location:
                    for pp in loc.children("proxy_pass"):
                        out[re.sub(r"^https?://", "", pp.args[0]).split("/")[0]] = route.name
    return out


def _upstream_findings(upstreams: dict[str, Directive], known: frozenset[str], owners: dict[str, str]) -> list[Finding]:
    out = []
    for up in upstreams.values():
        for srv in up.children("server"):
            m = ADDR.match(srv.args[0]) if srv.args else None
            addr = f"{m.group(1)}:{m.group(2)}" if m else (srv.args[0] if srv.args else "?")
            if addr not in known:
                out.append(Finding(srv.file, srv.line, "upstream-undeclared",
                                   f"upstream {up.args[0]} server {addr} is not a declared CT address and port",
                                   owners.get(up.args[0])))
    return out


def _direct_proxy_findings(loc: Directive, known: frozenset[str]) -> list[Finding]:
    out = []
    for pp in loc.children("proxy_pass"):
        m = ADDR.match(pp.args[0]) if pp.args else None
        if m and f"{m.group(1)}:{m.group(2)}" not in known:
            out.append(Finding(pp.file, pp.line, "upstream-undeclared",
                               f"proxy_pass to {m.group(1)}:{m.group(2)}, not a declared CT address and port"))
    return out


def _walk(block: list[Directive]) -> Iterator[Directive]:
    for d in block:
        yield d
        yield from _walk(d.block or [])


def _plus_only(http: list[Directive]) -> list[Finding]:
    out = []
    for d in _walk(http):
        if d.name in PLUS_ONLY:
            out.append(Finding(d.file, d.line, "nginx-plus-only", f"'{d.name}' exists only in NGINX Plus"))
        elif d.name == "server" and "resolve" in d.args:
            out.append(Finding(d.file, d.line, "nginx-plus-only",
                               "'server ... resolve' needs NGINX Plus (or nginx >= 1.27.3)"))
    return out


def _cache_findings(cfg: Config) -> list[Finding]:
    zones = {a.split("=", 1)[1].split(":")[0] for d in _walk(cfg.http) if d.name == "proxy_cache_path"
             for a in d.args if a.startswith("keys_zone=")}
    return [Finding(d.file, d.line, "cache-zone-undefined", f"proxy_cache {d.args[0]} names no keys_zone of a proxy_cache_path")
            for d in _walk(cfg.http) if d.name == "proxy_cache" and d.args and d.args[0] != "off" and d.args[0] not in zones]


def _route_findings(cfg: Config, inv: Inventory, upstreams: dict[str, Directive]) -> list[Finding]:
    out = []
    servers = [s for s in _servers(cfg) if _is_tls(s)]
    for route in routes(inv):
        hosts = [s for s in servers if route.hostname in _names(s)]
        if cfg.partial and not hosts:
            continue
        locs = [loc for s in hosts for loc in _locations(s.block or []) if _location_path(loc) == route.location]
        anchor = hosts[0] if hosts else (servers[0] if servers else None)
        if len(locs) != 1:
            problem = "no location" if not locs else f"{len(locs)} locations"
            f, line = (anchor.file, anchor.line) if anchor else ("-", 0)
            out.append(Finding(f, line, "route-location",
                               f"route {route.name}: {problem} {route.location} on {route.hostname} (expected exactly one)",
                               route.name))
            continue
        out += _route_upstream(route, locs[0], upstreams, upstream_endpoints(inv))
        out += _streaming_findings(route, locs[0])
    return out


def _route_upstream(route: Route, loc: Directive, upstreams: dict[str, Directive], known: frozenset[str]) -> list[Finding]:
    """The location must reach the route's CT; undeclared addresses are already reported by upstream-undeclared."""
    passes = loc.children("proxy_pass")
    if not passes:
        return [Finding(loc.file, loc.line, "route-upstream", f"route {route.name}: location {route.location} has no proxy_pass",
                        route.name)]
    target = re.sub(r"^https?://", "", passes[0].args[0]).split("/")[0]
    servers = upstreams[target].children("server") if target in upstreams else []
    addrs = {f"{m.group(1)}:{m.group(2)}" for s in servers if s.args and (m := ADDR.match(s.args[0]))} or {target}
    if route.upstream in addrs or not addrs <= known:
        return []
    return [Finding(passes[0].file, passes[0].line, "route-upstream",
                    f"route {route.name}: proxies to {', '.join(sorted(addrs))}, expected {route.upstream} ({route.ct.slug})",
                    route.name)]


def _streaming_findings(route: Route, loc: Directive) -> list[Finding]:
    """Long-running API routes: no response buffering (token streaming) and a read timeout of minutes."""
    if not route.streaming:
        return []
    out = []
    buffering = loc.children("proxy_buffering")
    if not buffering or buffering[-1].args != ["off"]:
        out.append(Finding(loc.file, loc.line, "streaming", f"route {route.name}: proxy_buffering is not off", route.name))
    read = loc.children("proxy_read_timeout")
    if not read or _seconds(read[-1].args[0]) < MIN_STREAM_TIMEOUT_S:
        where = read[-1] if read else loc
        out.append(Finding(where.file, where.line, "streaming",
                           f"route {route.name}: proxy_read_timeout below {MIN_STREAM_TIMEOUT_S}s", route.name))
    return out
