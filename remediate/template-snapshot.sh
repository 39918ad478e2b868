#!/usr/bin/env bash
# Creates the template snapshot a container declares (template_snapshot_name, e.g. pre-configured) when missing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: template-snapshot.sh [--apply] CTID
Creates the template snapshot a container declares (template_snapshot_name, e.g. pre-configured) when missing.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run template-snapshot "${REM_ARGS[0]}"
