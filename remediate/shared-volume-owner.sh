#!/usr/bin/env bash
# Creates a shared volume's host directory and restores its declared owner (chown -R) and modes
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: shared-volume-owner.sh [--apply] VOLUME
Creates a shared volume's host directory and restores its declared owner (chown -R) and modes
(ssl_certs and nginx_sites: dirs 755, files 644; others 775/664).
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_volume "${REM_ARGS[0]}"
rem_plan_and_run shared-volume-owner "${REM_ARGS[0]}"
