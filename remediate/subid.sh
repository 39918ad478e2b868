#!/usr/bin/env bash
# Delegates 100000:65536 to root in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: subid.sh [--apply]
Delegates 100000:65536 to root in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids).
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 0 "$@"
rem_plan_and_run subid
