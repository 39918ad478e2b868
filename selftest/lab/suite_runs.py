"""Running the conformance suite from a lab self-test (phoenix_verify.suite.run) and reading its result."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from phoenix_verify.suite.run import run_suite


def suite(report_dir: Path, *args: str) -> dict[str, Any]:
    return run_suite(["tests", *args], report_dir, None)


def failing(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc["tests"] if t["outcome"] in ("failed", "error")]


def root_causes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(rc["layer"], rc["object"]) for rc in doc.get("root_causes", [])]
