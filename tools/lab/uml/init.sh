#!/bin/bash
# PID 1 inside user-mode-linux, started by tools/lab/uml/run.
# The guest's root is the HOST's root, read-write (hostfs): we write only to
# $LAB_OUT and to the tmpfs mounts made below, and give up if /proc or /sys
# cannot be mounted, because then writes there would reach the host's.
# Input (kernel command-line words): LAB_OUT, LVSH_BIN, LAB_HOSTDIRS (see tools/lab/hostdirs.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
here=$(dirname "$0")

stop() { sync; halt -f; echo o >/proc/sysrq-trigger; sleep 60; }

# Refuse to run on the host by mistake: there we are not PID 1.
[ $$ = 1 ] || { echo "init.sh: only for the user-mode-linux guest" >&2; exit 2; }
mount -t proc proc /proc && mount -t sysfs sysfs /sys || stop
for d in /tmp /run; do mount -t tmpfs tmpfs "$d" || stop; done
# Host directories under /tmp or /run that the lab needs (a clone in /tmp, say), again at their places:
# hostfs mounts the host directory given as its option. Read-write, like the root.
for d in ${LAB_HOSTDIRS//,/ }; do mkdir -p "$d" && mount -t hostfs none "$d" -o "$d" || stop; done
# The kernel mounted a bare devtmpfs on /dev: add what bash and tools expect
# (process substitution needs /dev/fd).
ln -sf /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"; done
mkdir -p /dev/shm /dev/pts && mount -t tmpfs tmpfs /dev/shm && mount -t devpts devpts /dev/pts
[ -d "$LAB_OUT" ] || stop
export HOME=/tmp TMPDIR=/tmp   # keep tools from writing dotfiles into the host's /
# lvsh archives and logs each change: into the guest's own /tmp, never the host's /var/lib/lvsh or /dev/log.
export LVSH_STATE_DIR=/tmp/lvsh-state LVSH_LOG_SOCKET=/tmp/lvsh-log.sock
exec >>"$LAB_OUT/guest.log" 2>&1
echo "guest: $(uname -sr), $(nproc) cpu"

# hostfs caches writes in the guest: flush logs within a second, so a crash
# or a hang still leaves most of the running scenario's log on the host.
echo 100 >/proc/sys/vm/dirty_writeback_centisecs
echo 100 >/proc/sys/vm/dirty_expire_centisecs

# The UML package keeps its modules outside /lib/modules (which is the
# host's): give modprobe a private tree on tmpfs. On 6.1 there is no
# ip_vs_twos, and the MARK target lives in xt_mark (there is no xt_MARK.ko).
kv=$(uname -r) mr=/tmp/modroot
mkdir -p "$mr/lib/modules/$kv"
mount --bind "/usr/lib/uml/modules/$kv" "$mr/lib/modules/$kv"
mods=(ip_vs ip_vs_{rr,wrr,lc,wlc,lblc,lblcr,dh,sh,sed,nq,fo,ovf,mh,twos}
      ip_vs_pe_sip veth dummy ipip gre ip_gre iptable_mangle ip6table_mangle
      xt_mark xt_MARK xt_multiport xt_tcpudp xt_comment xt_sctp iptable_filter nf_conntrack)
# One modprobe for all (a process start is slow here); it skips missing
# ones, and /sys/module then tells which are in.
modprobe -a -q -d "$mr" "${mods[@]}" 2>/dev/null
loaded=() missing=()
for m in "${mods[@]}"; do
    if [ -d "/sys/module/$m" ]; then loaded+=("$m"); else missing+=("$m"); fi
done
echo "modules loaded: ${loaded[*]}"
echo "modules missing: ${missing[*]:-none}"

# One line per scenario: NAME <tab> TIMEOUT <tab> PATH (written by run).
while IFS=$'\t' read -r name secs path; do
    ns=lab-$name work=/tmp/lab/$name
    : >"$LAB_OUT/$name.started"; sync
    echo "scenario $name (timeout ${secs}s)"; t0=$SECONDS
    mkdir -p "$work"
    ip netns add "$ns" && ip -n "$ns" link set lo up
    # timeout signals the whole process group, so background servers die too.
    (cd "$work" && exec env LAB_SCENARIO="$name" LAB_NS="$ns" LAB_TMP="$work" \
        LAB_LIB="$here/lib.sh" HOME="$work" \
        timeout -k 5 "$secs" ip netns exec "$ns" bash "$path") \
        </dev/null >"$LAB_OUT/$name.log" 2>&1
    rc=$?
    [ $rc = 124 ] || [ $rc = 137 ] && echo "lab: timed out after ${secs}s" >>"$LAB_OUT/$name.log"
    # Sweep whatever the scenario left: every process but us, every netns.
    kill -KILL -1 2>/dev/null; wait 2>/dev/null
    for n in $(ip netns list | cut -d' ' -f1); do ip netns del "$n"; done
    echo "$rc" >"$LAB_OUT/$name.rc"; sync
    echo "scenario $name: rc $rc after $((SECONDS - t0))s"
done <"$LAB_OUT/scenarios.list"

: >"$LAB_OUT/done"
stop
