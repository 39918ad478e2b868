#!/usr/bin/env bash
# A CT whose unprivileged flag differs from the inventory: Proxmox fixes it at creation, so this prints the manual
# step (back up, re-create from the template) and changes nothing; nothing to do when it matches.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: ct-recreate.sh [--apply] CTID
Says how to re-create a CT whose unprivileged flag differs from the inventory (Proxmox fixes it at creation:
pct set refuses it, and flipping it in the config would leave every file owned by the wrong uid range).
Never changes anything, with or without --apply.
Exit: 0 nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run ct-recreate "${REM_ARGS[0]}"
