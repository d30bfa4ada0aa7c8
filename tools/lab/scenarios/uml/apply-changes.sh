#!/bin/bash
# `lvsh apply FILE`: from empty, then from one state to another through every kind of change,
# each checked with tools lvsh did not write (ipvsadm -S -n, -L --thresholds / --tun-info /
# --daemon / --timeout, iptables-legacy-save, sysctl).
# Why: apply promises the smallest plan that makes the kernel equal the file. So: every kind of
# difference must be found and written (weights, schedulers, persistence on/off/timeout/netmask,
# scheduler flags, forwarding methods, thresholds, tunnel options, real servers, services, groups,
# group ports, timeouts, sync daemons, sysctls); a second apply of the same file writes nothing;
# one changed weight is one kernel write; --check changes nothing; services the file does not
# name stay (with a warning) unless --prune; `show diff` says what apply would change.
# timeout: 200
. "${LAB_LIB:?run via tools/lab/uml/run}"
. "$(dirname "$LAB_LIB")/witness.sh"
need_lvsh

# Real servers must be routable, and sync daemons need an interface: a dummy eth0.
ip link add eth0 type dummy
ip addr add 192.168.147.1/24 dev eth0
ip link set eth0 up

# The listings with runs of blanks squeezed (ipvsadm pads columns), headers dropped.
squeeze() { sed -e 's/  */ /g' -e 's/ $//'; }
thresholds() { ipvsadm -L -n --thresholds | tail -n +4 | squeeze; }
tuninfo() { ipvsadm -L -n --tun-info | tail -n +4 | squeeze; }
lvsh_mangle() { witness_mangle iptables-legacy-save "$LAB_NS" | grep -e LVSH -e lvsh || true; }
# json_field NAME FILE: a top-level scalar of apply's JSON (the text has no nested NAME keys).
json_field() { grep -o "\"$1\":[a-z0-9]*" "$2" | head -n 1 | cut -d: -f2; }
# plan_ops FILE: "op object" per plan step of apply's JSON.
plan_ops() { grep -o '{"op":"[^"]*","object":"[^"]*"' "$1" | sed 's/{"op":"\([^"]*\)","object":"\([^"]*\)"/\1 \2/'; }

# A: the starting point. Two port groups (web 1000, dns 1001: lvsh allocates marks in file
# order), fwmark and plain services, NAT/DR/TUN, thresholds, tunnel options, flags, timeouts,
# a sync daemon and a sysctl.
cat >a.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 80,443
group dns vip 192.168.61.130 udp 53 tcp 53
service web scheduler wlc persistent 300 netmask 255.255.255.0
real web 192.168.147.129 nat weight 3
real web 192.168.147.130 nat weight 1 upper 100 lower 50
real web 192.168.147.131 nat
service dns scheduler sh sh-fallback sh-port
real dns 192.168.147.131 dr
service tcp 192.168.61.131:443 scheduler lc persistent 600
real tcp 192.168.61.131:443 192.168.147.130 tun tun-type gue tun-port 6080 tun-csum
real tcp 192.168.61.131:443 192.168.147.131 tun
service udp 192.168.61.129:53 scheduler rr one-packet
real udp 192.168.61.129:53 192.168.147.129 nat
service tcp 192.168.61.132:80 scheduler rr
real tcp 192.168.61.132:80 192.168.147.129:8080 nat
real tcp 192.168.61.132:80 192.168.147.130 nat
timeout tcp 900 tcpfin 60 udp 120
sync master interface eth0 id 7
sysctl expire_nodest_conn 1
sysctl expire_quiescent_template 0
EOF

