#!/usr/bin/env bash
# Recreates the declared firewall rules of a container via pvesh: deletes all, then creates
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: ct-firewall-rules.sh [--apply] CTID
Recreates the declared firewall rules of a container via pvesh: deletes all, then creates
the inventory's rules (as Phoenix's lxc-manager.sh does). Nothing to do when they already match.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run ct-firewall-rules "${REM_ARGS[0]}"
