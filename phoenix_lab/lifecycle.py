"""`phoenix-lab up` and `down`: idempotent bring-up with a progress line per step, and a teardown without trace."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_lab import docker_layer, firewall, host, image, model_layer, options, pki, provision, service_plan
from phoenix_lab.paths import API_PORT, HOST_ADDR, NETNS, NODE, REPO, TOKEN_ID, LabPaths
from phoenix_lab.sh import LabError, run
from phoenix_model.inventory import Inventory, InventoryError, load_inventory

LAB_INVENTORY = REPO / "fixtures" / "lab"
API_HOST = HOST_ADDR.split("/")[0]
WRAPPERS = {"pct": "phoenix_lab.pct", "pvesh": "phoenix_lab.pvesh", "pve-firewall": "phoenix_lab.firewall"}


def derived_inventory(paths: LabPaths) -> Path:
    """Where `up --config-dir/--as-declared` writes the inventory it derived (gone with the lab's home)."""
    return paths.home / "inventory"


def inventory_dir() -> Path:
    """$PHOENIX_LAB_INVENTORY, else the inventory a running lab was derived with, else fixtures/lab."""
    if os.environ.get("PHOENIX_LAB_INVENTORY"):
        return Path(os.environ["PHOENIX_LAB_INVENTORY"])
    derived = derived_inventory(LabPaths.default())
    return derived if derived.is_dir() else LAB_INVENTORY


def _derive(paths: LabPaths, config_dir: Path | None, as_declared: bool, log: Callable[[str], None]) -> None:
    """translate(config_dir) + overlay (lab_shape only when as declared) into the lab's home; a lab that is up
    with another inventory must go down first (its CTs were built from that one)."""
    from phoenix_lab import reference

    try:
        docs = reference.derive(config_dir or reference.REFERENCE,
                                kinds=["lab_shape"] if as_declared else reference.KINDS)
    except reference.OverlayError as exc:
        raise LabError(str(exc)) from None
    out = derived_inventory(paths)
    current = {n: (out / n).read_text() for n in reference.FILES.values() if (out / n).exists()}
    if (host.netns_exists() or current) and current != {n: json.dumps(docs[k], indent=4) + "\n"
                                                         for k, n in reference.FILES.items()}:
        raise LabError("the lab is up with another inventory: run `phoenix-lab down` first")
    reference.write(docs, out)
    if as_declared:   # the config as declared is judged against its own schemas too (the healthy overlay is not)
        for schema in (config_dir or reference.REFERENCE).glob("*.schema.json"):
            shutil.copyfile(schema, out / schema.name)
    log(f"[lab] inventory: {config_dir or reference.REFERENCE} translated to lab addresses"
        f"{' (as declared: no conformance overlay)' if as_declared else ' + overlay'} -> {out}")


def up(log: Callable[[str], None] = print, chat_engine: str | None = None, config_dir: Path | None = None,
       as_declared: bool = False) -> Inventory:
    started = time.monotonic()
    paths = LabPaths.default()
    if config_dir or as_declared:
        _derive(paths, config_dir, as_declared, log)
    inv = load_inventory(inventory_dir())
    opts = _choose_options(paths, chat_engine)
    image.ensure_base_image(paths, log)
    if opts.chat_engine == "smollm2":
        model_layer.ensure(paths, log)
    if any(service_plan.is_docker(ct) for ct in inv.containers.values()):
        docker_layer.ensure(paths, log)
    for d in (paths.home, paths.run, paths.bin, paths.secrets):
        d.mkdir(parents=True, exist_ok=True)
    options.save(paths, opts)
    paths.pve.mkdir(parents=True, exist_ok=True)
    for step in host.ensure_host(paths) + host.ensure_admin_user(paths, inv.host.admin_user):
        log(f"[lab] host: {step}")
    _write_wrappers(paths)
    pki.ensure_ca(paths.pki)
    provision.provision(inv, paths, log)
    provision.start_all(inv, log)
    provision.run_app_scripts(inv, log)
    firewall.apply(paths)
    log("[lab] firewall compiled into nftables (pve-firewall status: enabled/running)")
    _start_api(paths, log)
    _write_target(paths, inv)
    provision.wait_ready(inv, log)
    log(f"[lab] up in {time.monotonic() - started:.1f}s; target: {paths.target}")
    return inv


def _choose_options(paths: LabPaths, chat_engine: str | None) -> options.LabOptions:
    """A lab that exists keeps its options; asking for others needs a `down` first (CTs are built on them)."""
    current = options.load(paths) if paths.options.exists() else None
    if current and chat_engine and chat_engine != current.chat_engine:
        raise LabError(f"the lab is up with chat engine {current.chat_engine!r}: run `phoenix-lab down` before "
                       f"`phoenix-lab up --chat-engine {chat_engine}`")
    return current or options.LabOptions(chat_engine=chat_engine or "echo")


def _write_wrappers(paths: LabPaths) -> None:
    python = sys.executable
    for name, module in WRAPPERS.items():
        path = paths.bin / name
        path.write_text(f"#!/bin/sh\nPHOENIX_LAB_HOME={paths.home} exec {python} -m {module} \"$@\"\n")
        path.chmod(0o755)


def _start_api(paths: LabPaths, log: Callable[[str], None]) -> None:
    from phoenix_lab import api_tokens

    pidfile = paths.run / "api.pid"
    if pidfile.exists() and _alive(int(pidfile.read_text())):
        return
    api_tokens.ensure_token(paths, TOKEN_ID)
    crt, key = pki.issue(paths.pki, "pve-api", [NODE, API_HOST], out_dir=paths.pki / "issued")
    with open(paths.run / "api.log", "ab") as logf:   # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{NETNS}", sys.executable, "-m", "phoenix_lab.api_server",
                                 "--state", str(paths.home), "--listen", f"{API_HOST}:{API_PORT}", "--cert", str(crt),
                                 "--key", str(key)],
                                stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(REPO))
    pidfile.write_text(str(proc.pid))
    for _ in range(50):
        if run(["ss", "-tlnH", f"sport = :{API_PORT}"], netns=True, check=False).stdout.strip():
            log(f"[lab] Proxmox API emulation on https://{API_HOST}:{API_PORT}")
            return
        time.sleep(0.1)
    raise LabError(f"the API emulation did not start: see {paths.run / 'api.log'}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _write_target(paths: LabPaths, inv: Inventory) -> None:
    gateway = inv.gateway()
    ca = paths.pki / "ca.pem"
    engine = options.load(paths).chat_engine
    paths.target.write_text(
        "# written by `phoenix-lab up`: the suite's target when nothing else is configured\n"
        f"[inventory]\nconfig_dir = \"{inventory_dir()}\"\n\n"
        f"[proxmox]\nnode = \"{NODE}\"\napi_url = \"https://{API_HOST}:{API_PORT}\"\nca_bundle = \"{ca}\"\n"
        f"token_id = \"{TOKEN_ID}\"\ntoken_secret_file = \"{paths.secrets / 'pve-token'}\"\n\n"
        "[access]\npct = \"local\"\n\n"
        f"[gateway]\naddress = \"{gateway.network.ip.ip if gateway else ''}\"\n"
        "hostnames = [\"phoenix.local\", \"n8n.phoenix.local\", \"portainer.phoenix.local\"]\n"
        f"ca_bundle = \"{ca}\"\n\n"
        f"[vllm]\n# the lab's chat engine is {engine!r}; only a real model can answer questions\n"
        f"chat_semantics = {'true' if engine == 'smollm2' else 'false'}\n\n"
        "[host]\n# the lab has no GPUs: the GPU driver check skips, saying so\ngpus = false\n\n"
        f"[lab]\nnetns = \"{NETNS}\"\nhome = \"{paths.home}\"\n"
    )


def down(log: Callable[[str], None] = print) -> None:
    paths = LabPaths.default()
    pidfile = paths.run / "api.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text())
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            log("[lab] API emulation stopped")
    try:
        inv = load_inventory(inventory_dir())
    except (InventoryError, OSError):  # the state must go even when the inventory is broken
        inv = None
    for ct in provision.destroy_all(paths):   # also without the netns: its CTs may outlive it
        log(f"[lab] {ct} stopped and unmounted")
    for step in host.teardown_host(paths):
        log(f"[lab] host: removed {step}")
    provision.remove_state(paths, inv)
    for d in Path("/sys/fs/cgroup").glob("*/lxc.pivot"):
        try:
            d.rmdir()
        except OSError:
            pass
    log("[lab] down")
