#!/usr/bin/env bash
# Runs nginx -t inside the container; reloads (or restarts) nginx only if it passes, else exits 1
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: nginx-reload.sh [--apply] CTID
Runs nginx -t inside the container; reloads (or restarts) nginx only if it passes, else exits 1
with the nginx error.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run nginx-reload "${REM_ARGS[0]}"
