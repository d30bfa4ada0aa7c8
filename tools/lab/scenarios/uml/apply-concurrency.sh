#!/bin/bash
# Concurrent writers: two applies at once, and ipvsadm writing in the middle of an apply.
# Why: an apply reads the kernel, plans, then writes many steps. Two applies interleaving would
# each plan from a state the other is changing and leave a mix of both files. lvsh's writer lock
# (/run/lvsh/net-INODE/lock) must serialise them: both exit 0 and the kernel ends equal to one
# file completely (the full witness, tools/lab/uml/witness.sh). The lock does not stop other
# programs, so apply reads back the services it wrote and compares them with its plan: a change
# made by ipvsadm in the middle of an apply must end it with exit 1 and a message naming the object.
# LVSH_PAUSE_BEFORE_STEP=K:S (Sources/Shell/Engine/Executor.swift) makes "in the middle" certain:
# lvsh sleeps S seconds before step K, after the steps before it reached the kernel.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
. "$(dirname "$LAB_LIB")/witness.sh"
need_lvsh

# with_eth0 NS: routable real servers.
with_eth0() {
    in_ns "$1" ip link add eth0 type dummy
    in_ns "$1" ip addr add 192.168.147.1/24 dev eth0
    in_ns "$1" ip link set eth0 up
}
with_eth0 "$LAB_NS"

# Two files that differ in every service, group, timeout and sysctl they name.
cat >x.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 80,443 mark 1000
service tcp 192.168.61.129:8080 scheduler rr
real tcp 192.168.61.129:8080 192.168.147.129 nat weight 1
real tcp 192.168.61.129:8080 192.168.147.130 nat weight 2
service web scheduler wlc persistent 300
real web 192.168.147.129 nat weight 3
service udp 192.168.61.129:53 scheduler rr
real udp 192.168.61.129:53 192.168.147.129 nat
timeout tcp 900 tcpfin 60 udp 120
sysctl expire_nodest_conn 1
sysctl ip_forward 1
EOF
cat >y.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 443,8443 mark 1000
group mail vip 192.168.61.133 tcp 25 mark 2000
service tcp 192.168.61.129:8080 scheduler wlc
real tcp 192.168.61.129:8080 192.168.147.130 nat weight 5
real tcp 192.168.61.129:8080 192.168.147.131 nat weight 1
service web scheduler sh
real web 192.168.147.130 nat weight 4
service mail scheduler rr
real mail 192.168.147.133 dr
service tcp 192.168.61.140:443 scheduler lc
real tcp 192.168.61.140:443 192.168.147.140 dr
timeout tcp 1000 tcpfin 30 udp 60
sysctl expire_nodest_conn 0
sysctl ip_forward 1
EOF

# Each file alone, in a fresh namespace of its own: the only two acceptable outcomes.
for f in x y; do
    netns_add cc-ref-$f
    with_eth0 cc-ref-$f
    in_ns cc-ref-$f "$LVSH" apply $f.lvsh --prune >/dev/null 2>&1
    witness cc-ref-$f >$f.witness
done
! cmp -s x.witness y.witness || fail "the two files give the same kernel state"

echo "== two applies started together"
# stamp FILE: stderr lines with the time they came, in ms, so the order can be seen.
stamp() { while IFS= read -r line; do echo "$(($(date +%s%N) / 1000000)) $line"; done >"$1"; }
# Both pause 2 s before their second step, holding the lock: without it they would interleave.
LVSH_PAUSE_BEFORE_STEP=2:2 "$LVSH" apply x.lvsh --prune --json >x.json 2> >(stamp x.err) &
px=$!
LVSH_PAUSE_BEFORE_STEP=2:2 "$LVSH" apply y.lvsh --prune --json >y.json 2> >(stamp y.err) &
py=$!
rcx=0 rcy=0
wait $px || rcx=$?
wait $py || rcy=$?
sleep 0.2   # the stamping readers finish after their writer
cat x.json y.json x.err y.err
[ $rcx = 0 ] || fail "apply x.lvsh exited $rcx"
[ $rcy = 0 ] || fail "apply y.lvsh exited $rcy"
grep -q '"changed":true' x.json || fail "apply x.lvsh did not run (changed is not true)"
grep -q '"changed":true' y.json || fail "apply y.lvsh did not run (changed is not true)"
# One after the other: the second one's pause starts after the first one's has ended.
tx=$(awk '/pausing/ { print $1 }' x.err) ty=$(awk '/pausing/ { print $1 }' y.err)
[ -n "$tx" ] && [ -n "$ty" ] || fail "an apply did not reach its pause"
gap=$((tx > ty ? tx - ty : ty - tx))
echo "the two pauses started ${gap} ms apart"
[ $gap -ge 2000 ] || fail "the two applies were paused at the same time: the lock did not serialise them"
if [ "$tx" -lt "$ty" ]; then last=y; else last=x; fi
witness >race.witness
if cmp -s race.witness x.witness; then final=x
elif cmp -s race.witness y.witness; then final=y
else
    diff -u x.witness race.witness || true
    diff -u y.witness race.witness || true
    fail "after two concurrent applies the kernel equals neither file (a mix)"
