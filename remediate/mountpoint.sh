#!/usr/bin/env bash
# Re-adds missing declared mount points (mpN) and removes undeclared ones; every removal is listed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: mountpoint.sh [--apply] CTID
Re-adds missing declared mount points (mpN) and removes undeclared ones; every removal is listed.
On Proxmox a removed volume mount becomes unusedN: no data is destroyed.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run mountpoint "${REM_ARGS[0]}"
