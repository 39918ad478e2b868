#!/usr/bin/env bash
# Re-adds firewall=1 to net0, keeping every other net0 field (read from pct config).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: net0-firewall.sh [--apply] CTID
Re-adds firewall=1 to net0, keeping every other net0 field (read from pct config).
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run net0-firewall "${REM_ARGS[0]}"
