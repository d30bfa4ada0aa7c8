#!/bin/bash
# `lvsh daemon FILE` as the one writer of its namespace, witnessed by ipvsadm -S -n and
# iptables-legacy-save (this kernel has no nf_tables, so groups use the iptables backend).
# Asserted:
#  - at start the kernel matches the file; a second daemon is refused (exit 1, naming the first);
#  - `lvsh -c`, `lvsh ipvsadm` and console writes go through the daemon (its log says so), checks made
#    through it show in `show running-config`, later reads keep them, and once saved to the file
#    they survive a reload;
#  - `ipvsadm -e` behind the daemon's back is logged as drift and restored within two reads;
#  - SIGHUP with the file unchanged makes no write; with one weight changed, exactly one;
#  - kill -9 leaves the kernel byte-identical, and a restart over it makes no write;
#  - SIGTERM ends the daemon with exit 0 and leaves the kernel as it is;
#  - under a NOTIFY_SOCKET (systemd's Type=notify) it says READY=1, feeds WATCHDOG=1, says
#    RELOADING=1 then READY=1 on SIGHUP and STOPPING=1 on SIGTERM.
# timeout: 300
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

save4() { iptables-legacy-save -t mangle | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'; }
snapshot() { ipvsadm -S -n; save4; }

cat >site.lvsh <<EOF
service tcp 10.0.0.100:80 scheduler rr
real tcp 10.0.0.100:80 10.0.11.11 nat weight 2
real tcp 10.0.0.100:80 10.0.12.12 nat weight 3
group web vip 10.0.0.101 tcp 80,443
service web scheduler wlc
real web 10.0.11.11 dr
EOF

start_daemon() {
    "$LVSH" --backend iptables daemon "$PWD/site.lvsh" 2>>daemon.log &
    daemon=$!
    at_exit "kill -9 $daemon 2>/dev/null"
}

echo "== start"
start_daemon
wait_log "lvsh daemon ready"
grep -q "start: applied" daemon.log || fail "the first start applied nothing"
ipvsadm -S -n | tee start.txt
grep -q -- "-a -t 10.0.0.100:80 -r 10.0.11.11:80 -m -w 2" start.txt || fail "the file's real server is missing"
grep -q -- "-A -f 1000 -s wlc" start.txt || fail "the group's fwmark service is missing"
save4 | grep -q -- "--comment \"lvsh: mark port groups\"" || fail "the group's marks are missing"

echo "== one daemon per namespace; fronts write through it"
set +e
"$LVSH" --backend iptables daemon "$PWD/site.lvsh" 2>second.err
rc=$?
set -e
cat second.err
assert_eq 1 "$rc" "a second daemon's exit code"
grep -q "lvsh daemon (pid $daemon) already runs" second.err || fail "the second daemon does not name the first"
"$LVSH" -c 'service tcp 10.0.0.100:81 scheduler wrr; real tcp 10.0.0.100:81 10.0.11.11 nat weight 5'
"$LVSH" ipvsadm -a -t 10.0.0.100:81 -r 10.0.12.12 -m -w 6
ipvsadm -S -n | grep -q -- "-a -t 10.0.0.100:81 -r 10.0.12.12:81 -m -w 6" || fail "lvsh ipvsadm through the daemon did not reach the kernel"
wait_log "batch from -c: applied the desired state changes=2"
wait_log "batch from ipvsadm: applied the desired state changes=1"
# The console too, on a terminal (script(1) gives it one): each line the operator types is a batch
# the daemon runs and logs as the console's.
printf 'real tcp 10.0.0.100:81 10.0.12.12 nat weight 8\nquit\n' | TERM=vt100 script -q -e -c "$LVSH" /dev/null >console.out 2>&1 || { cat console.out; fail "the console's change through the daemon failed"; }
wait_log "batch from console: applied the desired state changes=1"
ipvsadm -S -n | grep -q -- "-a -t 10.0.0.100:81 -r 10.0.12.12:81 -m -w 8" || fail "the console's change through the daemon did not reach the kernel"
# A check needs the daemon: through it, it is kept (and shown) instead of refused.
"$LVSH" -c 'check web-tcp tcp interval 1; service tcp 10.0.0.100:81 check web-tcp'
"$LVSH" show running-config | tee running.txt
grep -q "^check web-tcp tcp interval 1$" running.txt || fail "show running-config lacks the check made through the daemon"
grep -q "^service tcp 10.0.0.100:81 check web-tcp$" running.txt || fail "show running-config lacks the binding"
# Several reads later the front's changes are still there: they are the daemon's desired state now.
sleep 6
ipvsadm -S -n | grep -q -- "-A -t 10.0.0.100:81 -s wrr" || fail "the daemon undid a front's change"
# Saved to the daemon's file, they survive a reload.
"$LVSH" save "$PWD/site.lvsh"
kill -HUP "$daemon"
wait_log "reload: the kernel already matches"
ipvsadm -S -n | grep -q -- "-A -t 10.0.0.100:81 -s wrr" || fail "a reload after save lost the front's service"
# (The desired weight: the check bound above finds nothing listening on port 81, so the kernel has 0.)
"$LVSH" show running-config >running-after.txt
grep -q "^real tcp 10.0.0.100:81 10.0.12.12:81 nat weight 8$" running-after.txt || fail "a reload after save lost the console's weight"

echo "== drift: ipvsadm -e behind the daemon's back"
ipvsadm -e -t 10.0.0.100:80 -r 10.0.11.11:80 -m -w 9
# The pause between reads is at least 20 times the read (DaemonService); with --backend iptables a
# read runs iptables-legacy-save twice, which took 0.75 s in a slow guest: 15 s between reads.
wait_log "drift: restoring: edit-real tcp 10.0.0.100:80 -> 10.0.11.11:80: nat weight 2" 45
wait_log "drift repaired" 45
ipvsadm -S -n | grep -q -- "-r 10.0.11.11:80 -m -w 2" || fail "the weight was not restored"
ipvsadm -D -f 1000
wait_log "drift: restoring: add-service fwm 1000" 45
for _ in $(seq 50); do ipvsadm -S -n | grep -q -- "-a -f 1000 -r 10.0.11.11:0 -g -w 1" && break; sleep 0.2; done
ipvsadm -S -n | grep -q -- "-a -f 1000 -r 10.0.11.11:0 -g -w 1" || fail "the deleted service was not restored with its real server"

echo "== SIGHUP with the file unchanged: no write"
: >daemon.log
kill -HUP "$daemon"
wait_log "reload: the kernel already matches"

echo "== SIGHUP with one weight changed: one write"
sed -i 's/-w 3/-w 3/; s/nat weight 3/nat weight 4/' site.lvsh
kill -HUP "$daemon"
wait_log "reload: applied .* changes=1 .*writes=1"
ipvsadm -S -n | grep -q -- "-r 10.0.12.12:80 -m -w 4" || fail "the changed weight is not in the kernel"

echo "== kill -9 leaves the kernel as it was; a restart makes no write"
snapshot >before-kill.txt
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
snapshot >after-kill.txt
assert_file_eq before-kill.txt after-kill.txt "the kernel after kill -9"
: >daemon.log
# This start under a NOTIFY_SOCKET of the scenario's own, as tools/packaging/lvsh.service runs it
# (Type=notify, WatchdogSec): each datagram systemd would read lands in notify.txt, one after another.
socat -u UNIX-RECV:"$PWD/notify.sock" OPEN:"$PWD/notify.txt",creat,append &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 50); do [ -S notify.sock ] && break; sleep 0.1; done
export NOTIFY_SOCKET=$PWD/notify.sock WATCHDOG_USEC=1000000
start_daemon
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_log "lvsh daemon ready"
grep -q "start: the kernel already matches .* writes=0" daemon.log || { cat daemon.log; fail "the restart wrote"; }
sleep 1.5
grep -q "READY=1" notify.txt || { cat notify.txt; fail "no READY=1 for systemd"; }
grep -q "WATCHDOG=1" notify.txt || { cat notify.txt; fail "the watchdog was not fed"; }
kill -HUP "$daemon"
wait_log "reload: the kernel already matches"
sleep 0.5
grep -q "RELOADING=1" notify.txt || { cat notify.txt; fail "no RELOADING=1 on SIGHUP"; }
[ "$(grep -o 'READY=1' notify.txt | wc -l)" -ge 2 ] || { cat notify.txt; fail "no READY=1 after the reload"; }

echo "== SIGTERM: exit 0, the kernel left as it is"
stop_daemon
snapshot >after-term.txt
assert_file_eq before-kill.txt after-term.txt "the kernel after SIGTERM"
grep -q "stopping; the kernel is left as it is" daemon.log || fail "no stopping line"
sleep 0.2
grep -q "STOPPING=1" notify.txt || { cat notify.txt; fail "no STOPPING=1 on SIGTERM"; }
echo "ok"
