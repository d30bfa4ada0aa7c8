#!/bin/bash
# A failing apply leaves the kernel exactly as it was, whichever step fails.
# Why: apply writes a plan of many steps to three places (IPVS, lvsh's iptables chain, sysctls);
# when the kernel refuses one, the steps already made must be undone, newest first. Here a plan
# of n >= 20 steps (sysctls, timeouts, services, real servers, groups, sync daemons) is made to
# fail at every step k in turn with LVSH_FAIL_STEP=k (the executor fails step k instead of
# sending it, see Sources/Shell/Engine/Executor.swift): each time lvsh must exit 1 and the full
# witness (tools/lab/uml/witness.sh) must equal the one from before. Then real refusals by the
# kernel, not injected ones: a scheduler this kernel lacks (ip_vs_twos is not in 6.1), and a real
# server that another program adds (ipvsadm, during LVSH_PAUSE_BEFORE_STEP) just before apply
# adds the same one, so the kernel answers "exists".
# timeout: 400
. "${LAB_LIB:?run via tools/lab/uml/run}"
. "$(dirname "$LAB_LIB")/witness.sh"
need_lvsh

ip link add eth0 type dummy
ip addr add 192.168.147.1/24 dev eth0
ip link set eth0 up

# plan_ops FILE: "op object" per plan step of apply's JSON.
plan_ops() { grep -o '{"op":"[^"]*","object":"[^"]*"' "$1" | sed 's/{"op":"\([^"]*\)","object":"\([^"]*\)"/\1 \2/'; }

# The starting state.
cat >start.lvsh <<'EOF'
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
# Named here because the target sets it: going back to the start then resets it too.
sysctl expire_quiescent_template 0
EOF
# The target: edits, additions and removals of every kind (applied with --prune).
cat >target.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 443,8443
group mail vip 192.168.61.133 tcp 25,587 mark 2000
service web scheduler wlc persistent 900 netmask 255.255.0.0
real web 192.168.147.129 nat weight 5 upper 10
real web 192.168.147.130 nat weight 1 upper 200
real web 192.168.147.132 nat weight 2
service mail scheduler mh mh-port
real mail 192.168.147.133 dr
service tcp 192.168.61.131:443 scheduler wlc
real tcp 192.168.61.131:443 192.168.147.130 tun tun-type gue tun-port 7000 tun-remcsum
real tcp 192.168.61.131:443 192.168.147.131 tun tun-type gre tun-csum
service tcp 192.168.61.132:80 scheduler rr persistent
real tcp 192.168.61.132:80 192.168.147.129 dr
real tcp 192.168.61.132:80 192.168.147.130 dr
service udp 192.168.61.129:53 scheduler sh sh-fallback
real udp 192.168.61.129:53 192.168.147.129 nat
timeout tcp 1000 tcpfin 30 udp 60
sync master interface eth0 id 9 maxlen 1400
sync backup interface eth0 id 9
sysctl expire_nodest_conn 0
sysctl expire_quiescent_template 1
EOF

"$LVSH" apply start.lvsh >/dev/null 2>&1
witness >start.witness
cat start.witness

"$LVSH" apply target.lvsh --prune --check --json >plan.json
plan_ops plan.json | cat -n
n=$(plan_ops plan.json | wc -l)
[ "$n" -ge 20 ] || fail "the plan has only $n steps; this scenario needs at least 20"

echo "== LVSH_FAIL_STEP=k for k = 1..$n"
for ((k = 1; k <= n; k++)); do
    step=$(plan_ops plan.json | sed -n "${k}p")
    rc=0
    LVSH_FAIL_STEP=$k "$LVSH" apply target.lvsh --prune >out.txt 2>err.txt || rc=$?
    [ $rc = 1 ] || { cat out.txt err.txt; fail "LVSH_FAIL_STEP=$k ($step): exit $rc, not 1"; }
    grep -q "fault injected by LVSH_FAIL_STEP=$k\$" err.txt || { cat err.txt; fail "LVSH_FAIL_STEP=$k: the message does not name the injected fault"; }
    grep -q "the kernel is as it was before apply" err.txt || { cat err.txt; fail "LVSH_FAIL_STEP=$k: lvsh does not say it undid the changes"; }
    witness_same start.witness "the kernel after a failure at step $k ($step)"
    echo "step $k ($step) failed: exit 1, kernel as before"
done

# Past the last step nothing is injected: the same apply goes through (the plan really is n steps).
LVSH_FAIL_STEP=$((n + 1)) "$LVSH" apply target.lvsh --prune --json >through.json
grep -q '"changed":true' through.json || { cat through.json; fail "LVSH_FAIL_STEP=$((n + 1)) should not fail"; }
witness >target.witness
"$LVSH" apply start.lvsh --prune >/dev/null 2>&1
witness_same start.witness "the kernel back at the start"
echo "with LVSH_FAIL_STEP=$((n + 1)) the whole plan went through"

echo "== the kernel refuses a scheduler it does not have (ip_vs_twos is not in this kernel)"
sed 's/^service tcp 192.168.61.132:80 scheduler rr persistent$/service tcp 192.168.61.132:80 scheduler twos persistent/' \
    target.lvsh >twos.lvsh
! cmp -s target.lvsh twos.lvsh || fail "the sed did not change the scheduler"
"$LVSH" apply twos.lvsh --prune --check --json >twos-plan.json
at=$(plan_ops twos-plan.json | grep -nxF "edit-service tcp 192.168.61.132:80" | cut -d: -f1)
echo "the edit to twos is step $at of $(plan_ops twos-plan.json | wc -l)"
[ "$at" -gt 3 ] || fail "the refused step should come after others, so that there is something to undo"
rc=0
"$LVSH" apply twos.lvsh --prune 2>err.txt || rc=$?
cat err.txt
[ $rc = 1 ] || fail "apply with a scheduler the kernel lacks: exit $rc, not 1"
grep -q "twos" err.txt || fail "the message does not name the scheduler"
witness_same start.witness "the kernel after the kernel refused twos"
echo "exit 1, the kernel as before"

echo "== another program adds the real server apply is about to add"
at=$(plan_ops plan.json | grep -nxF "add-real fwm 1000 -> 192.168.147.132:0" | cut -d: -f1)
echo "adding 192.168.147.132 to fwm 1000 is step $at"
LVSH_PAUSE_BEFORE_STEP=$at:3 "$LVSH" apply target.lvsh --prune >out.txt 2>err.txt &
apply=$!
for _ in $(seq 100); do grep -q "pausing" err.txt && break; sleep 0.1; done
grep -q "pausing 3 s before step $at" err.txt || fail "apply did not pause before step $at: $(cat err.txt)"
ipvsadm -a -f 1000 -r 192.168.147.132 -m -w 9
rc=0
wait $apply || rc=$?
cat out.txt err.txt
[ $rc = 1 ] || fail "apply whose real server another program added meanwhile: exit $rc, not 1"
grep -q "already in service" err.txt || fail "the message does not say that the real server exists"
# Everything apply did is undone; what the other program added stays (it is not apply's to undo).
ipvsadm -S -n | grep -qx -- "-a -f 1000 -r 192.168.147.132:0 -m -w 9" || fail "the other program's real server is gone"
ipvsadm -d -f 1000 -r 192.168.147.132
witness_same start.witness "the kernel after the refusal, once the other program's real server is removed"
echo "exit 1, the kernel as before (plus the other program's real server)"
