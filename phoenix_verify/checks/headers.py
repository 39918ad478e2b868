"""Security-header rules (docs/contracts.md anchors §6, Mozilla Observatory thresholds), on one HTTPS response's headers."""
from __future__ import annotations

import re
from collections.abc import Mapping

HSTS_MIN_AGE = 15768000   # six months, Observatory's pass threshold
PRIVATE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def _get(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower())


def hsts_problems(headers: Mapping[str, str], min_age: int = HSTS_MIN_AGE) -> list[str]:
    value = _get(headers, "strict-transport-security")
    if value is None:
        return ["no Strict-Transport-Security header"]
    m = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    if not m:
        return [f"Strict-Transport-Security has no max-age: {value!r}"]
    if int(m.group(1)) < min_age:
        return [f"HSTS max-age {m.group(1)} < {min_age}"]
    return []


def nosniff_problems(headers: Mapping[str, str]) -> list[str]:
    value = _get(headers, "x-content-type-options")
    return [] if value and value.strip().lower() == "nosniff" else [f"X-Content-Type-Options is {value!r}, expected 'nosniff'"]


def framing_problems(headers: Mapping[str, str]) -> list[str]:
    xfo = (_get(headers, "x-frame-options") or "").strip().upper()
    csp = _get(headers, "content-security-policy") or ""
    fa = re.search(r"frame-ancestors\s+([^;]+)", csp, re.IGNORECASE)
    if xfo in {"DENY", "SAMEORIGIN"}:
        return []
    if fa and fa.group(1).strip().lower() in {"'none'", "'self'"}:
        return []
    return [f"no framing protection (X-Frame-Options {xfo or 'absent'}, CSP frame-ancestors {fa.group(1) if fa else 'absent'})"]


def referrer_problems(headers: Mapping[str, str]) -> list[str]:
    value = _get(headers, "referrer-policy")
    last = value.split(",")[-1].strip().lower() if value else None   # browsers use the last known token
    return [] if last in PRIVATE_REFERRER else [f"Referrer-Policy {value!r} is not private"]


def all_problems(headers: Mapping[str, str], hsts_min_age: int = HSTS_MIN_AGE) -> list[str]:
    return (hsts_problems(headers, hsts_min_age) + nosniff_problems(headers) + framing_problems(headers)
            + referrer_problems(headers))


def internal_endpoint_problems(path: str, status: int, text: str, own_answers: list[tuple[int, str]]) -> list[str]:
    """vLLM's unauthenticated /metrics, /version and /health must not be reachable through the gateway. Exposed:
    any non-refusal that looks like vLLM (its name, Prometheus text) or that is, byte for byte, what a vLLM server
    answers to `path` inside its own CT (`own_answers`: its /health is an empty 200, its /version a bare JSON)."""
    if status in (401, 403, 404):
        return []
    if "vllm" in text.lower() or "# HELP" in text:
        return [f"{path} answered {status} with vLLM's own text: {text[:120]!r}"]
    if status == 200 and any(own == 200 and body.strip() == text.strip() for own, body in own_answers):
        return [f"{path} answered {status} with a vLLM server's own answer {text.strip()[:80]!r}"]
    return []
