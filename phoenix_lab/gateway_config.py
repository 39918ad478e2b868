"""The gateway's nginx configuration, rendered from the inventory in the shape strategy §3 asks for.

One file per service in sites-available (the `nginx_sites` shared volume): the service's upstream at http level
(enabled by a symlink in sites-enabled) and its locations in `locations/<service>.conf`, included by the TLS
server of the gateway. Security headers are set with `always` in every server block and never in a location,
so nginx's add_header inheritance cannot drop them. Passive health only (`max_fails`/`fail_timeout`): nginx OSS
has no `health_check`.

`/v1/models` goes to the chat model's server: nginx cannot merge two model lists, and the chat model is the one a
client lists models for; the embedding model is reachable (and named in the inventory) through `/v1/embeddings`.
vLLM's `/metrics`, `/version` and `/health` are not routed (only exact `/v1/...` paths are), so they stay internal.
"""
from __future__ import annotations

from dataclasses import dataclass

from phoenix_model.deployment import service_ports
from phoenix_model.inventory import Container, Inventory

HOSTNAME = "phoenix.local"
PORTAINER_HOST = "portainer.phoenix.local"
N8N_HOST = "n8n.phoenix.local"
CA_FILE = "phoenix-ca.crt"
SECURITY_HEADERS = (
    'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
    "add_header X-Content-Type-Options nosniff always;",
    "add_header X-Frame-Options DENY always;",
    "add_header Referrer-Policy strict-origin-when-cross-origin always;",
)
TLS = ("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_prefer_server_ciphers off;", "ssl_session_cache shared:SSL:1m;")
PROXY_COMMON = ("proxy_http_version 1.1;", "proxy_set_header Host $host;", "proxy_set_header X-Real-IP $remote_addr;",
                "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_set_header X-Forwarded-Proto $scheme;")
WEBSOCKET = ("proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;",
             "proxy_read_timeout 3600s;")
STREAMING = ("proxy_buffering off;", "proxy_cache off;", "proxy_read_timeout 600s;", "proxy_send_timeout 600s;",
             "proxy_connect_timeout 10s;", 'proxy_set_header Connection "";')


@dataclass(frozen=True)
class Layout:
    """Where the config lives; the CT's paths by default, a scratch prefix for `nginx -t` on the host."""
    ssl_dir: str = "/etc/nginx/ssl"
    sites_dir: str = "/etc/nginx/sites-available"
    enabled_dir: str = "/etc/nginx/sites-enabled"
    log_dir: str = "/logs/nginx"
    pid_file: str = "/run/nginx.pid"
    mime_types: str = "/etc/nginx/mime.types"


CT_LAYOUT = Layout()


@dataclass(frozen=True)
class SiteFile:
    name: str      # path relative to sites-available
    text: str
    enabled: bool  # symlinked into sites-enabled (locations/* are included, not enabled)


def _upstream(name: str, ct: Container, port: int) -> str:
    return f"upstream {name} {{\n    server {ct.network.ip.ip}:{port} max_fails=3 fail_timeout=10s;\n    keepalive 8;\n}}\n"


def _block(lines: tuple[str, ...], indent: str = "        ") -> str:
    return "".join(f"{indent}{line}\n" for line in lines)


def _location(path: str, proxy: str, extra: tuple[str, ...] = (), exact: bool = False) -> str:
    head = f"location = {path}" if exact else f"location {path}"
    return f"    {head} {{\n        proxy_pass {proxy};\n" + _block(PROXY_COMMON) + _block(extra) + "    }\n"


def _first_port(ct: Container) -> int:
    """The port the service listens on (declared, else the role's registered one)."""
    return service_ports(ct)[0]


