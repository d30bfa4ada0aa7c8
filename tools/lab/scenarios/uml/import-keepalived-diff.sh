#!/bin/bash
# Differential test of `lvsh import keepalived`: every sample of Debian's keepalived package that has
# virtual servers, and tools/lab/corpus/keepalived/*.conf (every LVS feature ipvsadm -S shows), is loaded by keepalived itself (checker process only, its checkers removed from a
# copy, so it adds every real server at once) in one network namespace, and imported by lvsh and
# applied in another; `ipvsadm -S -n`, sorted, and the real servers' thresholds (which -S leaves out)
# must be identical.
# keepalived runs only here, inside the user-mode-linux guest's namespaces, never on the host.
# Files that cannot be identical, with the reason (none today):
#   (keep this list empty unless keepalived itself refuses a sample)
# timeout: 300
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
[ -n "${LAB_NS:-}" ] && grep -q 'init.sh' /proc/1/cmdline || fail "only inside the lab guest (keepalived must never run on the host)"
command -v keepalived >/dev/null || fail "keepalived is not installed: run tools/setup"

samples=/usr/share/doc/keepalived/samples
declare -A expected_differences=()

# strip_checkers FILE: FILE without checker blocks (keepalived then counts every real server up).
strip_checkers() {
    python3 - "$1" <<'PY'
import re, sys
checkers = {"TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK",
            "PING_CHECK", "FILE_CHECK", "BFD_CHECK"}
depth, pending = 0, False
for line in open(sys.argv[1]):
    code = re.split(r"[#!]", line, 1)[0]
    words = code.split()
    if depth == 0 and not pending and words and words[0] in checkers:
        depth = code.count("{") - code.count("}")
        pending = "{" not in code   # the block's brace opens on a later line
        continue
    if depth > 0 or pending:
        if "{" in code:
            pending = False
        depth += code.count("{") - code.count("}")
        continue
    sys.stdout.write(line)
PY
}

# prepare NS: a namespace where every address is routable (IPVS wants routable destinations).
prepare() {
    netns_add "$1"
    in_ns "$1" ip link add dum0 type dummy
    in_ns "$1" ip link set dum0 up
    in_ns "$1" ip route add default dev dum0
    in_ns "$1" ip -6 route add default dev dum0
}

# settle NS: wait until `ipvsadm -S -n` in NS holds something and stays the same for a second.
settle() {
    local last= now i same=0
    for ((i = 0; i < 100; i++)); do
        now=$(in_ns "$1" ipvsadm -S -n)
        if [ -n "$now" ] && [ "$now" = "$last" ]; then
            same=$((same + 1))
            [ $same -ge 5 ] && return 0
        else
            same=0
        fi
        last=$now
        sleep 0.2
    done
    return 1
}

# state NS: `ipvsadm -S -n` sorted, then each real server's thresholds after its service.
state() {
    in_ns "$1" ipvsadm -S -n | sort
    in_ns "$1" ipvsadm -L -n --thresholds |
        awk '/^(TCP|UDP|SCTP|FWM) / { s = $1 " " $2; next } /->/ && s != "" { print "threshold", s, $2, $3, $4 }' | sort
}

n=0 failed=()
corpus=$(cd "$(dirname "$0")/../../corpus/keepalived" && pwd)
for f in "$samples"/keepalived.conf.* "$corpus"/*.conf; do
    grep -q '^[[:space:]]*virtual_server[[:space:]]' "$f" || continue
    name=$(basename "$f")
    n=$((n + 1))
    echo "== $name"
    strip_checkers "$f" >"$name.nocheck"
    ka=ka$n lv=lv$n
    prepare $ka
    prepare $lv
    in_ns $ka keepalived -n -l -C -f "$PWD/$name.nocheck" -p "$PWD/$name.pid" -c "$PWD/$name.cpid" \
        >"$name.keepalived.log" 2>&1 &
    kpid=$!
    _lab_pids+=("$kpid")
    settle $ka || { cat "$name.keepalived.log" >&2; fail "$name: keepalived programmed nothing (or never settled)"; }
    state $ka >"$name.keepalived"
    kill -KILL "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null || true
    "$LVSH" import keepalived "$f" >"$name.lvsh" 2>"$name.import.err" || { cat "$name.import.err" >&2; fail "$name: lvsh import failed"; }
    in_ns $lv "$LVSH" apply "$name.lvsh" >"$name.apply.log" 2>&1 || { cat "$name.apply.log" >&2; fail "$name: lvsh apply failed"; }
    state $lv >"$name.lvsh.save"
    if ! diff -u --label keepalived --label lvsh "$name.keepalived" "$name.lvsh.save" >"$name.diff"; then
        if [ -n "${expected_differences[$name]:-}" ]; then
            echo "   differs, as documented: ${expected_differences[$name]}"
        else
            cat "$name.diff"
            failed+=("$name")
        fi
    else
        echo "   identical ($(wc -l <"$name.keepalived") lines)"
    fi
    ip netns del $ka; ip netns del $lv
done
[ $n -ge 11 ] || fail "only $n samples with virtual servers found in $samples"
[ ${#failed[@]} = 0 ] || fail "${#failed[@]} of $n samples differ: ${failed[*]}"
echo "ok: $n samples identical"
