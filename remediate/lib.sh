# shellcheck shell=bash
# Shared library of the remediation scripts: argument validation, planning and the dry-run/apply runner.
#
# Every script sources this file, calls rem_parse_args with its usage text, validates its arguments with the
# rem_validate_* helpers and hands over to rem_plan_and_run. The plan (the exact commands to run) is computed by
# `python3 -m phoenix_verify.remediation.plan`, which reads the inventory and the live state (read-only) and
# prints nothing to do when the state already matches: that is what makes a second --apply a no-op.
# Commands are executed as argument vectors, never through eval or a shell, so no argument can inject a command.

export LC_ALL=C
REM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REM_REPO_ROOT="$(dirname "$REM_DIR")"
# The directory that holds the phoenix_verify package: the checkout, or site-packages when the scripts are the
# installed phoenix_verify/remediate (then REM_REPO_ROOT is the package itself).
if [[ -f $REM_REPO_ROOT/__init__.py ]]; then
    REM_IMPORT_ROOT="$(dirname "$REM_REPO_ROOT")"
else
    REM_IMPORT_ROOT="$REM_REPO_ROOT"
fi
REM_APPLY=0
REM_ALLOW_DISRUPTIVE=0
REM_ARGS=()

# rem_die CODE MESSAGE: one line on stderr, then exit CODE.
rem_die() {
    local code=$1
    shift
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
    exit "$code"
}

# rem_show ARG: an argument for an error message, on one line whatever it contains.
rem_show() {
    printf '%q' "$1"
}

# rem_parse_args USAGE COUNT "$@": --help, --apply, --allow-disruptive and exactly COUNT positional arguments; anything else exits 2.
rem_parse_args() {
    local usage=$1 want=$2 arg
    shift 2
    for arg in "$@"; do
        if [[ $arg == "--help" || $arg == "-h" ]]; then
            printf '%s\n' "$usage"
            exit 0
        fi
    done
    for arg in "$@"; do
        case $arg in
            --apply) REM_APPLY=1 ;;
            --allow-disruptive) REM_ALLOW_DISRUPTIVE=1 ;;
            -*) rem_die 2 "unknown option $(rem_show "$arg") (see --help)" ;;
            *) REM_ARGS+=("$arg") ;;
        esac
    done
    if ((${#REM_ARGS[@]} != want)); then
        rem_die 2 "expected $want argument(s), got ${#REM_ARGS[@]} (see --help)"
    fi
}

# rem_validate_ctid VALUE: a Proxmox VMID is 100..999999999, digits only, no leading zero.
rem_validate_ctid() {
    [[ $1 =~ ^[1-9][0-9]{2,8}$ ]] || rem_die 2 "invalid CTID $(rem_show "$1"): expected digits 100..999999999"
}

# rem_validate_unit VALUE: a systemd unit name; a leading '-' would be read as an option by systemctl.
rem_validate_unit() {
    [[ ${#1} -le 256 && $1 =~ ^[A-Za-z0-9@_.:][A-Za-z0-9@_.:-]*$ ]] ||
        rem_die 2 "invalid unit name $(rem_show "$1"): expected [A-Za-z0-9@_.:-]+ (optionally .service)"
}

# rem_validate_volume VALUE: syntax only here; the planner checks that the inventory declares it.
rem_validate_volume() {
    [[ ${#1} -le 128 && $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] ||
        rem_die 2 "invalid volume name $(rem_show "$1"): expected a shared volume name from the inventory"
}

# rem_quote ARG: shell-quote like Python's shlex.quote, so printed lines can be pasted into a shell.
rem_quote() {
    if [[ $1 =~ ^[A-Za-z0-9@%+=:,./_-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\"\'\"\'}"
    fi
}

# rem_cmdline ARG...: the shell-quoted command line.
rem_cmdline() {
    local out="" arg
    for arg in "$@"; do
        out+="${out:+ }$(rem_quote "$arg")"
    done
    printf '%s' "$out"
}

# rem_python: the interpreter that can import phoenix_verify ($PHOENIX_PYTHON, set by `phoenix-verify remediate`;
# the checkout's venv; then python3).
rem_python() {
    if [[ -n ${PHOENIX_PYTHON:-} ]]; then
        printf '%s' "$PHOENIX_PYTHON"
    elif [[ -x $REM_REPO_ROOT/.venv/bin/python ]]; then
        printf '%s' "$REM_REPO_ROOT/.venv/bin/python"
    else
        printf 'python3'
    fi
}

# rem_plan_and_run CLASS ARG...: compute the plan, print every command, run them only with --apply.
rem_plan_and_run() {
    local plan rc=0 n i arg line py
    py="$(rem_python)"
    plan="$(mktemp)"
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -f '$plan'" EXIT
    PYTHONPATH="$REM_IMPORT_ROOT${PYTHONPATH:+:$PYTHONPATH}" PHOENIX_REMEDIATE_DIR="$REM_DIR" \
        REM_APPLY="$REM_APPLY" REM_ALLOW_DISRUPTIVE="$REM_ALLOW_DISRUPTIVE" \
        "$py" -m phoenix_verify.remediation.plan "$@" >"$plan" </dev/null || rc=$?
    if ((rc != 0)); then
        exit "$rc"
    fi
    local -a cmd
    while IFS= read -r -u 3 -d '' n; do
        [[ $n =~ ^[0-9]+$ ]] || rem_die 1 "internal error: malformed plan"
        cmd=()
        for ((i = 0; i < n; i++)); do
            IFS= read -r -u 3 -d '' arg || rem_die 1 "internal error: truncated plan"
            cmd+=("$arg")
        done
        line="$(rem_cmdline "${cmd[@]}")"
        printf '%s\n' "$line"
        if ((REM_APPLY)); then
            "${cmd[@]}" </dev/null || rem_die 1 "failed (exit $?): $line"
        fi
    done 3<"$plan"
    if ((!REM_APPLY)) && [[ -s $plan ]]; then
        printf '%s\n' "dry-run: nothing was changed; re-run with --apply to run the commands above" >&2
    fi
}
