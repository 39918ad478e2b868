"""Plans the commands of one remediation script (remediate/*.sh) from the inventory and the live state.

The shell scripts validate their arguments and print or run what this module plans; the logic lives here so it
stays testable and the shell stays trivial. The live state is only read (pct status/config/listsnapshot, pvesh get,
files on the host), so planning is safe in dry-run mode, and a plan is empty when the state already matches the
inventory: that is what makes a second `--apply` a no-op.

stdout: a NUL-framed list of argument vectors (`<argc>\\0<arg>\\0...` per command), read by remediate/lib.sh.
stderr: notes for the operator. Exit codes: 0 planned, 1 the live state could not be read or is not fixable
here, 2 invalid argument, 3 needs a manual step, 4 disruptive and --allow-disruptive not given with --apply
(lib.sh passes the flags as REM_APPLY / REM_ALLOW_DISRUPTIVE).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Sequence

from phoenix_verify.remediation import firewall, host, lxc, services
from phoenix_verify.remediation.context import Command, Context, Plan, PlanFailure

PLANNERS: dict[str, Callable[..., Plan]] = {
    "ct-start": lxc.plan_ct_start,
    "ct-config": lxc.plan_ct_config,
    "net0-firewall": lxc.plan_net0_firewall,
    "ct-firewall-enable": firewall.plan_ct_firewall_enable,
    "ct-firewall-rules": firewall.plan_ct_firewall_rules,
    "cluster-firewall": firewall.plan_cluster_firewall,
    "shared-volume-owner": host.plan_shared_volume_owner,
    "idmap": lxc.plan_idmap,
    "ct-recreate": lxc.plan_ct_recreate,
    "mountpoint": lxc.plan_mountpoint,
    "service-restart": services.plan_service_restart,
    "vllm-restart": services.plan_vllm_restart,
    "docker-restart": services.plan_docker_restart,
    "nginx-reload": services.plan_nginx_reload,
    "gateway-config": services.plan_gateway_config,
    "app-script": services.plan_app_script,
    "gateway-cert": services.plan_gateway_cert,
    "template-snapshot": lxc.plan_template_snapshot,
    "subid": host.plan_subid,
    "admin-user": host.plan_admin_user,
    "host-bridge": host.plan_host_bridge,
    "gpu-passthrough": lxc.plan_gpu_passthrough,
    "qdrant-collection": services.plan_qdrant_collection,
    "inventory-fix": host.plan_inventory_fix,
}


def encode(commands: Sequence[Command]) -> bytes:
    out = bytearray()
    for command in commands:
        for item in (str(len(command)), *command):
            if "\0" in item:
                raise PlanFailure("internal error: a planned argument contains NUL")
            out += item.encode("utf-8", "surrogateescape") + b"\0"
    return bytes(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in PLANNERS:
        print(f"remediation_plan: unknown class {args[0] if args else ''!r}", file=sys.stderr)
        return 2
    planner = PLANNERS[args[0]]
    if len(args) - 1 != len(inspect.signature(planner).parameters) - 1:
        print(f"remediation_plan: wrong number of arguments for {args[0]}", file=sys.stderr)
        return 2
    try:
        plan = planner(Context(dict(os.environ)), *args[1:])
    except PlanFailure as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"{args[0]}: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 1
    for note in plan.notes:
        print(note, file=sys.stderr)
    for what in plan.disruptive:
        print(f"disruptive: this {what}", file=sys.stderr)
    if plan.disruptive and os.environ.get("REM_APPLY") == "1" and os.environ.get("REM_ALLOW_DISRUPTIVE") != "1":
        print(f"{args[0]}: refusing under plain --apply: re-run with --apply --allow-disruptive to do the above; nothing was changed",
              file=sys.stderr)
        return 4
    sys.stdout.buffer.write(encode(plan.commands))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
