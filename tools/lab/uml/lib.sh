# Helpers for lab scenarios; source with:  . "${LAB_LIB:?run via tools/lab/uml/run}"
# A scenario runs as root inside user-mode-linux, in its own network
# namespace ($LAB_NS, lo up), with cwd and HOME a scratch dir ($LAB_TMP, tmpfs).
# Anything started or created through these helpers is removed at exit; to
# add your own cleanup use `at_exit CMD`, do not replace the EXIT trap.
# Sourcing turns on `set -euo pipefail`: any failing command fails the scenario.
set -euo pipefail

LVSH=${LVSH_BIN:-lvsh}
_lab_ns=() _lab_pids=() _lab_exit=()

at_exit() { _lab_exit+=("$*"); }
_lab_cleanup() {
    local rc=$? i
    set +e
    for ((i = ${#_lab_exit[@]} - 1; i >= 0; i--)); do eval "${_lab_exit[i]}"; done
    [ ${#_lab_pids[@]} = 0 ] || kill "${_lab_pids[@]}" 2>/dev/null
    for i in "${_lab_ns[@]}"; do
        ip netns pids "$i" 2>/dev/null | xargs -r kill -KILL
        ip netns del "$i" 2>/dev/null
    done
    return $rc
}
trap _lab_cleanup EXIT
# Without these a TERM from the harness's timeout would skip the EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT

fail() { echo "FAIL: $*" >&2; exit 1; }

# assert_eq EXPECTED ACTUAL [WHAT]: compare texts, show a diff if they differ.
assert_eq() {
    [ "$1" != "$2" ] || return 0
    printf '%s\n' "$1" >"$LAB_TMP/expected" && printf '%s\n' "$2" >"$LAB_TMP/actual"
    assert_file_eq "$LAB_TMP/expected" "$LAB_TMP/actual" "${3:-value}"
}
# assert_file_eq EXPECTED_FILE ACTUAL_FILE [WHAT]
assert_file_eq() {
    diff -u --label expected --label actual "$1" "$2" >&2 || fail "${3:-$2} differs (see diff above)"
}

# first_line TEXT: its first line, without a pipe. Under pipefail, `printf ... | head -n 1` fails
# with SIGPIPE (141) when head is gone before the writer's last write (bash writes line by line).
first_line() { printf '%s\n' "${1%%$'\n'*}"; }

# need_lvsh: fail clearly when the lvsh binary was not built or passed in.
need_lvsh() { [ -x "$LVSH" ] || fail "lvsh binary not found at '$LVSH' (build it, or set LVSH_BIN)"; }

# netns_add NAME: a fresh namespace with lo up, deleted at exit.
netns_add() {
    ip netns add "$1" && _lab_ns+=("$1")
    ip -n "$1" link set lo up
}

# in_ns NAME CMD...: run a program (not a shell function) in namespace NAME.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# veth_pair NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN: a link between two
# namespaces ($LAB_NS is the scenario's own), both ends up; an empty
# address is skipped. IPv6 addresses skip DAD so they work at once.
veth_pair() {
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    _lab_if_up "$1" "$2" "$3"
    _lab_if_up "$4" "$5" "$6"
}
_lab_if_up() {
    if [ -n "$3" ]; then
        ip -n "$1" addr add "$3" dev "$2" $([[ $3 == *:* ]] && echo nodad)
    fi
    ip -n "$1" link set "$2" up
}

# serve_tcp NS ADDR PORT TEXT: answer every connection to ADDR:PORT with
# TEXT and a newline; returns once the server listens. TEXT goes through a
# file because socat's address syntax would cut it at a colon.
serve_tcp() {
    local ns=$1 addr=$2 port=$3 file="$LAB_TMP/serve-${#_lab_pids[@]}.txt" listen
    printf '%s\n' "$4" >"$file"
    if [[ $addr == *:* ]]; then listen="TCP6-LISTEN:$port,bind=[$addr]"; else listen="TCP4-LISTEN:$port,bind=$addr"; fi
    ip netns exec "$ns" socat "$listen,reuseaddr,fork" "SYSTEM:cat $file" &
    _lab_pids+=($!)
    wait_port "$ns" "$port"
}

# wait_log PATTERN [SECONDS]: until ./daemon.log (where the daemon scenarios send lvsh daemon's log)
# holds a line matching PATTERN; else prints the log and fails.
wait_log() {
    local i
    for ((i = 0; i < ${2:-20} * 10; i++)); do
        grep -q -- "$1" daemon.log && return 0
        sleep 0.1
    done
    cat daemon.log >&2
    fail "the daemon's log never said '$1'"
}

# stop_daemon: SIGTERM to the scenario's lvsh daemon ($daemon); fails unless it exits 0.
stop_daemon() {
    kill -TERM "$daemon"
    local rc=0
    wait "$daemon" || rc=$?
    assert_eq 0 "$rc" "the daemon's exit code after SIGTERM"
}

# wait_port NS PORT [SECONDS]: wait until something listens on TCP PORT in NS.
wait_port() {
    local i
    for ((i = 0; i < ${3:-10} * 10; i++)); do
        [ -z "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ] || return 0
        sleep 0.1
    done
    fail "nothing listens on tcp port $2 in namespace $1"
}

# tcp_get NS ADDR PORT: connect from NS and print what the server sends.
tcp_get() {
    ip netns exec "$1" timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && cat <&3' "$2" "$3" ||
        fail "no answer from $2 port $3 (from namespace $1)"
}
