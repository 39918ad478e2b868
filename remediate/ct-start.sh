#!/usr/bin/env bash
# Starts a stopped container (pct start); nothing to do when it runs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: ct-start.sh [--apply] CTID
Starts a stopped container (pct start); nothing to do when it runs.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run ct-start "${REM_ARGS[0]}"
