#!/usr/bin/env python3
"""Edits the current section of a Proxmox /etc/pve/lxc/<id>.conf (never its snapshot sections).

The Phoenix orchestrator edits raw `lxc.*` lines with `sed -i` and `echo >>`; that also hits snapshot sections
and appends after the last snapshot. This helper does the same edits on the current section only, atomically,
and is called by remediate/idmap.sh and remediate/gpu-passthrough.sh. Standard library only, so it runs with the
host's python3 on a Proxmox node.

Usage: pve-conf-edit.py FILE [--set KEY VALUE]... [--drop-raw LINE]... [--drop-raw-prefix PREFIX]...
                             [--add-raw LINE]...
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

SECTION = re.compile(r"^\[[a-z][a-z0-9_\-]+\]\s*$", re.IGNORECASE)


def split_sections(text: str) -> tuple[list[str], list[str]]:
    """Return (current section lines, the rest starting at the first snapshot/pending header)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if SECTION.match(line):
            return lines[:index], lines[index:]
    return lines, []


def edit_current(lines: list[str], args: argparse.Namespace) -> list[str]:
    """Apply the requested edits: keys stay sorted before the raw lxc.* lines, as PVE writes them."""
    drop_exact = {line.strip() for line in args.drop_raw}
    kept = [
        line for line in lines if line.strip() not in drop_exact and not any(line.startswith(p) for p in args.drop_raw_prefix)
    ]
    comments = [line for line in kept if line.startswith("#")]
    raw = [line for line in kept if line.startswith("lxc.")]
    keys = {}
    for line in kept:
        if line.startswith(("#", "lxc.")) or not line.strip():
            continue
        key, _, value = line.partition(":")
        keys[key.strip()] = value.strip()
    for key, value in args.set:
        keys[key] = value
    for line in args.add_raw:
        if line not in raw:
            raw.append(line)
    return comments + [f"{key}: {keys[key]}" for key in sorted(keys)] + raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"))
    parser.add_argument("--drop-raw", action="append", default=[], metavar="LINE")
    parser.add_argument("--drop-raw-prefix", action="append", default=[], metavar="PREFIX")
    parser.add_argument("--add-raw", action="append", default=[], metavar="LINE")
    args = parser.parse_args(argv)
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"pve-conf-edit.py: {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    current, rest = split_sections(text)
    new_lines = edit_current(current, args)
    body = "\n".join(new_lines) + "\n" + ("\n" + "\n".join(rest) + "\n" if rest else "")
    handle, tmp = tempfile.mkstemp(dir=args.file.parent, prefix=f".{args.file.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(body)
    os.chmod(tmp, args.file.stat().st_mode & 0o7777)
    os.replace(tmp, args.file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