echo "== apply A from empty"
"$LVSH" apply a.lvsh --json >a.json
cat a.json; echo
[ "$(json_field changed a.json)" = true ] || fail "apply A from empty: changed is not true"
ipvsadm -S -n
assert_eq "-A -t 192.168.61.131:443 -s lc -p 600
-a -t 192.168.61.131:443 -r 192.168.147.130:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 192.168.61.131:443 -r 192.168.147.131:443 -i -w 1 --tun-type ipip
-A -t 192.168.61.132:80 -s rr
-a -t 192.168.61.132:80 -r 192.168.147.129:8080 -m -w 1
-a -t 192.168.61.132:80 -r 192.168.147.130:80 -m -w 1
-A -u 192.168.61.129:53 -s rr -o
-a -u 192.168.61.129:53 -r 192.168.147.129:53 -m -w 1
-A -f 1000 -s wlc -p 300 -M 255.255.255.0
-a -f 1000 -r 192.168.147.129:0 -m -w 3
-a -f 1000 -r 192.168.147.130:0 -m -w 1
-a -f 1000 -r 192.168.147.131:0 -m -w 1
-A -f 1001 -s sh -b sh-fallback,sh-port
-a -f 1001 -r 192.168.147.131:0 -g -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n after A"
# What -S does not show: thresholds (upper, lower, then the connection counts).
assert_eq "TCP 192.168.61.131:443 lc persistent 600
 -> 192.168.147.130:443 0 0 0 0
 -> 192.168.147.131:443 0 0 0 0
TCP 192.168.61.132:80 rr
 -> 192.168.147.129:8080 0 0 0 0
 -> 192.168.147.130:80 0 0 0 0
UDP 192.168.61.129:53 rr ops
 -> 192.168.147.129:53 0 0 0 0
FWM 1000 wlc persistent 300 mask 255.255.255.0
 -> 192.168.147.129:0 0 0 0 0
 -> 192.168.147.130:0 100 50 0 0
 -> 192.168.147.131:0 0 0 0 0
FWM 1001 sh (sh-fallback,sh-port)
 -> 192.168.147.131:0 0 0 0 0" "$(thresholds)" "ipvsadm -L -n --thresholds after A"
assert_eq "master sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" \
    "$(ipvsadm -L -n --daemon)" "ipvsadm -L --daemon after A"
assert_eq "Timeout (tcp tcpfin udp): 900 60 120" "$(ipvsadm -L -n --timeout)" "ipvsadm -L --timeout after A"
assert_eq "net.ipv4.vs.expire_nodest_conn = 1
net.ipv4.ip_forward = 1" "$(sysctl net.ipv4.vs.expire_nodest_conn net.ipv4.ip_forward)" "sysctls after A (forwarding: NAT needs it)"
assert_eq ':LVSH - [0:0]
-A PREROUTING -m comment --comment "lvsh: mark port groups" -j LVSH
-A OUTPUT -m comment --comment "lvsh: mark port groups" -j LVSH
-A LVSH -d 192.168.61.130/32 -p tcp -m tcp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff
-A LVSH -d 192.168.61.130/32 -p udp -m udp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff
-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff' \
    "$(lvsh_mangle)" "lvsh's chain in iptables-legacy-save -t mangle after A"

# B: every kind of change from A (the comments say which).
cat >b.lvsh <<'EOF'
# web loses port 80 and gains 8443; dns goes; mail is new, with a mark of its own.
group web vip 192.168.61.129 tcp 443,8443
group mail vip 192.168.61.133 tcp 25,587 mark 2000
# Persistence timeout and netmask change; a weight; thresholds (upper changes, lower goes,
# a new upper); .131 leaves, .132 comes.
service web scheduler wlc persistent 900 netmask 255.255.0.0
real web 192.168.147.129 nat weight 5 upper 10
real web 192.168.147.130 nat weight 1 upper 200
real web 192.168.147.132 nat weight 2
# A new fwmark service with a scheduler flag (the dns service fwm 1001 is not named: --prune removes it).
service mail scheduler mh mh-port
real mail 192.168.147.133 dr
# Scheduler and persistence off; tunnel type, port and checksum options change.
service tcp 192.168.61.131:443 scheduler wlc
real tcp 192.168.61.131:443 192.168.147.130 tun tun-type gue tun-port 7000 tun-remcsum
real tcp 192.168.61.131:443 192.168.147.131 tun tun-type gre tun-csum
# NAT to DR: DR cannot change the port, so .129:8080 must go and .129:80 come; .130:80 is edited
# in place. Persistence on (the default 300 s).
service tcp 192.168.61.132:80 scheduler rr persistent
real tcp 192.168.61.132:80 192.168.147.129 dr
real tcp 192.168.61.132:80 192.168.147.130 dr
# one-packet off, sh with sh-fallback on.
service udp 192.168.61.129:53 scheduler sh sh-fallback
real udp 192.168.61.129:53 192.168.147.129 nat
timeout tcp 1000 tcpfin 30 udp 60
# The master's sync id and maxlen change (a restart); a backup daemon is new.
sync master interface eth0 id 9 maxlen 1400
sync backup interface eth0 id 9
sysctl expire_nodest_conn 0
sysctl expire_quiescent_template 1
EOF

