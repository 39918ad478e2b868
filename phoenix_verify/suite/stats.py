"""Counters for `--phoenix-stats` (e.g. `pct exec` calls per CT), merged across xdist workers."""
from __future__ import annotations

from collections import Counter

_counts: Counter[tuple[str, str]] = Counter()


def count(kind: str, key: str | int, n: int = 1) -> None:
    _counts[(kind, str(key))] += n


def snapshot() -> dict[str, int]:
    """Serialisable form ("kind|key" -> n) that travels through xdist's workeroutput."""
    return {f"{kind}|{key}": n for (kind, key), n in _counts.items()}


def merge(data: dict[str, int]) -> None:
    for flat, n in data.items():
        kind, _, key = flat.partition("|")
        _counts[(kind, key)] += n


def by_kind() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (kind, key), n in sorted(_counts.items()):
        out.setdefault(kind, {})[key] = n
    return out


def reset() -> None:
    _counts.clear()