def render(inv: Inventory, layout: Layout = CT_LAYOUT) -> list[SiteFile]:
    gateway = inv.gateway()
    if gateway is None:
        raise ValueError("the inventory declares no gateway CT (role 'gateway')")
    files: list[SiteFile] = []
    locations: list[str] = []
    vllm = [(c, c.vllm) for c in inv.by_role("vllm") if c.vllm]
    chat = [(c, spec) for c, spec in vllm if spec.model_type != "embedding"]
    embed = [(c, spec) for c, spec in vllm if spec.model_type == "embedding"]
    for ct in inv.by_role("qdrant")[:1]:
        files.append(SiteFile("qdrant.conf", _upstream("qdrant_backend", ct, _first_port(ct)), True))
        files.append(SiteFile("locations/qdrant.conf", _location("/qdrant/", "http://qdrant_backend/"), False))
        locations.append("qdrant")
    if chat or embed:
        upstreams, locs = "", ""
        if chat:
            upstreams += _upstream("vllm_chat", chat[0][0], chat[0][1].port)
            locs += _location("/v1/chat/completions", "http://vllm_chat", STREAMING, exact=True)
            locs += _location("/v1/models", "http://vllm_chat", exact=True)
        if embed:
            upstreams += _upstream("vllm_embeddings", embed[0][0], embed[0][1].port)
            locs += _location("/v1/embeddings", "http://vllm_embeddings", STREAMING, exact=True)
        files.append(SiteFile("vllm.conf", upstreams, True))
        files.append(SiteFile("locations/vllm.conf", locs, False))
        locations.append("vllm")
    for ct in inv.by_role("n8n")[:1]:
        files.append(SiteFile("n8n.conf", _upstream("n8n_backend", ct, _first_port(ct)), True))
        files.append(SiteFile("locations/n8n.conf", _location("/n8n/", "http://n8n_backend/", WEBSOCKET), False))
        locations.append("n8n")
    files.append(SiteFile("gateway.conf", _gateway_server(gateway, locations, layout), True))
    for ct in inv.by_role("portainer")[:1]:
        files.append(SiteFile("portainer.conf", _portainer(ct, layout), True))
    return files


def _tls_server_head(server_name: str, cert: str, layout: Layout, default: bool = False) -> str:
    return (
        f"server {{\n    listen 443 ssl http2{' default_server' if default else ''};\n"
        f"    server_name {server_name};\n"
        f"    ssl_certificate {layout.ssl_dir}/{cert}.crt;\n    ssl_certificate_key {layout.ssl_dir}/{cert}.key;\n"
        + _block(TLS, "    ") + _block(SECURITY_HEADERS, "    ")
        + f"    access_log {layout.log_dir}/access.log;\n    error_log {layout.log_dir}/error.log;\n"
    )


def _gateway_server(gateway: Container, locations: list[str], layout: Layout) -> str:
    ip = gateway.network.ip.ip
    return (
        "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      close;\n}\n\n"
        "server {\n    listen 80 default_server;\n    server_name _;\n"
        f"    access_log {layout.log_dir}/access.log;\n    error_log {layout.log_dir}/error.log;\n"
        "    return 301 https://$host$request_uri;\n}\n\n"
        + _tls_server_head(f"{HOSTNAME} {N8N_HOST} {ip}", HOSTNAME, layout, default=True)
        + "".join(f"    include {layout.sites_dir}/locations/{name}.conf;\n" for name in locations)
        + "    location / {\n        return 404;\n    }\n}\n"
    )


def _portainer(ct: Container, layout: Layout) -> str:
    port = _first_port(ct)
    return (
        f"upstream portainer_backend {{\n    server {ct.network.ip.ip}:{port} max_fails=3 fail_timeout=10s;\n}}\n\n"
        + _tls_server_head(PORTAINER_HOST, PORTAINER_HOST, layout)
        + "    location / {\n        proxy_pass https://portainer_backend;\n"
        "        proxy_ssl_verify on;\n"
        f"        proxy_ssl_trusted_certificate {layout.ssl_dir}/{CA_FILE};\n"
        f"        proxy_ssl_name {PORTAINER_HOST};\n        proxy_ssl_server_name on;\n"
        + _block(PROXY_COMMON) + _block(WEBSOCKET) + "    }\n}\n"
    )


def nginx_conf(layout: Layout = CT_LAYOUT) -> str:
    """Debian's nginx.conf reduced to what the gateway needs; logs go to the nginx_logs shared volume."""
    return f"""user www-data;
worker_processes 1;
pid {layout.pid_file};
error_log {layout.log_dir}/error.log;

events {{
    worker_connections 256;
}}

http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;
    include {layout.mime_types};
    default_type application/octet-stream;
    access_log {layout.log_dir}/access.log;
    include {layout.enabled_dir}/*;
}}
"""
