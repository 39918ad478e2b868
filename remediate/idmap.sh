#!/usr/bin/env bash
# Restores unprivileged and the orchestrator's lxc.idmap lines in /etc/pve/lxc/<id>.conf.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: idmap.sh [--apply] CTID
Restores unprivileged and the orchestrator's lxc.idmap lines in /etc/pve/lxc/<id>.conf.
This needs a stop/start of a running container: --apply does it.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run idmap "${REM_ARGS[0]}"
