#!/usr/bin/env bash
# Certificate problems are not automatic: prints the manual step and exits 3.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: gateway-cert.sh [--apply]
Certificate problems are not automatic: prints the manual step and exits 3.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 0 "$@"
rem_plan_and_run gateway-cert
