"""The newest nightly run as a Prometheus textfile, for node_exporter's textfile collector.

Every layer x outcome pair is written, zeros included, so an alert on `phoenix_conformance_tests{outcome="failed"} > 0`
sees the series even on a green night; the exit status catches a night whose collection broke (no tests, all zeros)
and the last-run timestamp a nightly that stopped running.
"""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from phoenix_verify.nightly.history import OUTCOMES, Run

PREFIX = "phoenix_conformance"


def _label(value: str) -> str:
    """Label value escaping of the text exposition format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, help_text: str, samples: Sequence[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {PREFIX}_{name} {help_text}", f"# TYPE {PREFIX}_{name} gauge"]
    return lines + [f"{PREFIX}_{name}{labels} {value if isinstance(value, int) else f'{value:.3f}'}" for labels, value in samples]


def render(run: Run, layers: list[str]) -> str:
    started = float(run.doc.get("started") or 0)
    duration = float(run.doc.get("duration") or 0)
    causes = run.root_causes_by_layer()
    tests = [(f'{{layer="{_label(layer)}",outcome="{outcome}"}}', run.counts.get(layer, Counter())[outcome])
             for layer in layers for outcome in OUTCOMES]
    lines = [
        *_family("tests", "Tests of the last nightly conformance run, by layer and outcome.", tests),
        *_family("last_run_timestamp_seconds", "When the last nightly conformance run finished (Unix time).", [("", started + duration)]),
        *_family("duration_seconds", "Wall time of the last nightly conformance run.", [("", duration)]),
        *_family("exit_status", "pytest exit status of the last nightly run: 0 all passed, 1 failures, 2+ it could not run completely.",
                 [("", int(run.doc.get("exitstatus", -1)))]),
        *_family("root_causes", "Root causes diagnosed in the last nightly conformance run, by layer.",
                 [(f'{{layer="{_label(layer)}"}}', causes.get(layer, 0)) for layer in [*layers, *sorted(set(causes) - set(layers))]]),
    ]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same directory + rename, so a reader (node_exporter, a web server) never sees half
    a file; the temp name does not end in .prom, which the textfile collector would pick up."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; node_exporter usually runs as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
