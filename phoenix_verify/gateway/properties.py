"""Properties of the effective route table that strategy §3 asks of any Phoenix gateway, whatever its files
look like: TLS on every endpoint (§3.2.1 "SSL/TLS on all HTTP endpoints"), upstream verification ("Enable
upstream SSL verification"), security headers ("HSTS and other standard security headers"), every route reaching
a declared service (§3.1.2), OpenAI-compatible model routing (§3.3 "dynamic routing"), streaming-safe and
uncached API routes, one server per name, and no placeholder left from a template.

Each property is a function `(entries, cfg, inv) -> findings`; `check` runs them all.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from phoenix_model.inventory import Inventory
from phoenix_verify.gateway.nginx_lint import Config, Directive, Finding, _seconds
from phoenix_verify.gateway.route_table import RouteEntry

EMBED_PATH = re.compile(r"/embeddings?\b|/embed\b")
MODELS_PATH = re.compile(r"^/v1/?$|^/$")
API_PATH = re.compile(r"/v1\b|/api\b|/completions|/embeddings|/qdrant\b|/collections\b")
GENERATION_PATH = re.compile(r"/completions\b|/responses\b|/v1/?$|/v1/chat\b")
MIN_READ_TIMEOUT_S = 300
NGINX_DEFAULT_READ_TIMEOUT_S = 60
PLACEHOLDER = re.compile(r"(^|\.)(example\.(com|org|net)|your[-_]?(domain|host|server|name)[^ ]*|changeme|change[-_]me|"
                         r"placeholder|todo|fixme|xxx+|domain\.tld|server\.name)($|\.)|^<.*>$|^\{\{.*\}\}$|^\$\{.*\}$|"
                         r"^@\w+@$", re.IGNORECASE)
SECURITY_HEADERS = ("strict-transport-security", "x-content-type-options", "referrer-policy")
FRAMING = ("x-frame-options", "content-security-policy")

Property = Callable[[list[RouteEntry], Config, Inventory | None], list[Finding]]


def _f(where: Directive | RouteEntry, rule: str, message: str) -> Finding:
    return Finding(where.file, where.line, rule, message)


def _route(e: RouteEntry) -> str:
    return f"{e.port}{'/tls' if e.tls else ''} {','.join(e.server_names) or '_'} {e.location}"


def tls_everywhere(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """A plaintext listener may only redirect to https, refuse, or answer ACME challenges."""
    out = []
    for e in entries:
        if e.tls or e.action in ("acme", "none"):
            continue
        if e.action == "redirect" and "https://" in e.target:
            continue
        if e.action == "return" and (e.target.split()[0] in ("444", "400", "403", "404", "421", "426")):
            continue
        if e.protocol == "tcp" and e.scheme == "tls":
            continue        # TLS passthrough / re-encryption: the bytes on the wire are still TLS
        what = {"proxy": f"proxies to {e.target}", "static": "serves content", "redirect": f"redirects to {e.target}",
                "return": f"answers {e.target}"}.get(e.action, e.action)
        out.append(_f(e, "tls-everywhere", f"plaintext {_route(e)} {what}: only an https redirect or ACME is allowed"))
    return out


def security_headers(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Every TLS HTTP route sends HSTS and the standard headers, `always` (add_header does not merge scopes)."""
    out = []
    for e in entries:
        if not e.tls or e.protocol != "http" or e.action == "none":
            continue
        scope = next((s for s in e.scopes if any(d.name == "add_header" for d in s)), ())
        headers = [d for d in scope if d.name == "add_header" and d.args]
        names = {h.args[0].lower() for h in headers}
        missing = [n for n in SECURITY_HEADERS if n not in names]
        if not names & set(FRAMING):
            missing.append("x-frame-options (or CSP frame-ancestors)")
        if missing:
            at_location = bool(scope) and scope is e.scopes[0] and e.location != "*"
            what = _route(e) if at_location else f"TLS server {' '.join(e.server_names)} (port {e.port})"
            out.append(_f(e if at_location else (e.server or e), "security-headers", f"{what} lacks {', '.join(missing)}"))
        hsts = [h for h in headers if h.args[0].lower() == "strict-transport-security"]
        if hsts and "always" not in hsts[-1].args:
            out.append(_f(hsts[-1], "security-headers", "HSTS without 'always' is dropped on error responses"))
    return _unique(out)


