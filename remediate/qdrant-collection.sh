#!/usr/bin/env bash
# Creates the embeddings collection with the declared dimension through qdrant's REST API,
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: qdrant-collection.sh [--apply] CTID
Creates the embeddings collection with the declared dimension through qdrant's REST API,
from inside the container (pct exec CTID -- curl ...); nothing to do when it exists.
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 1 "$@"
rem_validate_ctid "${REM_ARGS[0]}"
rem_plan_and_run qdrant-collection "${REM_ARGS[0]}"
