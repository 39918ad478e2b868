"""Strategy §3.2.1 "SSL/TLS on all HTTP endpoints", judged on the wire: what a plaintext request to the gateway
may get back. Pure functions over `ss` output and HTTP answers (the probing is in the gateway tests)."""
from __future__ import annotations

# Answers that serve nothing: a refusal by status (nginx's 400 for plain HTTP on a TLS port, 421 misdirected,
# 426 upgrade required, 444/497 nginx-specific) or a redirect to https.
REFUSALS = frozenset({400, 403, 404, 405, 421, 426, 444, 495, 496, 497})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def nginx_ports(ss_output: str) -> set[int]:
    """TCP ports nginx listens on, from `ss -Htlnp` (the users:(("nginx",...)) column names the process)."""
    ports = set()
    for line in ss_output.splitlines():
        fields = line.split()
        if '"nginx"' not in line or len(fields) < 4:
            continue
        port = fields[3].rsplit(":", 1)[-1]
        if port.isdigit():
            ports.add(int(port))
    return ports


def plaintext_problem(status: int, location: str | None) -> str | None:
    """None when a plaintext answer is a redirect to https or a refusal; else what was served."""
    if status in REDIRECTS:
        return None if (location or "").lower().startswith("https://") else f"{status} redirect to {location!r}, not https"
    if status in REFUSALS:
        return None
    return f"served {status} over plaintext"