echo "== apply B --prune: every kind of change"
"$LVSH" apply b.lvsh --prune --json >b.json
cat b.json; echo
[ "$(json_field changed b.json)" = true ] || fail "apply B: changed is not true"
plan_ops b.json
# Every kind of step, and the NAT-to-DR move as a delete plus an add of .129 and an edit of .130.
for step in "set-sysctl net.ipv4.vs.expire_nodest_conn" "set-sysctl net.ipv4.vs.expire_quiescent_template" \
    "set-timeouts ipvs" "add-service fwm 2000" "edit-service fwm 1000" "edit-service tcp 192.168.61.131:443" \
    "edit-service tcp 192.168.61.132:80" "edit-service udp 192.168.61.129:53" "delete-service fwm 1001" \
    "edit-real fwm 1000 -> 192.168.147.129:0" "edit-real fwm 1000 -> 192.168.147.130:0" \
    "add-real fwm 1000 -> 192.168.147.132:0" "delete-real fwm 1000 -> 192.168.147.131:0" \
    "add-real fwm 2000 -> 192.168.147.133:0" \
    "edit-real tcp 192.168.61.131:443 -> 192.168.147.130:443" "edit-real tcp 192.168.61.131:443 -> 192.168.147.131:443" \
    "add-real tcp 192.168.61.132:80 -> 192.168.147.129:80" "edit-real tcp 192.168.61.132:80 -> 192.168.147.130:80" \
    "delete-real tcp 192.168.61.132:80 -> 192.168.147.129:8080" \
    "delete-group group dns" "put-group group mail" "delete-group-entries group web" "add-group-entries group web" \
    "stop-sync sync master" "start-sync sync master" "start-sync sync backup"; do
    plan_ops b.json | grep -qxF "$step" || fail "the plan of A -> B lacks: $step"
done
# ... and nothing else: 26 steps, one per difference.
[ "$(plan_ops b.json | wc -l)" = 26 ] || fail "the plan of A -> B has $(plan_ops b.json | wc -l) steps, not 26"

ipvsadm -S -n
assert_eq "-A -t 192.168.61.131:443 -s wlc
-a -t 192.168.61.131:443 -r 192.168.147.130:443 -i -w 1 --tun-type gue --tun-port 7000 --tun-remcsum
-a -t 192.168.61.131:443 -r 192.168.147.131:443 -i -w 1 --tun-type gre --tun-csum
-A -t 192.168.61.132:80 -s rr -p 300
-a -t 192.168.61.132:80 -r 192.168.147.129:80 -g -w 1
-a -t 192.168.61.132:80 -r 192.168.147.130:80 -g -w 1
-A -u 192.168.61.129:53 -s sh -b sh-fallback
-a -u 192.168.61.129:53 -r 192.168.147.129:53 -m -w 1
-A -f 1000 -s wlc -p 900 -M 255.255.0.0
-a -f 1000 -r 192.168.147.129:0 -m -w 5
-a -f 1000 -r 192.168.147.130:0 -m -w 1
-a -f 1000 -r 192.168.147.132:0 -m -w 2
-A -f 2000 -s mh -b mh-port
-a -f 2000 -r 192.168.147.133:0 -g -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n after B"
assert_eq "TCP 192.168.61.131:443 wlc
 -> 192.168.147.130:443 0 0 0 0
 -> 192.168.147.131:443 0 0 0 0
TCP 192.168.61.132:80 rr persistent 300
 -> 192.168.147.129:80 0 0 0 0
 -> 192.168.147.130:80 0 0 0 0
UDP 192.168.61.129:53 sh (sh-fallback)
 -> 192.168.147.129:53 0 0 0 0
FWM 1000 wlc persistent 900 mask 255.255.0.0
 -> 192.168.147.129:0 10 0 0 0
 -> 192.168.147.130:0 200 0 0 0
 -> 192.168.147.132:0 0 0 0 0
FWM 2000 mh (mh-port)
 -> 192.168.147.133:0 0 0 0 0" "$(thresholds)" "ipvsadm -L -n --thresholds after B"
assert_eq "TCP 192.168.61.131:443 wlc
 -> 192.168.147.130:443 Tunnel gue:7000:r+c 1 0 0
 -> 192.168.147.131:443 Tunnel gre:+c 1 0 0
