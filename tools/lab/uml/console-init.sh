#!/bin/bash
# PID 1 of `tools/demo console`: the primer's NAT network in namespaces (client, rs1, rs2 with small
# web servers, and the director), then lvsh's interactive console on the guest's console, inside the
# director's namespace. Leaving the console (Ctrl-D or quit) halts the guest.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TERM=${TERM:-linux}
# lvsh archives and logs each change: into the guest's own /tmp, never the host's /var/lib/lvsh or /dev/log.
export LVSH_STATE_DIR=/tmp/lvsh-state LVSH_LOG_SOCKET=/tmp/lvsh-log.sock
[ $$ = 1 ] || { echo "console-init.sh: only for the user-mode-linux guest" >&2; exit 2; }
mount -t proc proc /proc && mount -t sysfs sysfs /sys || { halt -f; }
for d in /tmp /run; do mount -t tmpfs tmpfs "$d"; done
ln -sf /proc/self/fd /dev/fd
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
kv=$(uname -r) mr=/tmp/modroot
mkdir -p "$mr/lib/modules/$kv" && mount --bind "/usr/lib/uml/modules/$kv" "$mr/lib/modules/$kv"
modprobe -a -q -d "$mr" ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed ip_vs_nq \
    ip_vs_lblc ip_vs_lblcr ip_vs_fo ip_vs_ovf ip_vs_mh veth dummy iptable_mangle xt_mark xt_multiport \
    xt_tcpudp xt_comment 2>/dev/null

net() { ip netns exec "$@"; }
for n in director client rs1 rs2; do ip netns add $n; ip -n $n link set lo up; done
ip link add eth0 netns client type veth peer name out0 netns director
ip -n client addr add 192.168.61.10/24 dev eth0; ip -n client link set eth0 up
ip -n director addr add 192.168.61.1/24 dev out0; ip -n director addr add 192.168.61.129/32 dev out0
ip -n director link set out0 up
ip -n client route add default via 192.168.61.1
i=1
for rs in rs1 rs2; do
    addr=192.168.147.$((128 + i))
    ip link add eth0 netns $rs type veth peer name in$i netns director
    ip -n $rs addr add $addr/24 dev eth0; ip -n $rs link set eth0 up
    ip -n $rs route add default via 192.168.147.1
    ip -n director addr add 192.168.147.1/32 dev in$i; ip -n director link set in$i up
    ip -n director route add $addr/32 dev in$i
    echo "$rs answers" >/tmp/$rs.txt
    net $rs socat TCP4-LISTEN:80,reuseaddr,fork SYSTEM:"cat /tmp/$rs.txt" &
    i=$((i + 1))
done
# A client that fetches the VIP every two seconds, so counters and connections move.
(while sleep 2; do net client timeout 1 socat -u TCP4:192.168.61.129:80,connect-timeout=1 - >/dev/null 2>&1; done) &
cat <<'TEXT'

  lvsh in a user-mode-linux guest, inside the namespace of an LVS director:
    the VIP 192.168.61.129 is on out0, real servers 192.168.147.129 (rs1) and .130 (rs2) answer
    on port 80 behind it, and a client at 192.168.61.10 fetches the VIP every two seconds.
  Try:
    service tcp 192.168.61.129:80 scheduler rr
    real tcp 192.168.61.129:80 192.168.147.129 nat
    real tcp 192.168.61.129:80 192.168.147.130 nat
    show services stats        (TAB completes, ? lists what may follow, Ctrl-D leaves)
    show connections
    show running-config

TEXT
setsid -c ip netns exec director "$LVSH_BIN" </dev/console >/dev/console 2>&1
halt -f
