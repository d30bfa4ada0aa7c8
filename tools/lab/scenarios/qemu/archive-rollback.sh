#!/bin/bash
# The change history with nftables marks and IPVS together: a change by the console (under a pty),
# by `-c`, by `-f`, by apply, by apply --confirm's rollback, by `lvsh daemon` for a front and by its
# reload is each one line in syslog (a datagram listener at LVSH_LOG_SOCKET, the scenario's own) and
# one entry of the archive (LVSH_STATE_DIR, the scenario's own: folder 700, files 600). `rollback 1`
# brings back the configuration before the last change, witnessed by `ipvsadm -S -n` and
# `nft -j list ruleset` (handles left out), both before and after the daemon ran.
# timeout: 400
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

export LVSH_STATE_DIR=$LAB_TMP/state LVSH_LOG_SOCKET=$LAB_TMP/log.sock
mkdir -p "$LVSH_STATE_DIR"
socat -u "UNIX-RECV:$LVSH_LOG_SOCKET" "OPEN:$LAB_TMP/syslog,creat,append" &
_lab_pids+=($!)
for _ in $(seq 50); do [ -S "$LVSH_LOG_SOCKET" ] && break; sleep 0.1; done
[ -S "$LVSH_LOG_SOCKET" ] || fail "the syslog listener did not start"

ip link add eth0 type dummy
ip addr add 192.168.147.1/24 dev eth0
ip link set eth0 up

# What the kernel holds, read by tools lvsh did not write.
witness() {
    ipvsadm -S -n
    nft -j list ruleset | jq -cS 'del(.. | objects | .handle)'
}
# logged FRONT: the syslog line of a change by FRONT arrived (datagrams, no newline between them).
logged() {
    local i
    for i in $(seq 100); do
        grep -q "lvsh\[[0-9]*\]: change: front=$1 " "$LAB_TMP/syslog" && return 0
        sleep 0.2
    done
    cat "$LAB_TMP/syslog" >&2
    fail "no syslog line for a change by $1"
}
entries() { "$LVSH" show archive --json | jq '.archive | length'; }

# 1. The console, on a pseudo-terminal.
printf 'group web vip 10.0.0.100 tcp 80,443\nservice web scheduler wlc persistent 60\nreal web 192.168.147.129 nat weight 3\nquit\n' |
    script -qec "$LVSH" /dev/null >"$LAB_TMP/console.out"
logged console
# Each console line is a change of its own.
assert_eq 3 "$(entries)" "archive entries after the console"
# 2. -c, 3. -f.
"$LVSH" -c 'real web 192.168.147.130 nat weight 2; service tcp 10.0.0.5:25 scheduler rr'
logged batch
w2=$(witness)
cat >mail.lvsh <<'LVSH'
group mail vip 10.0.0.6 tcp 25 mark 2000
service mail scheduler sh
real mail 192.168.147.133 dr
LVSH
"$LVSH" -f mail.lvsh
assert_eq 5 "$(entries)" "archive entries after -f"
"$LVSH" show archive >&2
"$LVSH" show diff archive 1 >&2

# 4. rollback 1: the state after -c, exactly.
"$LVSH" rollback 1
logged rollback
assert_eq "$w2" "$(witness)" "the kernel after rollback 1 (ipvsadm -S -n, nft -j list ruleset)"
assert_eq "archive 1" "$("$LVSH" show archive --json | jq -r '.archive[0].source')" "the rollback's entry"

# 5. apply, 6. apply --confirm with no confirm: the rollback child restores and records it.
cat >site.lvsh <<'LVSH'
group web vip 10.0.0.100 tcp 80,443,8443
service web scheduler rr persistent 60
real web 192.168.147.129 nat weight 5
real web 192.168.147.131 nat
LVSH
"$LVSH" apply site.lvsh --prune
logged apply
w5=$(witness)
cat >other.lvsh <<'LVSH'
group web vip 10.0.0.100 tcp 80
service web scheduler lc
real web 192.168.147.132 nat
LVSH
"$LVSH" apply other.lvsh --prune --confirm 2
logged confirm-rollback
for _ in $(seq 50); do [ "$(witness)" = "$w5" ] && break; sleep 0.2; done
assert_eq "$w5" "$(witness)" "the kernel after the --confirm rollback"

# 7. lvsh daemon: a front's batch and a reload, each recorded by the daemon.
"$LVSH" show running-config >daemon.lvsh
"$LVSH" daemon daemon.lvsh 2>daemon.log &
daemon=$!
_lab_pids+=($daemon)
for _ in $(seq 150); do grep -q "lvsh daemon ready" daemon.log && break; sleep 0.2; done
grep -q "lvsh daemon ready" daemon.log || { cat daemon.log >&2; fail "the daemon did not start"; }
"$LVSH" real web 192.168.147.133 nat weight 4
logged daemon/command-line
"$LVSH" save
grep -q "real web 192.168.147.133" daemon.lvsh || fail "save with no FILE did not write the daemon's FILE"
w7=$(witness)
echo "service tcp 10.0.0.7:53 scheduler rr" >>daemon.lvsh
kill -HUP "$daemon"
logged daemon-reload
for _ in $(seq 50); do ipvsadm -S -n | grep -q "10.0.0.7:53" && break; sleep 0.2; done
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon exited $?"

# 8. rollback 1 without the daemon: the state before the reload.
"$LVSH" rollback 1
assert_eq "$w7" "$(witness)" "the kernel after rollback 1 of the daemon's reload"

# The archive: root's alone, every change in it, newest first.
assert_eq 700 "$(stat -c %a "$LVSH_STATE_DIR/archive")" "the archive folder's mode"
for f in "$LVSH_STATE_DIR"/archive/*.lvsh; do assert_eq 600 "$(stat -c %a "$f")" "$f's mode"; done
"$LVSH" show archive >&2
assert_eq "rollback daemon-reload daemon/command-line confirm-rollback apply apply rollback batch batch console console console" \
    "$("$LVSH" show archive --json | jq -r '[.archive[] | select(.front != "daemon-start") | .front] | join(" ")')" \
    "the archive's fronts, newest first"
tr '<' '\n' <"$LAB_TMP/syslog" >&2