TCP 192.168.61.132:80 rr persistent 300
 -> 192.168.147.129:80 Route n/a 1 0 0
 -> 192.168.147.130:80 Route n/a 1 0 0
UDP 192.168.61.129:53 sh (sh-fallback)
 -> 192.168.147.129:53 Masq n/a 1 0 0
FWM 1000 wlc persistent 900 mask 255.255.0.0
 -> 192.168.147.129:0 Masq n/a 5 0 0
 -> 192.168.147.130:0 Masq n/a 1 0 0
 -> 192.168.147.132:0 Masq n/a 2 0 0
FWM 2000 mh (mh-port)
 -> 192.168.147.133:0 Route n/a 1 0 0" "$(tuninfo)" "ipvsadm -L -n --tun-info after B"
assert_eq "master sync daemon (mcast=eth0, syncid=9, maxlen=1400, group=224.0.0.81, port=8848, ttl=1)
backup sync daemon (mcast=eth0, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)" \
    "$(ipvsadm -L -n --daemon)" "ipvsadm -L --daemon after B"
assert_eq "Timeout (tcp tcpfin udp): 1000 30 60" "$(ipvsadm -L -n --timeout)" "ipvsadm -L --timeout after B"
assert_eq "net.ipv4.vs.expire_nodest_conn = 0
net.ipv4.vs.expire_quiescent_template = 1" \
    "$(sysctl net.ipv4.vs.expire_nodest_conn net.ipv4.vs.expire_quiescent_template)" "sysctls after B"
assert_eq ':LVSH - [0:0]
-A PREROUTING -m comment --comment "lvsh: mark port groups" -j LVSH
-A OUTPUT -m comment --comment "lvsh: mark port groups" -j LVSH
-A LVSH -d 192.168.61.133/32 -p tcp -m multiport --dports 25,587 -m comment --comment "lvsh:mail" -j MARK --set-xmark 0x7d0/0xffffffff
-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 443,8443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff' \
    "$(lvsh_mangle)" "lvsh's chain in iptables-legacy-save -t mangle after B"
witness_save b.witness

echo "== B again: nothing to do"
"$LVSH" apply b.lvsh --prune --json >b2.json
[ "$(json_field changed b2.json)" = false ] || fail "a second apply of B says changed: $(cat b2.json)"
[ "$(json_field writes b2.json)" = 0 ] || fail "a second apply of B made $(json_field writes b2.json) writes"
grep -q '"plan":\[\]' b2.json || fail "a second apply of B has a plan: $(cat b2.json)"
witness_same b.witness "the kernel after a second apply of B"
echo "changed false, writes 0"

echo "== one weight changed in the file: one write"
sed 's/^real web 192.168.147.132 nat weight 2$/real web 192.168.147.132 nat weight 7/' b.lvsh >b-weight.lvsh
! cmp -s b.lvsh b-weight.lvsh || fail "the sed did not change the weight"
"$LVSH" apply b-weight.lvsh --json >w.json
cat w.json; echo
[ "$(json_field writes w.json)" = 1 ] || fail "one changed weight made $(json_field writes w.json) writes"
assert_eq "edit-real fwm 1000 -> 192.168.147.132:0" "$(plan_ops w.json)" "the plan for one weight"
# The witnesses differ from B's in that weight only.
witness >w.witness
assert_eq "< -a -f 1000 -r 192.168.147.132:0 -m -w 2
---
> -a -f 1000 -r 192.168.147.132:0 -m -w 7
< -> 192.168.147.132:0 Masq n/a 2 0 0
---
> -> 192.168.147.132:0 Masq n/a 7 0 0" \
    "$(diff b.witness w.witness | grep -v '^[0-9]' | squeeze)" "witness differences after one weight"

echo "== --check: pending changes, nothing written"
witness_save before-check.witness
rc=0
"$LVSH" apply b.lvsh --check --json >check.json || rc=$?
cat check.json; echo
[ $rc = 0 ] || fail "apply --check with pending changes exited $rc"
[ "$(json_field changed check.json)" = true ] || fail "apply --check --json does not say changed: true"
assert_eq "edit-real fwm 1000 -> 192.168.147.132:0" "$(plan_ops check.json)" "the plan --check shows"
witness_same before-check.witness "the kernel after apply --check"
# The plain-text form lists the pending change too.
"$LVSH" apply b.lvsh --check | tee check.txt
grep -q 'nothing applied' check.txt || fail "apply --check does not say that nothing was applied"
witness_same before-check.witness "the kernel after apply --check (text)"
"$LVSH" apply b.lvsh >/dev/null
witness_same b.witness "the kernel after going back to B"

