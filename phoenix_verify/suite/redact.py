"""One redactor for every output channel (terminal, HTML, JUnit, JSON, logs).

Peers redact ad hoc per tool; here every reporter passes text through `redact()` so a token can only leak
if it never went through the report layer at all.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***REDACTED***"
_PATTERNS = (
    re.compile(r"(PVEAPIToken[= ][^!\s=]+![^=\s]+=)[^\s'\";,]+"),
    re.compile(r"(?i)(Authorization:?\s*['\"]?\s*Bearer\s+)[^\s'\",]+"),
    re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(PVEAuthCookie=)[^\s;'\"]+"),
    re.compile(r"(?i)(CSRFPreventionToken['\"]?\s*[:=]\s*['\"]?)[^\s'\",]+"),
    re.compile(r"(?i)(\b(?:password|passwd|token_secret|api_key|secret)['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"),
    re.compile(r"\b(hf_)[A-Za-z0-9]{10,}"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),
)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact this exact value everywhere from now on (e.g. the target's API token secret)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.re.groups > 1 else ""), text)
    return text


def redact_obj(value: Any) -> Any:
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value


def known_secrets() -> Iterable[str]:
    return tuple(_secrets)
