"""The nightly history: one directory per run under `reports/history/<UTC stamp>/`, retention, and run-to-run diffs.

A run is what its latest.json says; the directory name only orders the runs and names them in links, so a run
dir can be copied elsewhere and still be read.
"""
from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_STAMP = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")
BASE_LAYERS = ("host", "lxc", "gateway", "vllm", "firewall")
OUTCOMES = ("passed", "failed", "skipped", "error")
FAILING = frozenset({"failed", "error"})
_SEVERITY = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass(frozen=True)
class Run:
    """One kept run: its directory name and its latest.json, with the test records keyed by nodeid."""

    stamp: str
    doc: dict[str, Any]
    tests: dict[str, dict[str, Any]]

    @classmethod
    def from_doc(cls, stamp: str, doc: dict[str, Any]) -> Run:
        return cls(stamp, doc, _by_nodeid(doc["tests"]))

    @property
    def failing(self) -> dict[str, dict[str, Any]]:
        return {nodeid: rec for nodeid, rec in self.tests.items() if rec["outcome"] in FAILING}

    @cached_property
    def totals(self) -> Counter[str]:
        return Counter(rec["outcome"] for rec in self.tests.values())

    @cached_property
    def counts(self) -> dict[str, Counter[str]]:
        """Tests per layer and outcome; only the layers that ran appear (the plot leaves a gap for the others)."""
        out: dict[str, Counter[str]] = {}
        for rec in self.tests.values():
            out.setdefault(layer_of(rec), Counter())[rec["outcome"]] += 1
        return out

    def root_causes_by_layer(self) -> Counter[str]:
        return Counter(str(rc.get("layer") or "other") for rc in self.doc.get("root_causes") or [])


@dataclass(frozen=True)
class RunDiff:
    """Failing tests compared by nodeid: new since the previous run, fixed (now run and not failing), still failing."""

    new: list[dict[str, Any]]
    fixed: list[dict[str, Any]]
    still: list[dict[str, Any]]


def layer_of(record: dict[str, Any]) -> str:
    return str(record.get("layer") or "other")


def _by_nodeid(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per test: a teardown error after a passed call is recorded twice, the worse outcome wins."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        seen = out.get(rec["nodeid"])
        if seen is None or _SEVERITY.get(rec["outcome"], 0) > _SEVERITY.get(seen["outcome"], 0):
            out[rec["nodeid"]] = rec
    return out


def new_run_dir(history: Path, now: datetime | None = None) -> Path:
    """Create history/<UTC stamp>/ (with a -N suffix if two runs start in the same second)."""
    stamp = (now or datetime.now(UTC)).strftime(STAMP_FORMAT)
    path, n = history / stamp, 1
    while path.exists():
        n += 1
        path = history / f"{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def run_dirs(history: Path) -> list[Path]:
    """The run directories, oldest first (the stamps sort chronologically); anything else in history/ is ignored."""
    if not history.is_dir():
        return []
    return sorted(p for p in history.iterdir() if p.is_dir() and _STAMP.match(p.name))


def prune(history: Path, keep: int) -> list[Path]:
    """Delete the oldest run directories beyond `keep`; returns what was deleted."""
    old = run_dirs(history)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


def load_runs(history: Path) -> tuple[list[Run], list[str]]:
    """The readable runs, oldest first, and one line per run dir that has no usable latest.json."""
    runs: list[Run] = []
    problems: list[str] = []
    for path in run_dirs(history):
        try:
            doc = json.loads((path / "latest.json").read_text(encoding="utf-8"))
            runs.append(Run.from_doc(path.name, doc))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path.name}: no usable latest.json ({exc.__class__.__name__}: {exc})")
    return runs, problems


def layers(runs: list[Run]) -> list[str]:
    """The suite's five layers always (a layer that never ran shows as such), then any other layer seen (e.g. static)."""
    seen = {layer for run in runs for layer in run.counts}
    return [*BASE_LAYERS, *sorted(seen - set(BASE_LAYERS))]


def sort_by_layer(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report order: by layer, then test id."""
    return sorted(records, key=lambda r: (layer_of(r), r["nodeid"]))


def diff(previous: Run, current: Run) -> RunDiff:
    before, now = previous.failing, current.failing
    return RunDiff(
        new=sort_by_layer([rec for nodeid, rec in now.items() if nodeid not in before]),
        fixed=sort_by_layer([current.tests[nodeid] for nodeid in before if nodeid in current.tests and nodeid not in now]),
        still=sort_by_layer([rec for nodeid, rec in now.items() if nodeid in before]),
    )
