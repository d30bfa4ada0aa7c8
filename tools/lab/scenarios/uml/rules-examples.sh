#!/bin/bash
# Applies every example of rules/ with lvsh, each in a fresh namespace, and checks the result with
# tools lvsh did not write (ipvsadm, iptables-legacy-save, sysctl) against tools/lab/expected/rules/.
# timeout: 240
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
repo=$(cd "$(dirname "$LAB_LIB")/../../.." && pwd)
problems=0

# witness NS FILE: what the kernel holds, as independent tools print it.
witness() {
    local ns=$1 file=$2 name
    echo "## ipvsadm -S -n"; in_ns "$ns" ipvsadm -S -n
    echo "## ipvsadm -L -n --thresholds"; in_ns "$ns" ipvsadm -L -n --thresholds | tail -n +2
    echo "## ipvsadm -L -n --tun-info"; in_ns "$ns" ipvsadm -L -n --tun-info | tail -n +2
    echo "## ipvsadm -L --daemon"; in_ns "$ns" ipvsadm -L --daemon
    echo "## ipvsadm -L --timeout"; in_ns "$ns" ipvsadm -L --timeout
    echo "## sysctl"
    for name in $(awk '$1 == "sysctl" { print $2 }' "$file"); do
        case $name in
            ip_forward) name=net.ipv4.ip_forward ;;
            ipv6_forwarding) name=net.ipv6.conf.all.forwarding ;;
            *.*) ;;
            *) name=net.ipv4.vs.$name ;;
        esac
        in_ns "$ns" sysctl "$name"
    done
    echo "## iptables-legacy-save -t mangle (lvsh)"
    in_ns "$ns" iptables-legacy-save -t mangle 2>/dev/null | grep -E 'LVSH|lvsh' || true
}

for file in "$repo"/rules/*.lvsh; do
    name=$(basename "$file" .lvsh)
    ns=rules-$name
    netns_add "$ns"
    # Real servers must be routable, and the sync examples name eth0.
    in_ns "$ns" ip link add eth0 type dummy
    in_ns "$ns" ip addr add 192.168.147.1/24 dev eth0
    in_ns "$ns" ip addr add 2001:db8:147::1/64 dev eth0 nodad
    in_ns "$ns" ip link set eth0 up
    echo "== $name"
    if ! in_ns "$ns" "$LVSH" -f "$file"; then
        echo "PROBLEM: lvsh -f $file failed"; problems=$((problems + 1)); continue
    fi
    witness "$ns" "$file" >"$LAB_TMP/$name.txt"
    cat "$LAB_TMP/$name.txt"
    expected=$repo/tools/lab/expected/rules/$name.txt
    # A file .lab/bless in the repository makes missing expectations be written, for review.
    if [ ! -f "$expected" ] && [ -d "$repo/.lab" ] && [ -f "$repo/.lab/bless" ]; then cp "$LAB_TMP/$name.txt" "$expected"; fi
    if ! diff -u "$expected" "$LAB_TMP/$name.txt"; then
        echo "PROBLEM: $name differs from $expected"; problems=$((problems + 1))
    fi
    # Applying the same file again changes nothing the witnesses can see.
    in_ns "$ns" "$LVSH" -f "$file" 2>/dev/null
    witness "$ns" "$file" | diff -q - "$LAB_TMP/$name.txt" >/dev/null || { echo "PROBLEM: a second load of $name changed the kernel"; problems=$((problems + 1)); }
done

# The primer switches the NAT cluster from rr to sh in place: same real servers, new scheduler.
in_ns rules-nat-primer "$LVSH" -c 'service tcp 192.168.61.129:80 scheduler sh'
assert_eq "-A -t 192.168.61.129:80 -s sh
-a -t 192.168.61.129:80 -r 192.168.147.129:80 -m -w 1
-a -t 192.168.61.129:80 -r 192.168.147.130:80 -m -w 1" "$(in_ns rules-nat-primer ipvsadm -S -n)" "the primer after switching to sh"

[ "$problems" = 0 ] || fail "$problems problem(s) (see above)"
