"""Inventory -> lab state, the way phoenix_orchestrator.sh realises it on a Proxmox host.

Create 900 from the image, snapshot templates, clone the others from the template snapshot, `pct set` their
config (net0 with firewall=1 where the firewall is enabled, as strategy §4 intends), write the .fw files,
prepare shared volumes with their declared owner and mode, push the services, start in boot order.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_lab import lxc_runtime, options, pct, rootfs, service_plan
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError, run
from phoenix_model.inventory import Container, Inventory
from phoenix_model.pve_formats import FirewallFile, FwRule, write_firewall_file

APPARMOR_PROFILE = "lxc-container-default-with-mounting-phoenix"
GPU_COMMON = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools")


def _pct(*args: str) -> None:
    code = pct.main(list(args))
    if code != 0:
        raise LabError(f"pct {' '.join(args)} failed (exit {code})")


def creation_order(inv: Inventory) -> list[Container]:
    done: list[int] = []
    order: list[Container] = []

    def visit(ct: Container) -> None:
        if ct.ctid in done:
            return
        if ct.clone_from is not None:
            visit(inv.container(ct.clone_from))
        done.append(ct.ctid)
        order.append(ct)

    for ct in inv.containers.values():
        visit(ct)
    return order


def net0(ct: Container) -> str:
    net = ct.network
    fw = ",firewall=1" if ct.firewall.enabled else ""
    return f"name={net.name},bridge={net.bridge}{fw},gw={net.gateway},hwaddr={net.mac},ip={net.ip},type=veth"


def ct_settings(ct: Container, inv: Inventory) -> list[str]:
    """`pct set` arguments for the declared config (apply_configurations + apply_shared_volumes + volumes)."""
    args = ["--hostname", ct.name, "--memory", str(ct.memory_mb), "--cores", str(ct.cores),
            "--onboot", "1" if ct.start_at_boot else "0",
            "--startup", f"order={ct.boot_order},up={ct.boot_delay},down={ct.boot_delay}",
            "--unprivileged", "1" if ct.unprivileged else "0", "--net0", net0(ct),
            "--rootfs", f"{ct.storage_pool}:subvol-{ct.ctid}-disk-0,size={ct.storage_size_gb}G"]
    if ct.swap_mb is not None:
        args += ["--swap", str(ct.swap_mb)]
    if "docker" in ct.features:  # Docker Engine in an unprivileged CT needs both (the lab's Docker layer keys on keyctl)
        args += ["--features", "keyctl=1,nesting=1"]
    elif any(opt.startswith("nesting=1") for opt in ct.pct_options):
        args += ["--features", "nesting=1"]
    mp = 0
    for mount in ct.shared_mounts:
        args += [f"--mp{mp}", f"{mount.host_path},mp={mount.mount_path}"]
        mp += 1
    for i, vol in enumerate(ct.dedicated_volumes, start=1):
        args += [f"--mp{mp}", f"{vol.pool}:subvol-{ct.ctid}-disk-{i},mp={vol.mount_point},size={vol.size_gb}G"]
        mp += 1
    return args


def raw_lines(ct: Container) -> list[tuple[str, str]]:
    """The lines the orchestrator appends with echo: AppArmor profile, idmap, GPU passthrough."""
    lines: list[tuple[str, str]] = []
    if ct.unprivileged and "docker" not in ct.features:
        lines.append(("lxc.apparmor.profile", APPARMOR_PROFILE))
        lines += [("lxc.idmap", "u 0 100000 65536"), ("lxc.idmap", "g 0 100000 65536")]
    if ct.gpus:
        for dev in GPU_COMMON:
            lines.append(("lxc.mount.entry", f"{dev} {dev.lstrip('/')} none bind,optional,create=file"))
        for gpu in ct.gpus:
            lines.append(("lxc.mount.entry", f"/dev/nvidia{gpu} dev/nvidia{gpu} none bind,optional,create=file"))
        lines += [("lxc.cgroup2.devices.allow", "c 195:* rwm"), ("lxc.cgroup2.devices.allow", "c 243:* rwm")]
    return lines


def firewall_file(ct: Container) -> FirewallFile:
    rules = [FwRule(type=r.direction, action=r.action, source=r.source, dest=r.dest, proto=r.proto, dport=r.dport,
                    comment=r.comment) for r in ct.firewall.rules]
    return FirewallFile(options={"enable": 1}, rules=rules)


def cluster_firewall(inv: Inventory) -> FirewallFile:
    host = inv.host
    return FirewallFile(options={"enable": int(host.firewall_enabled), "policy_in": host.policy_in, "policy_out": host.policy_out})


def write_ct_state(ct: Container, inv: Inventory, paths: LabPaths) -> None:
    _pct("set", str(ct.ctid), *ct_settings(ct, inv))
    cfg = pct.load(ct.ctid)
    cfg.lxc = [(k, v) for k, v in cfg.lxc if k not in ("lxc.apparmor.profile", "lxc.idmap") and not _is_gpu_line(k, v)]
    cfg.lxc += raw_lines(ct)
    pct.save(ct.ctid, cfg)
    fw_path = paths.fw_file(ct.ctid)
    if ct.firewall.enabled:
        fw_path.parent.mkdir(parents=True, exist_ok=True)
        fw_path.write_text(write_firewall_file(firewall_file(ct)))
    elif fw_path.exists():
        fw_path.unlink()


def _is_gpu_line(key: str, value: str) -> bool:
    return key.startswith("lxc.cgroup2.devices") or (key == "lxc.mount.entry" and "/dev/nvidia" in value)


def prepare_shared_volumes(inv: Inventory, paths: LabPaths) -> None:
    for name, vol in inv.shared_volumes.items():
        host = Path(vol.host_path)
        host.mkdir(parents=True, exist_ok=True)
        dmode, _ = service_plan.shared_dir_mode(name)
        os.chown(host, vol.owner_uid, vol.owner_gid)
        os.chmod(host, dmode)
    for f in service_plan.host_files(inv, paths):
        f.path.parent.mkdir(parents=True, exist_ok=True)
        f.path.write_bytes(f.content)
        os.chown(f.path, f.uid, f.gid)
        os.chmod(f.path, f.mode)
        parent = f.path.parent
        while parent != Path("/") and not any(str(parent) == v.host_path for v in inv.shared_volumes.values()):
            os.chown(parent, f.uid, f.gid)
            parent = parent.parent


def push_services(ct: Container, inv: Inventory) -> None:
    """Install the CT's service into its rootfs (the lab's application script), owned by CT root."""
    root = rootfs.mount(ct.ctid)
    for f in service_plan.ct_files(ct, inv, options.load(LabPaths.default()).chat_engine):
        target = root / f.path.lstrip("/")
        _mkdirs(target.parent, root)
        if target.is_symlink() or target.exists():
            target.unlink()
        if f.symlink_to is not None:
            if f.symlink_to:
                target.symlink_to(f.symlink_to)
                os.lchown(target, 100000, 100000)
            continue
        target.write_bytes(f.content)
        os.chown(target, 100000 + f.uid, 100000 + f.uid)
        os.chmod(target, f.mode)


def _mkdirs(path: Path, root: Path) -> None:
    missing = []
    while not path.exists() and path != root:
        missing.append(path)
        path = path.parent
    for d in reversed(missing):
        d.mkdir()
        os.chown(d, 100000, 100000)


def provision(inv: Inventory, paths: LabPaths, log: Callable[[str], None]) -> None:
    paths.pve.joinpath("lxc").mkdir(parents=True, exist_ok=True)
    paths.pve.joinpath("firewall").mkdir(parents=True, exist_ok=True)
    cluster = paths.fw_file()
    if not cluster.exists():
        cluster.write_text(write_firewall_file(cluster_firewall(inv)))
    prepare_shared_volumes(inv, paths)
    for ct in creation_order(inv):
        if paths.ct_conf(ct.ctid).exists():
            rootfs.mount(ct.ctid)
            continue
        start = time.monotonic()
        if ct.clone_from is None:
            _pct("create", str(ct.ctid), str(paths.base_image), "--storage", ct.storage_pool, "--rootfs", f"{ct.storage_pool}:{ct.storage_size_gb}")
            how = "created from the base image"
        else:
            src = inv.container(ct.clone_from)
            snap = src.template_snapshot or "pre-configured"
            _pct("clone", str(src.ctid), str(ct.ctid), "--snapname", snap, "--hostname", ct.name, "--storage", ct.storage_pool)
            how = f"cloned from {src.ctid}@{snap}"
        write_ct_state(ct, inv, paths)
        rootfs.umount(ct.ctid)  # its lower layers follow the features just set (docker CTs get the Docker layer)
        push_services(ct, inv)
        if ct.template_snapshot:
            _pct("snapshot", str(ct.ctid), ct.template_snapshot, "--description", f"template {ct.name}")
        log(f"[lab] ct{ct.ctid} {ct.name}: {how} ({time.monotonic() - start:.1f}s)")


def start_all(inv: Inventory, log: Callable[[str], None]) -> None:
    for ct in sorted(inv.services(), key=lambda c: (c.boot_order, c.ctid)):
        if ct.start_at_boot and lxc_runtime.state(ct.ctid) != "running":
            rootfs.mount(ct.ctid)
            lxc_runtime.start(ct.ctid)
            log(f"[lab] ct{ct.ctid} started (boot order {ct.boot_order})")


def run_app_scripts(inv: Inventory, log: Callable[[str], None], only: int | None = None) -> None:
    """Docker CTs: run the application script (image import, `docker run` with the script's flags) in the CT,
    as the orchestrator does with `pct exec <ctid> -- <script>` once the CT is up."""
    for ct in sorted(inv.services(), key=lambda c: (c.boot_order, c.ctid)):
        script = service_plan.app_script_path(ct)
        if script is None or (only is not None and ct.ctid != only) or lxc_runtime.state(ct.ctid) != "running":
            continue
        start = time.monotonic()
        proc = run(lxc_runtime.attach_argv(ct.ctid, ["/bin/sh", script]), check=False, timeout=300)
        if proc.returncode != 0:
            raise LabError(f"ct{ct.ctid}: {script} failed: {(proc.stderr or proc.stdout).strip()[-600:]}")
        log(f"[lab] ct{ct.ctid} {ct.name}: {service_plan.docker_image(ct)} running in Docker ({time.monotonic() - start:.1f}s)")


def wait_ready(inv: Inventory, log: Callable[[str], None], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = {ct.ctid: service_plan.ct_ready_ports(ct) for ct in inv.services() if ct.start_at_boot}
    while pending and time.monotonic() < deadline:
        for ctid, ports in list(pending.items()):
            out = run(lxc_runtime.attach_argv(ctid, ["ss", "-tlnH"]), check=False, timeout=20).stdout
            listening = {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if len(line.split()) > 3}
            if all(p in listening for p in ports):
                del pending[ctid]
        if pending:
            time.sleep(1)
    if pending:
        raise LabError("services did not come up in time: " + ", ".join(f"ct{c} ports {p}" for c, p in pending.items()))
    log("[lab] all services listening")


def destroy_all(paths: LabPaths) -> list[str]:
    done = []
    for conf in sorted((paths.pve / "lxc").glob("*.conf")) if (paths.pve / "lxc").exists() else []:
        ctid = int(conf.stem)
        lxc_runtime.stop(ctid, timeout=5)
        rootfs.umount(ctid)
        done.append(f"ct{ctid}")
    done += [f"ct{ctid} (left over from an earlier lab, killed)" for ctid in lxc_runtime.kill_leftovers(paths.lxc)]
    if paths.lxc.exists():
        for ct_dir in paths.lxc.iterdir():
            if ct_dir.name.isdigit():
                rootfs.umount(int(ct_dir.name))
    return done


def remove_state(paths: LabPaths, inv: Inventory | None) -> None:
    if inv is not None:
        for vol in inv.shared_volumes.values():
            shutil.rmtree(vol.host_path, ignore_errors=True)
    shutil.rmtree(paths.home, ignore_errors=True)
