#!/usr/bin/env bash
# Redeploys the gateway config: on Proxmox re-runs phoenix_orchestrator.sh <ctid>, in the lab
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: gateway-config.sh [--apply] CTID
Redeploys the gateway config: on Proxmox re-runs phoenix_orchestrator.sh <ctid>, in the lab
phoenix-lab gateway-config <ctid>.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run gateway-config "${REM_ARGS[0]}"
