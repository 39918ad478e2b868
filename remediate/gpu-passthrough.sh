#!/usr/bin/env bash
# Rewrites the GPU lxc lines to match gpu_assignment, removing stale /dev/nvidiaN lines.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: gpu-passthrough.sh [--apply] CTID
Rewrites the GPU lxc lines to match gpu_assignment, removing stale /dev/nvidiaN lines.
This needs a stop/start of a running container: --apply does it.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run gpu-passthrough "${REM_ARGS[0]}"
