#!/bin/bash
# Differential test of `lvsh ipvsadm` against the real ipvsadm 1.31.
# Why: lvsh promises that an ipvsadm command line works unchanged. "Works"
# means: the same success or failure for every line, the same bytes for every
# listing, and in the end the same kernel table. So every line of
# tools/lab/corpus/ipvsadm-commands.txt runs, in order, with the real ipvsadm
# in namespace A and with "$LVSH" ipvsadm in namespace B; at the end the real
# ipvsadm (the independent witness) saves both tables and they must be equal.
# Each corpus line also states its expected outcome, checked against the real
# ipvsadm, so a kernel or ipvsadm surprise shows up as what it is and not as
# an lvsh bug.
# Self-check (corpus and scenario, no lvsh involved):
#   LVSH_BIN=$PWD/tools/lab/corpus/ipvsadm-as-lvsh tools/lab/uml/run tools/lab/scenarios/uml/ipvsadm-differential.sh
# The time limit is generous: the scenario starts some 850 processes, 190 s alone in the guest here,
# and over 420 s while the qemu lab shares the host's two cores (on CPUs with AMX every UML context
# switch also moves the whole XSAVE area, see tools/lab/uml/xstate-shim.c).
# timeout: 900
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
trap 'echo "scenario error at line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus=$(realpath "$here/../../corpus/ipvsadm-commands.txt")

# The stand-in is ipvsadm itself, whose exit codes (2, 255, ...) are not
# lvsh's 1 (kernel refused) / 2 (bad input): skip that check for it.
check_codes=true
[ "$(basename "$LVSH")" != ipvsadm-as-lvsh ] || check_codes=false

# Two identical fresh namespaces. Real servers must be routable, so a dummy
# link holds an address in their IPv4 and IPv6 subnets; it has multicast on
# because the sync daemons send and join multicast on it.
A=ipvsadm-a B=ipvsadm-b
for ns in $A $B; do
    netns_add "$ns"
    ip -n "$ns" link add dum0 type dummy
    ip -n "$ns" link set dum0 multicast on up
    ip -n "$ns" addr add 10.1.0.1/24 dev dum0
    ip -n "$ns" addr add 2001:db8:1::1/64 dev dum0 nodad
    # Sync daemons are kernel threads per namespace: never leave one behind.
    at_exit "ip netns exec $ns ipvsadm --stop-daemon master >/dev/null 2>&1; ip netns exec $ns ipvsadm --stop-daemon backup >/dev/null 2>&1"
done

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
# show FILE: a command's output, indented; "(empty)" when there is none.
show() { if [ -s "$1" ]; then sed 's/^/        | /' "$1"; else echo "        (empty)"; fi; }