fi
[ $final = $last ] || fail "the kernel equals $final.lvsh, but $last.lvsh was applied last"
echo "both exited 0; the kernel equals $final.lvsh, which was applied second"

echo "== ipvsadm changes a service in the middle of an apply"
"$LVSH" apply x.lvsh --prune >/dev/null 2>&1
witness_same x.witness "the kernel after going back to x.lvsh"
# z changes a weight that a later step does not touch again, and adds a service after it.
cat >z.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 80,443 mark 1000
service tcp 192.168.61.129:8080 scheduler rr
real tcp 192.168.61.129:8080 192.168.147.129 nat weight 7
real tcp 192.168.61.129:8080 192.168.147.130 nat weight 2
service web scheduler wlc persistent 300
real web 192.168.147.129 nat weight 3
service udp 192.168.61.129:53 scheduler rr
real udp 192.168.61.129:53 192.168.147.129 nat
service tcp 192.168.61.150:80 scheduler rr
real tcp 192.168.61.150:80 192.168.147.150 dr
timeout tcp 900 tcpfin 60 udp 120
sysctl expire_nodest_conn 1
sysctl ip_forward 1
EOF
"$LVSH" apply z.lvsh --check --json | grep -o '{"op":"[^"]*","object":"[^"]*"' | cat -n
at=$("$LVSH" apply z.lvsh --check --json | grep -o '{"op":"[^"]*","object":"[^"]*"' |
    grep -n '"add-real","object":"tcp 192.168.61.150:80' | cut -d: -f1)
[ -n "$at" ] || fail "no step adds the real server of tcp 192.168.61.150:80"
LVSH_PAUSE_BEFORE_STEP=$at:3 "$LVSH" apply z.lvsh --json >z.json 2>z.err &
apply=$!
for _ in $(seq 100); do grep -q pausing z.err && break; sleep 0.1; done
grep -q pausing z.err || fail "apply did not pause: $(cat z.err)"
# The weight apply has just written (7) becomes 9 behind its back.
ipvsadm -S -n | grep -qx -- "-a -t 192.168.61.129:8080 -r 192.168.147.129:8080 -m -w 7" || fail "apply had not written weight 7 before its pause"
ipvsadm -e -t 192.168.61.129:8080 -r 192.168.147.129:8080 -m -w 9
rc=0
wait $apply || rc=$?
cat z.json z.err
[ $rc = 1 ] || fail "apply during which ipvsadm changed a service it wrote: exit $rc, not 1"
grep -q '"failed":true' z.json || fail "the JSON does not say failed"
grep -qF 'real server 192.168.147.129:8080 of service tcp 192.168.61.129:8080 is `nat weight 9` in the kernel, but apply wrote `nat weight 7`' z.json ||
    fail "the message does not name the real server that differs"
grep -qF 'Another program changed IPVS while apply ran' z.json || fail "the message does not say that another program changed IPVS"
# apply leaves the other program's change: undoing it would be a guess too.
ipvsadm -S -n | grep -qx -- "-a -t 192.168.61.129:8080 -r 192.168.147.129:8080 -m -w 9" || fail "the other program's weight is gone"
echo "detected: exit 1, the message names the real server"

echo "== a service that apply does not touch may change meanwhile"
# Only the services the plan wrote are read back (cheap on a 10,000-service table); a change to
# another one is not apply's business.
"$LVSH" apply x.lvsh --prune >/dev/null 2>&1
LVSH_PAUSE_BEFORE_STEP=$at:2 "$LVSH" apply z.lvsh --json >z2.json 2>z2.err &
apply=$!
for _ in $(seq 100); do grep -q pausing z2.err && break; sleep 0.1; done
ipvsadm -E -u 192.168.61.129:53 -s wrr
rc=0
wait $apply || rc=$?
[ $rc = 0 ] || { cat z2.json z2.err; fail "a change to an untouched service failed the apply (exit $rc)"; }
echo "exit 0"
