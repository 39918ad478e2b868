#!/usr/bin/env bash
# Creates the inventory's admin user and adds it to group sudo when declared.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: admin-user.sh [--apply]
Creates the inventory's admin user and adds it to group sudo when declared.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 0 "$@"
rem_plan_and_run admin-user
