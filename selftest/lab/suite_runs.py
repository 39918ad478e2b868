"""Running the conformance suite from a lab self-test: one subprocess per run, its latest.json as the result."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def suite(report_dir: Path, *args: str) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "--report-dir", str(report_dir), *args],
                   cwd=REPO, capture_output=True, text=True, timeout=1200)
    return json.loads((report_dir / "latest.json").read_text())


def failing(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc["tests"] if t["outcome"] in ("failed", "error")]


def root_causes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(rc["layer"], rc["object"]) for rc in doc.get("root_causes", [])]