echo "== show diff"
"$LVSH" show diff a.lvsh | tee diff.txt
# Some of the lines apply would remove and add to go back to A.
for line in "+group dns vip 192.168.61.130 tcp 53 udp 53 mark 1001" "-group web vip 192.168.61.129 tcp 443,8443 mark 1000" \
    "-real web 192.168.147.132:0 nat weight 2" "+real web 192.168.147.131:0 nat weight 1" \
    "-service tcp 192.168.61.131:443 scheduler wlc" "+service tcp 192.168.61.131:443 scheduler lc persistent 600" \
    "+timeout tcp 900 tcpfin 60 udp 120"; do
    grep -qxF -- "$line" diff.txt || fail "show diff a.lvsh lacks the line: $line"
done
# Without --prune, apply A would leave B's mail group and service alone: show diff keeps them.
for line in " group mail vip 192.168.61.133 tcp 25,587 mark 2000" " service mail scheduler mh mh-port"; do
    grep -qxF -- "$line" diff.txt || fail "show diff a.lvsh should keep (not --prune) the line: $line"
done
assert_eq "no differences: the kernel matches b.lvsh" "$("$LVSH" show diff b.lvsh)" "show diff of the applied file"
witness_same b.witness "the kernel after show diff"

echo "== a service and a group the file does not name: left alone, or removed with --prune"
ipvsadm -A -t 192.168.61.140:80 -s rr
ipvsadm -a -t 192.168.61.140:80 -r 192.168.147.140 -g
"$LVSH" group extra vip 192.168.61.150 tcp 80
"$LVSH" apply b.lvsh --json >keep.json
cat keep.json; echo
grep -qF 'service tcp 192.168.61.140:80 is not in b.lvsh; left alone (--prune removes it)' keep.json ||
    fail "no warning about the service the file does not name"
grep -qF 'group extra is not in b.lvsh; left alone (--prune removes it)' keep.json ||
    fail "no warning about the group the file does not name"
[ "$(json_field changed keep.json)" = false ] || fail "apply without --prune changed something"
ipvsadm -S -n | grep -qx -- "-A -t 192.168.61.140:80 -s rr" || fail "the unnamed service went without --prune"
lvsh_mangle | grep -q 'lvsh:extra' || fail "the unnamed group went without --prune"
# The text form says it on stderr.
"$LVSH" apply b.lvsh 2>keep.err >/dev/null
grep -qF 'left alone (--prune removes it)' keep.err || fail "apply (text) does not warn about the unnamed service"
"$LVSH" apply b.lvsh --prune --json >prune.json
cat prune.json; echo
assert_eq "delete-group group extra
delete-service tcp 192.168.61.140:80" "$(plan_ops prune.json)" "the plan of --prune"
witness_same b.witness "the kernel after --prune"

echo "== a DR real server on another port is bad input: nothing applied"
sed 's/^real tcp 192.168.61.132:80 192.168.147.129 dr$/real tcp 192.168.61.132:80 192.168.147.129:8080 dr/' b.lvsh >bad.lvsh
rc=0
"$LVSH" apply bad.lvsh 2>bad.err || rc=$?
cat bad.err
[ $rc = 2 ] || fail "a DR real server with another port: exit $rc, not 2"
witness_same b.witness "the kernel after refused input"

echo "== back to A (--prune): the same kernel state as A applied to an empty namespace"
# (A names every sysctl B sets, so going back resets them too.)
netns_add apply-ref
in_ns apply-ref ip link add eth0 type dummy
in_ns apply-ref ip addr add 192.168.147.1/24 dev eth0
in_ns apply-ref ip link set eth0 up
in_ns apply-ref "$LVSH" apply a.lvsh >/dev/null 2>&1
witness apply-ref >a-fresh.witness
"$LVSH" apply a.lvsh --prune >/dev/null 2>&1
witness_same a-fresh.witness "A applied over B, against A applied to an empty namespace"
echo "A over B equals A from empty"
