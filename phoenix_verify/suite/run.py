"""Running the conformance suite as a subprocess (diagnose, remediate's re-check, promote) and reading its JSON."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from phoenix_verify.suite.check import pytest_args
from phoenix_verify.target import TargetError


def run_suite(args: list[str], report_dir: Path, target: str | None) -> dict[str, Any]:
    """pytest ARGS with reports into report_dir; its latest.json, or TargetError with pytest's last line."""
    extra = [f"--target={Path(target).resolve()}"] if target else []
    cmd = [sys.executable, "-m", "pytest", *pytest_args(["-q", "--report-dir", str(report_dir.resolve()), *extra, *args])]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    path = report_dir / "latest.json"
    if not path.exists():
        text = (proc.stdout + proc.stderr).strip()
        raise TargetError(text.splitlines()[-1] if text else "pytest wrote no report")
    return json.loads(path.read_text())