echo "corpus: $corpus"
echo "lvsh:   $LVSH$($check_codes || echo '  (the ipvsadm stand-in: exit-code classes not checked)')"
echo
echo "line exp     ipvsadm lvsh  lines-out command"
report=$LAB_TMP/report
: >"$report"
lineno=0 run=0 want_fail=0 bad=0
while IFS= read -r raw || [ -n "$raw" ]; do
    lineno=$((lineno + 1))
    [[ $raw =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $raw == *'#'* ]] || fail "corpus line $lineno states no expected outcome: $raw"
    cmd=$(trim "${raw%%#*}")
    expect=$(trim "${raw#*#}")
    [[ $expect =~ ^(ok|fails\ (input|kernel))(,\ (own-text|same-ns))?(:.*)?$ ]] ||
        fail "corpus line $lineno: bad expectation '# $expect' (want ok, 'fails input: why' or 'fails kernel: why')"
    outcome=${BASH_REMATCH[1]} class=${BASH_REMATCH[2]} flag=${BASH_REMATCH[4]}
    run=$((run + 1))
    [ "$outcome" = ok ] || want_fail=$((want_fail + 1))

    read -ra args <<<"$cmd"
    ra=0 rb=0
    ip netns exec "$A" ipvsadm "${args[@]}" </dev/null >"$LAB_TMP/a.out" 2>"$LAB_TMP/a.err" || ra=$?
    ip netns exec "$B" "$LVSH" ipvsadm "${args[@]}" </dev/null >"$LAB_TMP/b.out" 2>"$LAB_TMP/b.err" || rb=$?
    # same-ns: the listing depends on the namespace (the kernel's hash order),
    # so lvsh's is compared with the real ipvsadm's in lvsh's namespace B.
    expected_out=$LAB_TMP/a.out
    if [ "$flag" = same-ns ]; then
        [[ ${args[0]} == -[LlS]* || ${args[0]} == --list || ${args[0]} == --save ]] ||
            fail "corpus line $lineno: same-ns is only for listings (they must not change namespace B)"
        ip netns exec "$B" ipvsadm "${args[@]}" </dev/null >"$LAB_TMP/c.out" 2>/dev/null || true
        expected_out=$LAB_TMP/c.out
    fi

    problems=()
    # The corpus's claim about the real ipvsadm on this kernel.
    if [ "$outcome" = ok ] && [ $ra != 0 ]; then problems+=("corpus says ok but ipvsadm failed")
    elif [ "$outcome" != ok ] && [ $ra = 0 ]; then problems+=("corpus says it fails but ipvsadm succeeded"); fi
    # lvsh against ipvsadm.
    if [ $((ra == 0)) != $((rb == 0)) ]; then
        problems+=("success differs (ipvsadm $ra, lvsh $rb)")
    fi
    if [ "$flag" != own-text ] && ! cmp -s "$expected_out" "$LAB_TMP/b.out"; then
        problems+=("stdout differs$([ "$flag" != same-ns ] || echo " from real ipvsadm's in namespace B")")
    fi
    if $check_codes && [ $rb != 0 ]; then
        case $class in
            input) [ $rb = 2 ] || problems+=("lvsh exit $rb for bad input (want 2)") ;;
            kernel) [ $rb = 1 ] || [ $rb = 2 ] || problems+=("lvsh exit $rb for a kernel refusal (want 1, or 2)") ;;
        esac
    fi
    if [ $rb != 0 ] && [ ! -s "$LAB_TMP/b.err" ]; then problems+=("lvsh failed without a message on stderr"); fi

    printf '%4d %-7s %-7s %-5s %-9s %s\n' "$lineno" "${outcome%% *}" "$ra" "$rb" "$(wc -l <"$LAB_TMP/a.out")" "$cmd"
    # The messages are evidence too: show each side's first line of stderr.
    [ $ra = 0 ] || echo "                                    ipvsadm: $(head -n 1 "$LAB_TMP/a.err")"
    [ $rb = 0 ] || echo "                                    lvsh:    $(head -n 1 "$LAB_TMP/b.err")"
    if [ ${#problems[@]} -gt 0 ]; then
        bad=$((bad + 1))
        {
            echo "line $lineno: ipvsadm $cmd"
            echo "    corpus:  # $expect"
            for p in "${problems[@]}"; do echo "    PROBLEM: $p"; done
            echo "    ipvsadm (namespace A): exit $ra"
            echo "      stdout:"; show "$LAB_TMP/a.out"
            echo "      stderr:"; show "$LAB_TMP/a.err"
            echo "    lvsh ipvsadm (namespace B): exit $rb"
            echo "      stdout:"; show "$LAB_TMP/b.out"
            echo "      stderr:"; show "$LAB_TMP/b.err"
            if [ "$flag" != own-text ] && ! cmp -s "$expected_out" "$LAB_TMP/b.out"; then
                echo "      stdout diff (ipvsadm$([ "$flag" != same-ns ] || echo " in namespace B") -> lvsh):"
                diff -u --label ipvsadm --label lvsh "$expected_out" "$LAB_TMP/b.out" | sed 's/^/        /' || true
            fi
            echo
        } >>"$report"
        echo "     ^^^ ${problems[*]}"
    fi
done <"$corpus"

# The end state, read by the real ipvsadm in both namespaces, and by lvsh in B.
ip netns exec "$A" ipvsadm -S -n >"$LAB_TMP/save-a"
ip netns exec "$B" ipvsadm -S -n >"$LAB_TMP/save-b"
rc=0
ip netns exec "$B" "$LVSH" ipvsadm -S -n >"$LAB_TMP/save-b-lvsh" 2>"$LAB_TMP/save-b-lvsh.err" || rc=$?
echo
echo "== final table, ipvsadm -S -n in namespace A ($(wc -l <"$LAB_TMP/save-a") lines)"
cat "$LAB_TMP/save-a"
final_ok=true
if ! cmp -s "$LAB_TMP/save-a" "$LAB_TMP/save-b"; then
    final_ok=false
    echo "== FINAL TABLES DIFFER: real ipvsadm -S -n, namespace A (ipvsadm) vs B (lvsh)"
    diff -u --label A-ipvsadm --label B-lvsh "$LAB_TMP/save-a" "$LAB_TMP/save-b" || true
fi
if [ $rc != 0 ] || ! cmp -s "$LAB_TMP/save-b" "$LAB_TMP/save-b-lvsh"; then
    final_ok=false
    echo "== lvsh ipvsadm -S -n in B (exit $rc) differs from ipvsadm -S -n in B"
    diff -u --label ipvsadm --label lvsh "$LAB_TMP/save-b" "$LAB_TMP/save-b-lvsh" || true
    cat "$LAB_TMP/save-b-lvsh.err"
fi

echo
echo "== $run command lines, $want_fail of them ($((want_fail * 100 / run))%) expected to fail; $bad with problems"
if [ $bad -gt 0 ]; then
    echo
    echo "== problems, line by line"
    cat "$report"
fi
[ $bad = 0 ] || fail "$bad of $run corpus lines disagree (see above)"
$final_ok || fail "the final tables differ"
echo "all $run lines agree, final tables identical"
