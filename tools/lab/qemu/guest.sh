#!/bin/bash
# PID 1 inside the qemu guest, started by the initramfs's /init (see
# tools/lab/qemu/prepare) after switch_root; booted by tools/lab/qemu/run.
# The root is the HOST's root, read-only over 9p, with tmpfs on /tmp and /run,
# the results share (read-write) at $LAB_OUT, and the guest kernel's modules
# at /usr/lib/modules. proc, sys and dev are already mounted.
# Input (kernel command-line words): LAB_OUT, LVSH_BIN.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
here=$(dirname "$0")
lab=$(cd "$here/.." && pwd)

stop() { sync; echo o >/proc/sysrq-trigger; sleep 60; }

# Refuse to run on the host by mistake: there we are not PID 1.
[ $$ = 1 ] || { echo "guest.sh: only for the qemu guest" >&2; exit 2; }
# devtmpfs is bare: add what bash and tools expect (process substitution
# needs /dev/fd).
ln -sf /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"; done
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm && mount -t devpts devpts /dev/pts
[ -d "$LAB_OUT" ] || { echo "RESULT: no results share at $LAB_OUT"; stop; }
export HOME=/tmp TMPDIR=/tmp
# lvsh archives and logs each change: into the guest's own /tmp, never the host's /var/lib/lvsh or /dev/log.
export LVSH_STATE_DIR=/tmp/lvsh-state LVSH_LOG_SOCKET=/tmp/lvsh-log.sock
exec >>"$LAB_OUT/guest.log" 2>&1
uptime() { cut -d" " -f1 /proc/uptime; }
echo "guest: $(uname -sr), $(nproc) cpu, up $(uptime)s"

# The kernel loads what it misses by itself (it runs /sbin/modprobe, which
# finds /usr/lib/modules/KV); load the usual set now so that the log says
# what this kernel lacks. nft_* expressions (meta, lookup, payload, concat)
# are built into nf_tables. One modprobe for all: it skips missing ones.
kv=$(uname -r)
mods=(nf_tables nf_conntrack nft_compat
      ip_vs ip_vs_{rr,wrr,lc,wlc,lblc,lblcr,dh,sh,sed,nq,fo,ovf,mh,twos} ip_vs_pe_sip
      veth dummy ipip gre ip_gre iptable_mangle ip6table_mangle
      xt_mark xt_multiport xt_tcpudp xt_comment)
t0=$SECONDS
modprobe -a -q "${mods[@]}" 2>/dev/null
loaded=() missing=()
for m in "${mods[@]}"; do
    if [ -d "/sys/module/$m" ] || grep -q "/$m\.ko\$" "/usr/lib/modules/$kv/modules.builtin"; then
        loaded+=("$m")
    else
        missing+=("$m")
    fi
done
echo "modules loaded: ${loaded[*]} ($((SECONDS - t0))s)"
echo "modules missing: ${missing[*]:-none}"

# One line per scenario: NAME <tab> TIMEOUT <tab> PATH (written by run).
while IFS=$'\t' read -r name secs path; do
    ns=lab-$name work=/tmp/lab/$name
    : >"$LAB_OUT/$name.started"
    echo "scenario $name (timeout ${secs}s)"; t0=$SECONDS
    mkdir -p "$work"
    ip netns add "$ns" && ip -n "$ns" link set lo up
    # timeout signals the whole process group, so background servers die too.
    (cd "$work" && exec env LAB_SCENARIO="$name" LAB_NS="$ns" LAB_TMP="$work" \
        LAB_LIB="$lab/uml/lib.sh" HOME="$work" \
        timeout -k 5 "$secs" ip netns exec "$ns" bash "$path") \
        </dev/null >"$LAB_OUT/$name.log" 2>&1
    rc=$?
    [ $rc = 124 ] || [ $rc = 137 ] && echo "lab: timed out after ${secs}s" >>"$LAB_OUT/$name.log"
    # Sweep whatever the scenario left: every process but us, every netns.
    kill -KILL -1 2>/dev/null; wait 2>/dev/null
    for n in $(ip netns list | cut -d' ' -f1); do ip netns del "$n"; done
    echo "$rc" >"$LAB_OUT/$name.rc"
    echo "scenario $name: rc $rc after $((SECONDS - t0))s"
done <"$LAB_OUT/scenarios.list"

: >"$LAB_OUT/done"
echo "guest: done, up $(uptime)s"
echo "RESULT: done" >/dev/console
stop
