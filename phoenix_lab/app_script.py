"""Re-run a CT's application script, as phoenix_orchestrator.sh's run_application_script does.

Pushes the CT's service files and units again (and, for the gateway, re-renders its sites into the shared
volume), then reloads or restarts the service: the fix for drift in a unit file or the gateway config.
"""
from __future__ import annotations

from phoenix_lab import lifecycle, lxc_runtime, provision, service_plan
from phoenix_lab.paths import LabPaths
from phoenix_lab.sh import LabError, run
from phoenix_model.inventory import load_inventory


def redeploy(ctid: int, log=print) -> None:
    inv = load_inventory(lifecycle.inventory_dir())
    ct = inv.container(ctid)
    unit = service_plan.unit_name(ct)
    if unit is None and not service_plan.is_docker(ct):
        raise LabError(f"ct{ctid} ({ct.name}) has no application script in the lab")
    paths = LabPaths.default()
    if ct.role == "gateway":
        provision.prepare_shared_volumes(inv, paths)
    provision.push_services(ct, inv)
    if lxc_runtime.state(ctid) != "running":
        log(f"ct{ctid} is not running: files redeployed, start it with pct start {ctid}")
        return
    if unit is None:   # a docker CT: the script replaces the container (image, ports, volume, restart policy)
        provision.run_app_scripts(inv, log, only=ctid)
        provision.wait_ready(inv, lambda _: None, timeout=60)
        log(f"ct{ctid}: application redeployed ({service_plan.docker_image(ct)} in Docker)")
        return
    attach = lambda *cmd: run(lxc_runtime.attach_argv(ctid, list(cmd)), timeout=60)
    attach("systemctl", "daemon-reload")
    if ct.role == "gateway":
        attach("nginx", "-t")
        attach("systemctl", "reload-or-restart", "nginx")
    else:
        attach("systemctl", "restart", unit)
    provision.wait_ready(inv, lambda _: None, timeout=60)
    log(f"ct{ctid}: application redeployed ({unit})")