def upstream_scheme(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """The proxy speaks what listens on the target port: no http:// to a TLS port, no HTTP proxy to gRPC."""
    out = []
    for e in entries:
        if e.action != "proxy" or e.scheme is None:
            continue
        for ep in e.endpoints:
            want = ep.guest.scheme if ep.guest else None
            if want is None or e.scheme in ("tcp", "tls"):
                continue
            ok = {"https": ("https",), "http": ("http",), "grpc": ("grpc", "grpcs")}.get(want, (want,))
            if e.scheme not in ok:
                out.append(_f(e, "upstream-scheme", f"{_route(e)} speaks {e.scheme} to {ep.address}, where "
                                                    f"{ep.guest.describe() if ep.guest else want} expects {want}"))
    return out


def upstream_verify(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Every https/grpcs upstream: proxy_ssl_verify on, a trusted CA, and a verify name that can match a cert."""
    out = []
    for e in entries:
        if e.action != "proxy" or e.scheme not in ("https", "grpcs", "tls"):
            continue
        prefix = "grpc" if e.scheme == "grpcs" else "proxy"
        verify = e.effective(f"{prefix}_ssl_verify")
        if verify is None or verify.args != ["on"]:
            out.append(_f(verify or e, "proxy-ssl-verify", f"{_route(e)} proxies to {e.target} without {prefix}_ssl_verify on"))
            continue
        if e.effective(f"{prefix}_ssl_trusted_certificate") is None:
            out.append(_f(verify, "proxy-ssl-verify", f"{_route(e)}: {prefix}_ssl_verify on without {prefix}_ssl_trusted_certificate"))
        name_d = e.effective(f"{prefix}_ssl_name")
        name = name_d.args[0] if name_d and name_d.args else re.sub(r"^[a-z]+://", "", e.target).split("/")[0].split(":")[0]
        problem = _not_a_cert_name(name, cfg)
        if problem:
            out.append(_f(name_d or e, "proxy-ssl-verify", f"{_route(e)} verifies the upstream as {name!r}: {problem}"))
    return out


def _not_a_cert_name(name: str, cfg: Config) -> str | None:
    if name.startswith("$"):
        return None      # decided per request ($host, $proxy_host): nginx checks it against the certificate
    upstreams = {d.args[0] for d in cfg.http if d.name == "upstream" and d.args}
    if name in upstreams:
        return "an upstream block name, which no certificate carries (set proxy_ssl_name)"
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if "." not in name or PLACEHOLDER.search(name):
        return "not a DNS name a certificate can carry"
    return None


def routes_reach_declared_guests(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Every proxied endpoint is a declared guest and port (a typo or a stale address is a dead route)."""
    if inv is None:
        return []
    out = []
    for e in entries:
        # upstream blocks and literal IPs are judged where they are written (nginx_lint upstream-undeclared);
        # a name in a single file may be an upstream defined in a file not given
        if e.target_kind == "upstream" or (e.target_kind == "literal" and (cfg.partial or _is_ip_target(e.target))):
            continue
        for ep in e.endpoints:
            if ep.guest is None and e.action == "proxy":
                via = f" for {ep.via!r}" if ep.via else ""
                out.append(_f(ep.source or e, "route-undeclared", f"{_route(e)} reaches {ep.address}{via}: no declared guest listens there"))
    return _unique(out)


def _is_ip_target(target: str) -> bool:
    host = re.sub(r"^[a-z]+://", "", target).split("/")[0].rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def model_routing(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Chat/completion routes reach chat models, embedding routes embedding models, and every model name a
    routing map accepts is served by the guest it maps to."""
    out = []
    for e in entries:
        if e.action != "proxy":
            continue
        kind = "embedding" if EMBED_PATH.search(e.path) else "chat" if re.search(r"/completions|/chat\b", e.path) else None
        for ep in e.endpoints:
            g = ep.guest
            if g is None or g.model_type is None:
                continue
            if kind is not None and g.model_type != kind:
                out.append(_f(e, "model-routing", f"{_route(e)} is an {kind} route but reaches {g.describe()}" if kind == "embedding"
                              else f"{_route(e)} is a {kind} route but reaches {g.describe()}"))
            if ep.via is not None and not ep.via.startswith("~") and ep.via.strip('"') not in (g.model, ""):
                out.append(_f(ep.source or e, "model-routing", f"{_route(e)} sends model {ep.via!r} to {g.describe()}, which serves "
                                                  f"{g.model!r}"))
    return _unique(out)


def model_list_route(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """A gateway that serves models must answer GET /v1/models (clients discover model names there)."""
    vllm = [e for e in entries if e.action == "proxy" and any(ep.guest and ep.guest.model for ep in e.endpoints)]
    # /v1/models itself, or a prefix location (/v1/, /) that hands it to a model server
    if not vllm or any(re.search(r"/v1/models\b", e.path) and e.action == "proxy" for e in entries) \
            or any(MODELS_PATH.search(e.path) for e in vllm):
        return []
    return [_f(vllm[0], "model-list-route", "model routes exist but no location serves /v1/models")]


def streaming(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Generation routes stream tokens: proxy_buffering off and a read timeout of minutes."""
    out = []
    for e in entries:
        generates = any(ep.guest and ep.guest.model_type == "chat" for ep in e.endpoints)
        if e.action != "proxy" or not (generates and GENERATION_PATH.search(e.path)):
            continue
        buffering = e.effective("proxy_buffering")
        if buffering is None or buffering.args != ["off"]:
            out.append(_f(buffering or e, "streaming", f"{_route(e)}: proxy_buffering is not off"))
        read = e.effective("proxy_read_timeout")
        seconds = _seconds(read.args[0]) if read and read.args else NGINX_DEFAULT_READ_TIMEOUT_S
        if seconds < MIN_READ_TIMEOUT_S:
            out.append(_f(read or e, "streaming", f"{_route(e)}: proxy_read_timeout {seconds:g}s is below {MIN_READ_TIMEOUT_S}s"))
    return out


def api_not_cached(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """API responses are per request (a cached completion is someone else's answer)."""
    out = []
    for e in entries:
        is_api = API_PATH.search(e.path) or any(ep.guest and ep.guest.model for ep in e.endpoints)
        cache = e.effective("proxy_cache")
        if e.action == "proxy" and is_api and cache is not None and cache.args and cache.args[0] != "off":
            out.append(_f(cache, "api-cached", f"{_route(e)}: API responses are cached in zone {cache.args[0]}"))
    return _unique(out)


def one_server_per_name(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """No (port, server_name) is served by two server blocks across the enabled files (nginx keeps the first)."""
    seen: dict[tuple[int, str], Directive] = {}
    out = []
    for e in entries:
        if e.server is None or e.protocol != "http":
            continue
        for name in e.server_names:
            if name in ("", "_"):
                continue
            first = seen.setdefault((e.port, name), e.server)
            if first is not e.server:
                where = next((d for d in e.server.children("server_name") if name in d.args), e.server)
                out.append(_f(where, "duplicate-server-name",
                              f"server_name {name} on port {e.port} is already served at {first.file}:{first.line}"))
    return _unique(out)


def no_placeholders(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    """Names left from a template (example.com, your-domain, {{host}}, ${HOST}) are not a deployed gateway."""
    out = []
    names = {"server_name", "proxy_ssl_name", "ssl_certificate", "ssl_certificate_key", "proxy_pass", "server"}
    seen = set()
    for e in entries:
        for scope in e.scopes:
            for d in scope:
                if d.name in names and (d.file, d.line) not in seen:
                    seen.add((d.file, d.line))
                    for arg in d.args:
                        host = re.sub(r"^[a-z]+://", "", arg).split("/")[-1 if d.name.startswith("ssl_") else 0]
                        if PLACEHOLDER.search(host):
                            out.append(_f(d, "placeholder", f"{d.name} {arg}: a placeholder, not a deployed name"))
    return out


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


PROPERTIES: tuple[Property, ...] = (tls_everywhere, security_headers, upstream_scheme, upstream_verify,
                                    routes_reach_declared_guests, model_routing, model_list_route, streaming,
                                    api_not_cached, one_server_per_name, no_placeholders)


RULES = ("tls-everywhere", "security-headers", "upstream-scheme", "proxy-ssl-verify", "route-undeclared", "model-routing",
         "model-list-route", "streaming", "api-cached", "duplicate-server-name", "placeholder")


def check(entries: list[RouteEntry], cfg: Config, inv: Inventory | None) -> list[Finding]:
    out: list[Finding] = []
    for prop in PROPERTIES:
        out += prop(entries, cfg, inv)
    return sorted(set(out), key=lambda f: (f.file, f.line, f.rule, f.message))
