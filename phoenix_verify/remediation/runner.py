"""Turning a root cause's structured fix (`script`, `args`) into a command, whatever the JSON it came from says.

Only a script that exists under remediate/ runs, by its file name, with arguments that look like the scripts'
own (CTIDs, unit and volume names): no path, no option, no shell metacharacter. The scripts validate again.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from phoenix_verify import locations

SCRIPT = re.compile(r"[a-z0-9][a-z0-9-]*\.sh")
ARGUMENT = re.compile(r"[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]{0,255}")


class UnsafeFix(ValueError):
    """The fix is not a script under remediate/ with plain arguments; one line naming what is wrong."""


def command(fix: Any, apply: bool, allow_disruptive: bool, remediate_dir: Path | None = None) -> list[str]:
    """["bash", "<remediate>/x.sh", *args, --apply?, --allow-disruptive?] for a validated fix."""
    where = remediate_dir or locations.remediate_dir()
    if not isinstance(fix, dict) or not isinstance(fix.get("script"), str) or not isinstance(fix.get("args", []), list):
        raise UnsafeFix(f"not a structured fix {{script, args}}: {fix!r:.120}")
    script, args = fix["script"], fix.get("args", [])
    if not SCRIPT.fullmatch(script) or script == "lib.sh" or not (where / script).is_file():
        raise UnsafeFix(f"{script!r:.80}: not a script under {where}")
    for arg in args:
        if not isinstance(arg, str) or not ARGUMENT.fullmatch(arg):
            raise UnsafeFix(f"{script}: argument {arg!r:.80} is not a plain name or number")
    flags = (["--apply"] if apply else []) + (["--allow-disruptive"] if apply and allow_disruptive else [])
    return ["bash", str(where / script), *args, *flags]
