"""A private fake Proxmox host for the remediation self-tests: fake `pct`, `pvesh`, `id`, `useradd`, `usermod`,
`phoenix-lab` executables that log their argv and keep a tiny state, so the scripts can be run with --apply without
touching the shared lab or this machine.

State layout under one directory (PHOENIX_PVE_DIR, like /etc/pve):
  lxc/<id>.conf     the container config (current section + snapshot sections), read and written by `pct`
  status.json       {"<id>": "running"|"stopped"}
  firewall.json     {"cluster": {options}, "ct": {"<id>": {"options": {...}, "rules": [...]}}}
  exec.json         {"<command line>": [rc, stdout, stderr]} canned answers for `pct exec`
  users.json        {"<user>": ["group", ...]}
  calls.jsonl       one JSON array per call: [program, arg, ...]

`install()` writes small launcher scripts that call `main(program, argv)` of this module.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from phoenix_model.pve_formats import CtConfig, parse_ct_config, pct_config_output, typed_value, write_ct_config

ROOT = Path(__file__).resolve().parents[2]
REMEDIATE = ROOT / "remediate"
LAB_INVENTORY = ROOT / "fixtures" / "lab"
SCRIPTS = sorted(p.name for p in REMEDIATE.glob("*.sh") if p.name != "lib.sh")
FAKE_PROGRAMS = ("pct", "pvesh", "id", "useradd", "usermod", "phoenix-lab")
MUTATING = {
    "pct": {"start", "stop", "reboot", "set", "snapshot", "exec"},
    "pvesh": {"set", "create", "delete"},
    "useradd": None,
    "usermod": None,
    "phoenix-lab": None,
}


def install(bin_dir: Path, python: str) -> None:
    """Create the fake executables in bin_dir (shebang = this interpreter)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in FAKE_PROGRAMS:
        script = bin_dir / name
        script.write_text(
            f"#!{python}\nimport importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('remediate_fakes', {str(Path(__file__))!r})\n"
            "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\n"
            f"sys.exit(module.main({name!r}, sys.argv[1:]))\n"
        )
        script.chmod(0o755)


def calls(state: Path) -> list[list[str]]:
    log = state / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def is_mutating(call: list[str]) -> bool:
    """Whether a logged call changes state (pct exec counts: it runs something inside a CT)."""
    program, args = call[0], call[1:]
    if program not in MUTATING or "--help" in args:
        return False
    verbs = MUTATING[program]
    if verbs is None:
        return True
    if program == "pct" and args[:1] == ["exec"]:
        readiness_wait = args[3:4] == ["timeout"] and args[-1].startswith("until ss ")
        read_only = args[3:5] in (["nginx", "-t"], ["systemctl", "is-active"], ["docker", "inspect"])
        return not read_only and "GET" not in args and not readiness_wait  # read-only probes
    return bool(args) and args[0] in verbs


def load(state: Path, name: str, default: object) -> object:
    path = state / name
    return json.loads(path.read_text()) if path.exists() else default


def save(state: Path, name: str, data: object) -> None:
    (state / name).write_text(json.dumps(data, indent=1))


def read_conf(state: Path, ctid: str) -> CtConfig:
    path = state / "lxc" / f"{ctid}.conf"
    if not path.exists():
        print(f"Configuration file 'nodes/pve/lxc/{ctid}.conf' does not exist", file=sys.stderr)
        sys.exit(255)
    return parse_ct_config(path.read_text())


def write_conf(state: Path, ctid: str, cfg: CtConfig) -> None:
    (state / "lxc" / f"{ctid}.conf").write_text(write_ct_config(cfg))


def pct(state: Path, args: list[str]) -> int:
    verb, ctid = args[0], args[1] if len(args) > 1 else ""
    statuses = load(state, "status.json", {})
    cfg = read_conf(state, ctid)
    if verb == "status":
        print(f"status: {statuses.get(ctid, 'stopped')}")
    elif verb == "config":
        sys.stdout.write(pct_config_output(cfg))
    elif verb in ("start", "stop", "reboot"):
        statuses[ctid] = "stopped" if verb == "stop" else "running"
        save(state, "status.json", statuses)
    elif verb == "set":
        options = args[2:]
        for option, value in zip(options[::2], options[1::2], strict=True):
            if option == "--delete":
                cfg.current.pop(value, None)
            else:
                cfg.current[option[2:]] = typed_value(option[2:], value)
        write_conf(state, ctid, cfg)
    elif verb == "listsnapshot":
        for name in cfg.snapshots:
            print(f"`-> {name:<27} 2026-01-01 00:00:00     no-description")
        print(" `-> current                                            You are here!")
    elif verb == "snapshot":
        cfg.snapshots[args[2]] = CtConfig(current=dict(cfg.current), lxc=list(cfg.lxc))
        write_conf(state, ctid, cfg)
    elif verb == "exec":
        canned = load(state, "exec.json", {})
        rc, out, err = canned.get(" ".join(args[3:]), [0, "", ""])
        sys.stdout.write(out)
        sys.stderr.write(err)
        return int(rc)
    return 0


def pvesh(state: Path, args: list[str]) -> int:
    verb, path = args[0], args[1]
    firewall = load(state, "firewall.json", {"cluster": {}, "ct": {}})
    match = re.fullmatch(r"/nodes/([^/]+)/lxc/(\d+)/firewall/(options|rules)(?:/(\d+))?", path)
    params = dict(zip((k[2:] for k in args[2::2]), args[3::2], strict=False))
    params.pop("output-format", None)
    if path == "/nodes":
        print(json.dumps([{"node": "pve", "status": "online"}]))
        return 0
    if path == "/cluster/firewall/options":
        target = firewall["cluster"]
        if verb == "get":
            print(json.dumps(target))
        else:
            target.update({k: (int(v) if v.isdigit() else v) for k, v in params.items()})
    elif match:
        ct = firewall["ct"].setdefault(match.group(2), {"options": {}, "rules": []})
        if match.group(3) == "options":
            if verb == "get":
                print(json.dumps(ct["options"]))
            else:
                ct["options"].update({k: (int(v) if v.isdigit() else v) for k, v in params.items()})
        elif verb == "get":
            print(json.dumps([{**rule, "pos": pos} for pos, rule in enumerate(ct["rules"])]))
        elif verb == "create":
            ct["rules"].insert(0, {k: (int(v) if k == "enable" else v) for k, v in params.items()})
        elif verb == "delete":
            del ct["rules"][int(match.group(4))]
    else:
        print(f"501 Method '{verb.upper()} {path}' not implemented", file=sys.stderr)
        return 2
    save(state, "firewall.json", firewall)
    return 0


def users(state: Path, program: str, args: list[str]) -> int:
    known = load(state, "users.json", {})
    user = args[-1]
    if program == "id":
        if user not in known:
            print(f"id: '{user}': no such user", file=sys.stderr)
            return 1
        print(" ".join(known[user]))
        return 0
    if program == "useradd":
        known[user] = [user]
    elif program == "usermod" and args[0] == "-aG":
        known.setdefault(user, [user]).append(args[1])
    save(state, "users.json", known)
    return 0


def main(program: str, args: list[str]) -> int:
    """Log the call, then answer it from (or apply it to) the state directory."""
    state = Path(os.environ["PHOENIX_PVE_DIR"])
    with (state / "calls.jsonl").open("a") as log:
        log.write(json.dumps([program, *args]) + "\n")
    if program == "pct":
        return pct(state, args)
    if program == "pvesh":
        return pvesh(state, args)
    if program in ("id", "useradd", "usermod"):
        return users(state, program, args)
    return 0
