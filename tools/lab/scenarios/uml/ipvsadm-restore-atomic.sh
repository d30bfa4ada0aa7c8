#!/bin/bash
# `lvsh ipvsadm -R` is all or nothing, where the real `ipvsadm -R` is not.
# Why: restoring a saved table is how people reload LVS; a file with one bad
# line must not leave the kernel half-loaded. lvsh validates the whole input
# first and applies nothing if any line is bad (exit 2, bad input; a clash
# with the kernel's table may also be reported as 1), naming the line.
# Checks, each against the real `ipvsadm -S -n` as witness:
#   1. a valid 50-line input loads and gives the same table as real ipvsadm -R;
#   2. ten good lines plus one bad line (bad address, unknown option, a
#      service that already exists in the kernel, a duplicate within the
#      input), the bad line placed first, in the middle and last: non-zero
#      exit, the line number in the message, and the table byte-identical;
#   3. the contrast: the real ipvsadm -R applies the good lines around a bad
#      one (shown in the log, asserted so a change of ipvsadm is noticed).
# With the ipvsadm stand-in (tools/lab/corpus/ipvsadm-as-lvsh) part 2 fails:
# that is the difference this scenario exists to show.
# timeout: 180
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

# This namespace is lvsh's; "witness" gets the same input from real ipvsadm.
W=restore-witness
netns_add "$W"
for ns in "$LAB_NS" "$W"; do
    ip -n "$ns" link add dum0 type dummy
    ip -n "$ns" link set dum0 up
    ip -n "$ns" addr add 10.1.0.1/24 dev dum0
    ip -n "$ns" addr add 2001:db8:1::1/64 dev dum0 nodad
done

problems=()
problem() { echo "  PROBLEM: $*"; problems+=("$*"); }
save() { ipvsadm -S -n; }   # in this namespace

# --- 1. a valid 50-line input ------------------------------------------------
# Ten services of every kind (tcp, udp, sctp, fwmark v4/v6, IPv6, persistence,
# sched flags, a persistence engine, tunnels), five lines each.
valid=$LAB_TMP/valid.txt
{
    svc() { echo "-A $1 $2"; for i in 1 2 3 4; do echo "-a $1 -r $("$3" "$i") $4 -w $i"; done; }
    v4() { echo "10.1.0.$((n * 10 + $1))"; }
    v4p() { echo "10.1.0.$((n * 10 + $1)):8080"; }
    v6() { echo "[2001:db8:1::$((n * 10 + $1))]:8080"; }
    v6bare() { echo "2001:db8:1::$((n * 10 + $1))"; }
    n=1 svc "-t 198.51.100.1:80" "-s rr" v4p -m
    n=2 svc "-t 198.51.100.2:443" "-s wlc -p 300" v4 -g
    n=3 svc "-u 198.51.100.3:53" "-s wrr" v4p -m
    n=4 svc "-f 10" "-s sh -b sh-port" v4 -m
    n=5 svc "-t [2001:db8:100::10]:80" "-s lc" v6 -m
    n=6 svc "-t 198.51.100.6:8080" "-s mh -b mh-port" v4 "-i --tun-type gue --tun-port 6080"
    n=7 svc "-f 11 -6" "-s rr" v6bare -m
    n=8 svc "-t 198.51.100.8:25" "-s sed" v4p "-m -x 100 -y 10"
    n=9 svc "-u 198.51.100.9:5060" "-s rr -p 60 --pe sip" v4 -m
    n=10 svc "--sctp-service 198.51.100.10:3868" "-s nq" v4p -m
} >"$valid"
[ "$(wc -l <"$valid")" = 50 ] || fail "the valid input should have 50 lines"

echo "== 1. lvsh ipvsadm -R with a valid 50-line input"
rc=0
"$LVSH" ipvsadm -R <"$valid" >"$LAB_TMP/out" 2>&1 || rc=$?
cat "$LAB_TMP/out"
[ $rc = 0 ] || fail "lvsh ipvsadm -R of a valid input exited $rc"
in_ns "$W" ipvsadm -R <"$valid"
assert_eq "$(in_ns "$W" ipvsadm -S -n)" "$(save)" "table after lvsh -R (vs. real ipvsadm -R of the same input)"
before=$(save)
echo "ok: loaded; ipvsadm -S -n shows $(wc -l <<<"$before") lines, the same as real ipvsadm -R gives"

