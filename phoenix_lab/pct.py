"""The lab's `pct`: the Proxmox container CLI over real LXC, with PVE's output formats and exit codes.

/etc/pve/lxc/<id>.conf is the source of truth (the lab's state dir); errors print one line on stderr and
exit 255 like pct's run_cli_handler; `pct exec` passes the command's own exit code through.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_lab import lxc_runtime, rootfs
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError
from phoenix_model.pve_formats import (
    CtConfig,
    Net0,
    listsnapshot_output,
    parse_ct_config,
    parse_property_string,
    pct_config_output,
    pct_list_output,
    print_property_string,
    typed_value,
    write_ct_config,
)

PATHS = LabPaths.default()
SETTABLE = re.compile(r"^(hostname|memory|swap|cores|onboot|startup|features|unprivileged|description|tags|"
                      r"arch|ostype|nameserver|searchdomain|protection|cpulimit|cpuunits|net\d+|mp\d+|rootfs)$")
PCT_PATH = "/sbin:/bin:/usr/sbin:/usr/bin"
BOOLEAN_OPTS = {"current", "keep-env", "onboot", "unprivileged", "protection", "template", "full", "force", "purge",
                "skiplock", "console"}


class PctError(Exception):
    pass


def conf_path(ctid: int) -> Path:
    return PATHS.ct_conf(ctid)


def load(ctid: int) -> CtConfig:
    path = conf_path(ctid)
    if not path.exists():
        raise PctError(f"Configuration file 'nodes/pve/lxc/{ctid}.conf' does not exist")
    return parse_ct_config(path.read_text())


def save(ctid: int, cfg: CtConfig) -> None:
    path = conf_path(ctid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(write_ct_config(cfg))
    tmp.replace(path)


def vmid(text: str) -> int:
    if not re.fullmatch(r"\d+", text) or not 100 <= int(text) <= 999_999_999:
        raise PctError(f"400 Parameter verification failed.\nvmid: type check ('integer') failed - got '{text}'")
    return int(text)


def parse_opts(args: list[str]) -> tuple[list[str], dict[str, str]]:
    pos, opts = [], {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") or (arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit()):
            key = arg.lstrip("-")
            if "=" in key:
                key, value = key.split("=", 1)
            elif key in BOOLEAN_OPTS and (i + 1 >= len(args) or args[i + 1].startswith("-")):
                value = "1"  # PVE's getopt spec for booleans is `name:s`: a bare `--current` means 1
            else:
                i += 1
                if i >= len(args):
                    raise PctError(f"400 not enough arguments\npct: option --{key} needs a value")
                value = args[i]
            opts[key] = value
        else:
            pos.append(arg)
        i += 1
    return pos, opts


# ---------------------------------------------------------------- subcommands
def cmd_list(args: list[str]) -> int:
    rows = []
    for conf in sorted((PATHS.pve / "lxc").glob("*.conf")) if (PATHS.pve / "lxc").exists() else []:
        ctid = int(conf.stem)
        cfg = parse_ct_config(conf.read_text())
        rows.append((ctid, lxc_runtime.state(ctid), str(cfg.current.get("lock", "")), str(cfg.current.get("hostname", f"CT{ctid}"))))
    sys.stdout.write(pct_list_output(rows))
    return 0


def random_hwaddr() -> str:
    """A MAC in Proxmox's own OUI (BC:24:11), as `pct` assigns to a new interface."""
    return "BC:24:11:" + ":".join(f"{random.randrange(256):02X}" for _ in range(3))


def cmd_status(args: list[str]) -> int:
    pos, _ = parse_opts(args)
    ctid = vmid(pos[0])
    load(ctid)
    print(f"status: {lxc_runtime.state(ctid)}")
    return 0


def cmd_config(args: list[str]) -> int:
    pos, opts = parse_opts(args)
    ctid = vmid(pos[0])
    cfg = load(ctid)
    snap = opts.get("snapshot")
    if snap is not None:
        if snap not in cfg.snapshots:
            raise PctError(f"snapshot '{snap}' does not exist")
        sys.stdout.write(pct_config_output(cfg, cfg.snapshots[snap]))
    else:
        sys.stdout.write(pct_config_output(cfg))
    return 0


def cmd_exec(args: list[str]) -> int:
    if "--" in args:
        split = args.index("--")
        head, command = args[:split], args[split + 1:]
    else:
        head, command = args[:1], args[1:]
    pos, _ = parse_opts(head)
    ctid = vmid(pos[0])
    load(ctid)
    if lxc_runtime.state(ctid) != "running":
        raise PctError(f"container '{ctid}' not running!")
    if not command:
        raise PctError("missing command")
    env = dict(os.environ, PATH=PCT_PATH)
    sys.stdout.flush()
    return subprocess.run(lxc_runtime.attach_argv(ctid, command), env=env, check=False).returncode


