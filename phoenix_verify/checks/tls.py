"""TLS comparisons on a presented certificate: the subjectAltNames a hostname must match, the expiry window.
The handshakes that obtain it are in access/tls.py."""
from __future__ import annotations

import datetime as dt

from cryptography import x509


def san_dns_names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


def san_matches(hostname: str, names: list[str]) -> bool:
    """Whether a SAN dNSName covers `hostname` as TLS clients match it (RFC 6125 §6.4.3): exact, case-insensitive;
    a `*` only as the whole leftmost label, standing for exactly one label, and never over fewer than two labels
    (`*.local` names no host)."""
    host = hostname.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in names):
        if name == host:
            return True
        label, _, rest = name.partition(".")
        if label == "*" and rest.count(".") >= 1 and "*" not in rest:
            first, _, host_rest = host.partition(".")
            if first and host_rest == rest:
                return True
    return False


def expiry_problems(cert: x509.Certificate, min_days: int, now: dt.datetime | None = None) -> list[str]:
    now = now or dt.datetime.now(dt.UTC)
    left = cert.not_valid_after_utc - now
    if left < dt.timedelta(days=min_days):
        return [f"certificate expires {cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days left, window {min_days})"]
    return []
