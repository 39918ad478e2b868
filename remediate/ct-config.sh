#!/usr/bin/env bash
# Re-applies hostname, cores, memory, onboot, startup, net0 and features from the inventory
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: ct-config.sh [--apply] CTID
Re-applies hostname, cores, memory, onboot, startup, net0 and features from the inventory
with one pct set (only the options that differ), then the idmap/unprivileged part as idmap.sh does.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run ct-config "${REM_ARGS[0]}"
