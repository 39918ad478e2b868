#!/usr/bin/env bash
# Restarts a systemd unit inside a running container, then waits until the CT's declared ports listen again.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: service-restart.sh [--apply] CTID UNIT
Restarts a systemd unit inside a running container (pct exec CTID -- systemctl restart UNIT), then
waits (read-only, up to 120 s) until the ports the CT declares listen again.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 2 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_validate_unit "${REM_ARGS[1]}"
rem_plan_and_run service-restart "${REM_ARGS[0]}" "${REM_ARGS[1]}"
