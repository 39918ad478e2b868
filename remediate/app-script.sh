#!/usr/bin/env bash
# Re-runs a CT's application script: on Proxmox phoenix_orchestrator.sh <ctid>, in the lab
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: app-script.sh [--apply] CTID
Re-runs a CT's application script: on Proxmox phoenix_orchestrator.sh <ctid>, in the lab
phoenix-lab app-script <ctid> (units and config regenerated from the inventory, service restarted).
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run app-script "${REM_ARGS[0]}"
