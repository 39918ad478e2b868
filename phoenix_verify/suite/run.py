"""Running the conformance suite as a subprocess (diagnose, remediate's re-check, promote) and reading its JSON."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from phoenix_verify.target import TargetError

REPO = Path(__file__).resolve().parents[2]


def run_suite(args: list[str], report_dir: Path, target: str | None) -> dict[str, Any]:
    """pytest ARGS with reports into report_dir; its latest.json, or TargetError with pytest's last line."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--report-dir", str(report_dir),
           "-o", "addopts=--strict-markers --import-mode=importlib", *args]
    if target:
        cmd.append(f"--target={target}")
    proc = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=1800)
    path = report_dir / "latest.json"
    if not path.exists():
        text = (proc.stdout + proc.stderr).strip()
        raise TargetError(text.splitlines()[-1] if text else "pytest wrote no report")
    return json.loads(path.read_text())
