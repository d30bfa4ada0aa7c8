#!/bin/bash
# The ipvsadm mistakes people make, and what `lvsh ipvsadm` says about them.
# Why: the LVS primer's classic trap is trying to change a real server's port
# with -e: a destination is identified by address AND port, so the kernel
# answers "No such destination" and people are lost. lvsh must fail as
# ipvsadm does, but say why and what to do (delete and re-add). The other
# cases: unknown scheduler, service exists, no such service, a port with -g
# (ipvsadm silently uses the service's port), port 0 without persistence, an
# IPv4 real server in an IPv6 service.
# Each command runs with lvsh here and with the real ipvsadm in a witness
# namespace with the same table: success must agree, a failure must leave
# `ipvsadm -S -n` unchanged and exit 2 (bad input) or 1 (kernel refused) as
# designed, and the message must contain the key phrases. The wording is
# lvsh's own, so only key phrases are asserted; every message is printed
# here as evidence.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

W=errors-witness
netns_add "$W"
for ns in "$LAB_NS" "$W"; do
    # The primer's real servers live on 192.168.147.0/24: make it routable.
    ip -n "$ns" link add dum0 type dummy
    ip -n "$ns" link set dum0 up
    ip -n "$ns" addr add 192.168.147.1/24 dev dum0
    ip -n "$ns" addr add 2001:db8:147::1/64 dev dum0 nodad
done

problems=()
problem() { echo "   PROBLEM: $*"; problems+=("$*"); }

# try WHAT CODES [PATTERN...] -- ARG...: run `ipvsadm ARG...` with lvsh here
# and with the real ipvsadm in the witness. CODES is lvsh's allowed exit
# codes ("0", "2", "1 2"); each PATTERN (extended regex, any case) must
# appear in lvsh's message.
try() {
    local what=$1 codes=$2 patterns=() rc=0 wrc=0 before p
    shift 2
    while [ "$1" != -- ]; do patterns+=("$1"); shift; done
    shift
    before=$(ipvsadm -S -n)
    "$LVSH" ipvsadm "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err" || rc=$?
    in_ns "$W" ipvsadm "$@" >"$LAB_TMP/wout" 2>"$LAB_TMP/werr" || wrc=$?
    echo
    echo "-- $what"
    echo "   \$ ipvsadm $*"
    echo "   lvsh ipvsadm: exit $rc"
    cat "$LAB_TMP/out" "$LAB_TMP/err" | sed 's/^/   | /'
    echo "   real ipvsadm: exit $wrc"
    cat "$LAB_TMP/wout" "$LAB_TMP/werr" | sed 's/^/   | /'
    [ $((rc == 0)) = $((wrc == 0)) ] || problem "$what: lvsh exit $rc, ipvsadm exit $wrc: success differs"
    [[ " $codes " == *" $rc "* ]] || problem "$what: lvsh exit $rc, want ${codes// / or }"
    if [ $rc != 0 ]; then
        [ "$(ipvsadm -S -n)" = "$before" ] || problem "$what: failed but changed the table"
        for p in "${patterns[@]}"; do
            grep -qiE -- "$p" "$LAB_TMP/err" || problem "$what: the message lacks /$p/"
        done
    fi
    # Whatever happened, both kernels must hold the same table.
    [ "$(ipvsadm -S -n)" = "$(in_ns "$W" ipvsadm -S -n)" ] || {
        problem "$what: the tables differ (lvsh here, ipvsadm in the witness)"
        diff -u --label ipvsadm --label lvsh <(in_ns "$W" ipvsadm -S -n) <(ipvsadm -S -n) | sed 's/^/   /' || true
    }
}

echo "== the LVS primer's NAT service"
try "add the primer's service" 0 -- -A -t 192.168.61.129:80 -s rr
try "add its real server" 0 -- -a -t 192.168.61.129:80 -r 192.168.147.129 -m
ipvsadm -S -n | sed 's/^/   /'

echo
echo "== mistakes"
# The trap: -e cannot change the port; a destination is address + port.
try "edit a real server's port with -e" "1 2" "address and port" "(-d|delet)" -- \
    -e -t 192.168.61.129:80 -r 192.168.147.129:8080 -m
try "unknown scheduler" "1 2" "nosuch" -- -A -t 192.168.61.130:80 -s nosuch
try "service exists" "1 2" "already" -- -A -t 192.168.61.129:80 -s wlc
# A missing service: the message says so, or names the service it looked for.
nosvc="no such|not defined|does not exist|not found|192\.168\.61\.131"
try "no such service (add a real server)" "1 2" "$nosvc" -- \
    -a -t 192.168.61.131:80 -r 192.168.147.130 -m
try "no such service (edit)" "1 2" "$nosvc" -- -E -t 192.168.61.131:80 -s rr
try "no such service (delete)" "1 2" "$nosvc" -- -D -t 192.168.61.131:80
try "port 0 without persistence" 2 "persist" -- -A -t 192.168.61.132:0 -s rr
try "an IPv6 service for the next case" 0 -- -A -t [2001:db8:61::129]:80 -s rr
try "IPv4 real server in an IPv6 service" 2 "(famil|ipv4|ipv6)" -- \
    -a -t [2001:db8:61::129]:80 -r 192.168.147.131 -m
# Not a mistake for ipvsadm: with -g the given port is silently replaced by
# the service's (DR cannot change ports). lvsh must accept it the same way;
# the witness comparison checks the resulting port is 80, like ipvsadm's.
try "a port with -g (direct routing)" 0 -- -a -t 192.168.61.129:80 -r 192.168.147.130:8080 -g
try "the same real server again, now port 80" "1 2" "already" -- \
    -a -t 192.168.61.129:80 -r 192.168.147.130:80 -g

echo
echo "== final table"
ipvsadm -S -n | sed 's/^/   /'
echo
if [ ${#problems[@]} -gt 0 ]; then
    printf 'PROBLEM: %s\n' "${problems[@]}"
    fail "${#problems[@]} problem(s) (see above)"
fi
echo "every mistake failed as ipvsadm fails, with an actionable message, and changed nothing"
