#!/usr/bin/env bash
# Brings a docker CT's service container back: daemon started, stopped container started (or re-created).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: docker-restart.sh [--apply] CTID
Brings the service container of a docker CT back: starts docker.service (then the container) when the daemon
is down, starts the container when it is stopped, and re-runs the application script (app-script.sh) when the
container is missing or crash-looping; then waits (read-only, up to 120 s) until the declared ports listen.
Nothing to do when the container runs. Dry-run by default: prints the exact commands it would run; --apply
runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run docker-restart "${REM_ARGS[0]}"