# --- 2. one bad line among good ones -------------------------------------------
# Ten good lines that would add, edit and delete. Every bad case must leave
# all of them unapplied.
good=(
    "-A -t 203.0.113.1:80 -s rr"
    "-a -t 203.0.113.1:80 -r 10.1.0.201 -m"
    "-a -t 203.0.113.1:80 -r 10.1.0.202 -m"
    "-A -u 203.0.113.2:53 -s wrr"
    "-a -u 203.0.113.2:53 -r 10.1.0.203 -m"
    "-A -f 20 -s rr"
    "-a -f 20 -r 10.1.0.204 -m"
    "-E -t 198.51.100.1:80 -s wlc"
    "-e -t 198.51.100.1:80 -r 10.1.0.11:8080 -m -w 9"
    "-d -t 198.51.100.2:443 -r 10.1.0.21"
)
declare -A bad=(
    [bad-address]="-A -t 203.0.113.300:80 -s rr"
    [unknown-option]="-A -t 203.0.113.9:80 -s rr --bogus"
    [exists-in-kernel]="-A -t 198.51.100.2:443 -s rr"
    [duplicate-in-input]="-A -u 203.0.113.2:53 -s wrr"
)
# make_input KIND POSITION: the good lines with the bad one inserted at
# POSITION (1 = first, 6 = middle, 11 = last); prints the number of the line
# that must be blamed (for a duplicate: its second occurrence).
make_input() {
    local i line=1 blamed=$2
    : >"$LAB_TMP/input"
    for ((i = 0; i <= ${#good[@]}; i++)); do
        if [ $line = "$2" ]; then echo "${bad[$1]}" >>"$LAB_TMP/input"; line=$((line + 1)); fi
        [ $i = ${#good[@]} ] || { echo "${good[i]}" >>"$LAB_TMP/input"; line=$((line + 1)); }
    done
    if [ "$1" = duplicate-in-input ]; then
        blamed=$(grep -nFx -- "${bad[$1]}" "$LAB_TMP/input" | sed -n '2s/:.*//p')
    fi
    echo "$blamed"
}

echo
echo "== 2. lvsh ipvsadm -R with one bad line: nothing may change"
for kind in bad-address unknown-option exists-in-kernel duplicate-in-input; do
    for pos in 1 6 11; do
        blamed=$(make_input "$kind" "$pos")
        echo "-- $kind, bad line at $pos of 11 (blame line $blamed): ${bad[$kind]}"
        rc=0
        "$LVSH" ipvsadm -R <"$LAB_TMP/input" >"$LAB_TMP/out" 2>"$LAB_TMP/err" || rc=$?
        echo "   exit $rc; stderr:"
        sed 's/^/   | /' "$LAB_TMP/err"
        [ ! -s "$LAB_TMP/out" ] || { echo "   stdout:"; sed 's/^/   | /' "$LAB_TMP/out"; }
        case $kind in
            exists-in-kernel) [ $rc = 1 ] || [ $rc = 2 ] || problem "$kind at $pos: exit $rc (want 2, or 1)" ;;
            *) [ $rc = 2 ] || problem "$kind at $pos: exit $rc (want 2: bad input, nothing applied)" ;;
        esac
        # The message must say where: "line N" or "<stdin>:N:"-style.
        grep -qiE "(line $blamed([^0-9]|$))|([a-z>-]:$blamed(:|[^0-9]|$))" "$LAB_TMP/err" ||
            problem "$kind at $pos: the message does not name line $blamed"
        if [ "$(save)" != "$before" ]; then
            problem "$kind at $pos: the table changed"
            diff -u --label before --label after <(echo "$before") <(save) | sed 's/^/   /' || true
            # Put the table back so that the next case starts from the same state.
            ipvsadm -C && ipvsadm -R <"$valid"
        fi
    done
done

# --- 3. the contrast: real ipvsadm -R -----------------------------------------
# Documented behaviour of ipvsadm 1.31 (and why lvsh is stricter): a line the
# kernel refuses is reported and skipped; a line with an unknown option is
# reported and skipped; a line ipvsadm itself rejects (bad address) ends the
# run there, leaving the lines before it applied. Either way the table is
# half-loaded.
echo
echo "== 3. contrast: real ipvsadm -R applies the good lines around a bad one"
wbefore=$(in_ns "$W" ipvsadm -S -n)
for kind in exists-in-kernel unknown-option bad-address; do
    make_input "$kind" 6 >/dev/null
    rc=0
    in_ns "$W" ipvsadm -R <"$LAB_TMP/input" >"$LAB_TMP/out" 2>&1 || rc=$?
    after=$(in_ns "$W" ipvsadm -S -n)
    echo "-- real ipvsadm -R, $kind at line 6: exit $rc, output:"
    sed 's/^/   | /' "$LAB_TMP/out"
    echo "   table change (ipvsadm -S -n):"
    diff -u --label before --label after <(echo "$wbefore") <(echo "$after") | sed -n '/^\(---\|+++\) /d; s/^-/   removed: /p; s/^+/   added:   /p' || true
    [ "$after" != "$wbefore" ] || problem "real ipvsadm -R ($kind) changed nothing: has ipvsadm become atomic?"
    in_ns "$W" ipvsadm -C
    in_ns "$W" ipvsadm -R <"$valid"
done

echo
if [ ${#problems[@]} -gt 0 ]; then
    printf 'PROBLEM: %s\n' "${problems[@]}"
    fail "${#problems[@]} problem(s) with lvsh ipvsadm -R (see above)"
fi
echo "lvsh ipvsadm -R: valid input loads; every bad input changes nothing and names its line"
