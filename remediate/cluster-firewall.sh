#!/usr/bin/env bash
# Sets the datacenter firewall options (enable, policy_in, policy_out) from the inventory
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rem_parse_args "Usage: cluster-firewall.sh [--apply]
Sets the datacenter firewall options (enable, policy_in, policy_out) from the inventory
(pvesh set /cluster/firewall/options).
Dry-run by default: prints the exact commands it would run; --apply runs them.
Exit: 0 done or nothing to do, 1 failed, 2 invalid arguments, 3 needs a manual step." 0 "$@"
rem_plan_and_run cluster-firewall
