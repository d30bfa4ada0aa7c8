#!/bin/bash
# apply -> save -> flush everything -> apply the saved file: the kernel comes back exactly.
# Why: `lvsh save` is the backup of a director. It must keep what `ipvsadm -S` loses (thresholds,
# timeouts, sync daemons, tunnel options, group names and marks, sysctls), and applying it to a
# bare namespace must rebuild the same state. For each example in rules/ (and one file that has a
# bit of everything), in its own namespace: apply it, take the full witness (tools/lab/uml/witness.sh:
# ipvsadm -S -n, --thresholds, --tun-info, --daemon, --timeout, iptables-legacy-save,
# ip6tables-legacy-save, every IPVS and forwarding sysctl), save, flush with tools that are not
# apply (ipvsadm -C, `lvsh no group`, `lvsh no sync`, `lvsh no timeout`, sysctl -w to the defaults
# a fresh namespace has), check that the flush left a bare namespace, apply the saved file, and
# compare the witness with the one before the flush.
# timeout: 300
. "${LAB_LIB:?run via tools/lab/uml/run}"
. "$(dirname "$LAB_LIB")/witness.sh"
need_lvsh
repo=$(cd "$(dirname "$LAB_LIB")/../../.." && pwd)
problems=0
problem() { echo "PROBLEM: $*"; problems=$((problems + 1)); }

# fresh NS: a namespace like the rules examples expect: routable real servers, an eth0 for sync.
fresh() {
    netns_add "$1"
    in_ns "$1" ip link add eth0 type dummy
    in_ns "$1" ip addr add 192.168.147.1/24 dev eth0
    in_ns "$1" ip addr add 2001:db8:147::1/64 dev eth0 nodad
    in_ns "$1" ip link set eth0 up
}

# What a bare namespace looks like: the defaults the flush must return to.
fresh rt-bare
witness rt-bare >bare.witness
# The sysctls with their default values, as `sysctl -w` takes them.
in_ns rt-bare sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.vs |
    sed 's/ = /=/' >bare.sysctls

# flush NS: remove everything by means other than apply.
flush() {
    local ns=$1 name
    in_ns "$ns" ipvsadm -C
    for name in $(in_ns "$ns" "$LVSH" show groups --json | grep -o '"name":"[^"]*"' | cut -d'"' -f4); do
        in_ns "$ns" "$LVSH" no group "$name" >/dev/null
    done
    for name in master backup; do
        if in_ns "$ns" ipvsadm -L -n --daemon | grep -q "^$name "; then in_ns "$ns" "$LVSH" no sync "$name" >/dev/null; fi
    done
    in_ns "$ns" "$LVSH" no timeout >/dev/null
    # Every sysctl that differs back to its default (debug_level refuses any write, even of its
    # value); a line with a tab (sync_threshold) must stay one argument.
    in_ns "$ns" sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.vs | sed 's/ = /=/' >now.sysctls
    while IFS= read -r line; do
        grep -qxF -- "$line" now.sysctls || in_ns "$ns" sysctl -q -w "$line" >/dev/null
    done <bare.sysctls
}

# One more file with a bit of everything the examples leave out: a group of IPv4 and IPv6 addresses
# (two fwmark services, one per family), pe sip, an explicit and an allocated mark, an `any`
# entry, both sync daemons with options, thresholds on a TUN server, scheduler flags, SCTP, and
# sysctls that are not 0/1.
mkdir -p extra
cat >extra/everything.lvsh <<'EOF'
group web vip 192.168.61.129,2001:db8:61::129 tcp 80,443
group voice vip any udp 5060-5061 mark 0x20
service web scheduler wlc persistent 300
real web 192.168.147.129 nat weight 3 upper 100 lower 10
real web 192.168.147.130 nat weight 2
real web [2001:db8:147::129] nat weight 1
service voice scheduler rr persistent 60 pe sip
real voice 192.168.147.131 dr weight 4
service tcp 192.168.61.131:443 scheduler mh mh-fallback mh-port
real tcp 192.168.61.131:443 192.168.147.132 tun tun-type gue tun-port 6080 tun-remcsum upper 50
service sctp 192.168.61.133:3868 scheduler lblcr persistent 30 netmask 255.255.255.0
real sctp 192.168.61.133:3868 192.168.147.133 dr
timeout tcp 1800 tcpfin 30 udp 90
sync master interface eth0 id 3 maxlen 1300 group 239.1.1.3 port 8900 ttl 2
sync backup interface eth0 id 3
sysctl expire_nodest_conn 1
sysctl lblcr_expiration 3600
sysctl sync_threshold "5 100"
sysctl conntrack 1
EOF

for file in "$repo"/rules/*.lvsh extra/everything.lvsh; do
    name=$(basename "$file" .lvsh)
    ns=rt-$name
    fresh "$ns"
    echo "== $name"
    if ! in_ns "$ns" "$LVSH" apply "$file" >apply.out 2>&1; then
        cat apply.out; problem "$name: apply failed"; continue
    fi
    witness "$ns" >"$name.before"
    in_ns "$ns" "$LVSH" save "$PWD/$name.saved"
    cat "$name.saved"

    flush "$ns"
    # The flush must really have emptied the namespace, or the comparison below proves nothing.
    witness "$ns" >"$name.flushed"
    if ! diff -u bare.witness "$name.flushed"; then problem "$name: the flush did not leave a bare namespace"; continue; fi

    if ! in_ns "$ns" "$LVSH" apply "$PWD/$name.saved" >apply.out 2>&1; then
        cat apply.out; problem "$name: applying the saved file failed"; continue
    fi
    witness "$ns" >"$name.after"
    if diff -u "$name.before" "$name.after"; then
        echo "$name: the saved file rebuilt the same kernel state ($(grep -c . "$name.before") witness lines)"
    else
        problem "$name: the kernel after apply of the saved file differs from before the flush"
    fi
    # And the saved file describes the kernel exactly: a second apply has nothing to do.
    in_ns "$ns" "$LVSH" apply "$PWD/$name.saved" --json >again.json
    grep -q '"changed":false' again.json || { cat again.json; problem "$name: a second apply of the saved file changed something"; }
    ip netns del "$ns"
done

[ "$problems" = 0 ] || fail "$problems problem(s) (see above)"
