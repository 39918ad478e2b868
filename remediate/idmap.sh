#!/usr/bin/env bash
# Restores the orchestrator's lxc.idmap lines of a CT; a CT whose `unprivileged` differs is a manual step (re-create).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: idmap.sh [--apply] [--allow-disruptive] CTID
Restores the orchestrator's lxc.idmap lines of the CT (raw lxc.* keys have no pct set option).
unprivileged is fixed when a CT is created: when it differs, this prints the manual step (re-create the CT
from its template) and changes nothing.
A running container needs a stop/start: that takes --apply --allow-disruptive.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step, 4 needs --allow-disruptive." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run idmap "${REM_ARGS[0]}"