def apply_setting(cfg: CtConfig, key: str, value: str) -> None:
    if not SETTABLE.match(key):
        raise PctError(f"400 Parameter verification failed.\n{key}: property is not defined in schema and the schema does not allow additional properties")
    if re.fullmatch(r"net\d+", key):
        net = parse_property_string(value, key)
        net.setdefault("type", "veth")
        if "hwaddr" not in net:
            old = parse_property_string(str(cfg.current.get(key, "")), key)
            net["hwaddr"] = old.get("hwaddr") or random_hwaddr()
        value = print_property_string(net, key)
    elif re.fullmatch(r"mp\d+|rootfs|features|startup", key):
        value = print_property_string(parse_property_string(value, key), key)
    cfg.current[key] = typed_value(key, value)


def cmd_set(args: list[str]) -> int:
    pos, opts = parse_opts(args)
    ctid = vmid(pos[0])
    cfg = load(ctid)
    before_fw = {k: Net0.parse(str(v)).firewall for k, v in cfg.current.items() if re.fullmatch(r"net\d+", k)}
    for key in [k.strip() for k in opts.pop("delete", "").split(",") if k.strip()]:
        cfg.current.pop(key, None)
    for key, value in opts.items():
        apply_setting(cfg, key, value)
    save(ctid, cfg)
    after_fw = {k: Net0.parse(str(v)).firewall for k, v in cfg.current.items() if re.fullmatch(r"net\d+", k)}
    if before_fw != after_fw:
        _firewall_changed()
    return 0


def _firewall_changed() -> None:
    """Changing `firewall` on a NIC re-plugs it on PVE; in the lab the compiled ruleset is reloaded."""
    from phoenix_lab import firewall

    firewall.apply(PATHS)


def _existing_ct(args: list[str], refuse_if_running: bool | None = None, message: str = "") -> int:
    """The CTID argument of a CT that exists, optionally refusing (with PVE's message) a running or stopped one."""
    pos, _ = parse_opts(args)
    ctid = vmid(pos[0])
    load(ctid)
    if refuse_if_running is not None and (lxc_runtime.state(ctid) == "running") == refuse_if_running:
        raise PctError(message.format(ctid=ctid))
    return ctid


def cmd_start(args: list[str]) -> int:
    ctid = _existing_ct(args, True, "CT {ctid} already running")
    rootfs.mount(ctid)
    lxc_runtime.start(ctid)
    _firewall_changed()
    return 0


def cmd_stop(args: list[str]) -> int:
    ctid = _existing_ct(args, False, "CT {ctid} not running")
    lxc_runtime.stop(ctid)
    return 0


def cmd_reboot(args: list[str]) -> int:
    """Shut down and start again, which applies pending changes such as mount points (as on Proxmox)."""
    cmd_stop(args)
    return cmd_start(args)


def cmd_create(args: list[str]) -> int:
    """`pct create <id> <template> [--hostname ...]`: the lab's template volume is its base image."""
    pos, opts = parse_opts(args)
    ctid = vmid(pos[0])
    if conf_path(ctid).exists():
        raise PctError(f"CT {ctid} already exists on node 'pve'")
    cfg = CtConfig()
    cfg.current.update({"arch": "amd64", "ostype": "debian"})
    storage = opts.pop("storage", "local")
    size = opts.pop("rootfs", f"{storage}:8").split(":")[-1]
    cfg.current["rootfs"] = f"{storage}:subvol-{ctid}-disk-0,size={size}G"
    for key, value in opts.items():
        apply_setting(cfg, key, value)
    rootfs.create_empty(ctid)
    save(ctid, cfg)
    return 0


def cmd_clone(args: list[str]) -> int:
    pos, opts = parse_opts(args)
    src, dst = vmid(pos[0]), vmid(pos[1])
    cfg = load(src)
    if conf_path(dst).exists():
        raise PctError(f"unable to create CT {dst} - CT {dst} already exists on node 'pve'")
    snap = opts.get("snapname")
    if snap is not None and snap not in cfg.snapshots:
        raise PctError(f"snapshot '{snap}' does not exist")
    section = cfg.snapshots[snap] if snap else cfg
    new = CtConfig(current={k: v for k, v in section.current.items() if k not in ("snaptime", "parent", "lock", "template", "description")},
                   lxc=list(section.lxc))
    storage = opts.get("storage") or str(new.current.get("rootfs", "local:")).split(":")[0]
    size = parse_property_string(str(new.current.get("rootfs", "")), "rootfs").get("size", "8G")
    new.current["rootfs"] = f"{storage}:subvol-{dst}-disk-0,size={size}"
    for key in [k for k in new.current if re.fullmatch(r"net\d+", k)]:
        net = parse_property_string(str(new.current[key]), key)
        net["hwaddr"] = random_hwaddr()
        new.current[key] = print_property_string(net, key)
    if "hostname" in opts:
        new.current["hostname"] = opts["hostname"]
    rootfs.copy_layer(rootfs.layer_dir(src, snap), dst)
    save(dst, new)
    return 0


def cmd_snapshot(args: list[str]) -> int:
    pos, opts = parse_opts(args)
    ctid, name = vmid(pos[0]), pos[1]
    if name in ("current", "vzdump") or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{1,39}", name):
        raise PctError(f"400 Parameter verification failed.\nsnapname: invalid format - invalid configuration ID '{name}'")
    cfg = load(ctid)
    if name in cfg.snapshots:
        raise PctError(f"snapshot name '{name}' already used")
    rootfs.snapshot_layer(ctid, name)
    section = CtConfig(current={k: v for k, v in cfg.current.items() if k not in ("lock", "digest", "description", "snapstate", "snaptime")},
                       lxc=list(cfg.lxc))
    if opts.get("description"):
        section.current["description"] = opts["description"] + "\n"
    section.current["snaptime"] = int(time.time())
    cfg.snapshots[name] = section
    cfg.current["parent"] = name
    save(ctid, cfg)
    return 0


def cmd_delsnapshot(args: list[str]) -> int:
    pos, _ = parse_opts(args)
    ctid, name = vmid(pos[0]), pos[1]
    cfg = load(ctid)
    if name not in cfg.snapshots:
        raise PctError(f"snapshot '{name}' does not exist")
    parent = cfg.snapshots.pop(name).current.get("parent")
    if cfg.current.get("parent") == name:
        if parent:
            cfg.current["parent"] = parent
        else:
            cfg.current.pop("parent", None)
    rootfs.delete_snapshot_layer(ctid, name)
    save(ctid, cfg)
    return 0


def cmd_listsnapshot(args: list[str]) -> int:
    pos, _ = parse_opts(args)
    ctid = vmid(pos[0])
    cfg = load(ctid)
    snaps = {n: s.current for n, s in cfg.snapshots.items()}
    sys.stdout.write(listsnapshot_output(snaps, cfg.current.get("parent")))
    return 0


def _inside(ctid: int, path: str) -> Path:
    if not path.startswith("/"):
        raise PctError(f"path '{path}' must be absolute")
    return rootfs.merged(ctid) / path.lstrip("/")


def cmd_push(args: list[str]) -> int:
    pos, opts = parse_opts(args)
    ctid, src, dst = vmid(pos[0]), Path(pos[1]), pos[2]
    load(ctid)
    rootfs.mount(ctid)
    target = _inside(ctid, dst)
    if not src.is_file():
        raise PctError(f"failed to open {src} for reading")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    uid = 100000 + int(opts.get("user", 0))
    gid = 100000 + int(opts.get("group", opts.get("user", 0)))
    os.chown(target, uid, gid)
    os.chmod(target, int(opts.get("perms", "644"), 8))
    return 0


def cmd_pull(args: list[str]) -> int:
    pos, _ = parse_opts(args)
    ctid, src, dst = vmid(pos[0]), pos[1], Path(pos[2])
    load(ctid)
    rootfs.mount(ctid)
    source = _inside(ctid, src)
    if not source.is_file():
        raise PctError(f"failed to open {src} for reading")
    shutil.copyfile(source, dst)
    return 0


def cmd_mount(args: list[str]) -> int:
    """`pct mount`: the stopped CT's root filesystem on the host, for reading it (Proxmox: /var/lib/lxc/<id>/rootfs)."""
    ctid = _existing_ct(args, True, "CT {ctid} is running - cannot mount")
    print(f"mounted CT {ctid} in '{rootfs.mount(ctid)}'")
    return 0


def cmd_unmount(args: list[str]) -> int:
    """The lab keeps every CT's overlay mounted (its rootfs is the overlay), so there is nothing to undo."""
    _existing_ct(args)
    return 0


def cmd_destroy(args: list[str]) -> int:
    pos, _ = parse_opts(args)
    ctid = vmid(pos[0])
    load(ctid)
    if lxc_runtime.state(ctid) == "running":
        raise PctError(f"CT {ctid} is running - destroy failed")
    rootfs.destroy(ctid)
    conf_path(ctid).unlink()
    fw = PATHS.fw_file(ctid)
    if fw.exists():
        fw.unlink()
    return 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "list": cmd_list, "status": cmd_status, "config": cmd_config, "exec": cmd_exec, "set": cmd_set,
    "start": cmd_start, "stop": cmd_stop, "reboot": cmd_reboot, "create": cmd_create, "clone": cmd_clone, "snapshot": cmd_snapshot,
    "delsnapshot": cmd_delsnapshot, "listsnapshot": cmd_listsnapshot, "push": cmd_push, "pull": cmd_pull,
    "mount": cmd_mount, "unmount": cmd_unmount, "destroy": cmd_destroy,
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print("ERROR: unknown command 'pct %s'\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]" % (args[0] if args else ""), file=sys.stderr)
        return 255
    try:
        if args[0] != "list" and len(args) < 2:
            raise PctError("400 not enough arguments")
        return COMMANDS[args[0]](args[1:])
    except (PctError, LabError) as exc:
        print(str(exc), file=sys.stderr)
        return 255
    except (IndexError, ValueError) as exc:
        print(f"400 not enough arguments ({exc})", file=sys.stderr)
        return 255


if __name__ == "__main__":
    sys.exit(main())
