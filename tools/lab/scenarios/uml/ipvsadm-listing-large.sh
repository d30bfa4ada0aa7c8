#!/bin/bash
# `lvsh ipvsadm` listings of large tables, byte for byte against the real ipvsadm.
# Why: from 1,000 services on, lvsh reads every service's real servers with destination dumps
# through io_uring instead of /proc/net/ip_vs (IPVSClient.table, RingDumps.listingMinimum); below
# that it reads the file. The differential scenario's tables are small, so this one loads a table
# of every kind on each side of that line: TCP, UDP and SCTP services, IPv4 and IPv6 fwmark
# services sharing marks (ambiguous in the file), persistence with masks, scheduler flags,
# one-packet scheduling, tunnels (ipip, gue, gre; the file lacks their options), and services
# with 60 real servers, whose dump is larger than RingDumps' receive slot (its fallback).
# A third namespace holds services too: the file then leaves some of ours out.
# timeout: 900
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

# table SERVICES: `ipvsadm -R` input with every kind of service and real server.
table() {
    local n=$1 i j k mark addr reals
    for ((i = 0; i < n; i++)); do
        k=$((i % 8)) a=$((i / 250)) b=$((i % 250 + 1)) mark=$((5000 + i / 2))
        case $k in
            0) echo "-A -t 10.10.$a.$b:80 -s rr"; addr="-t 10.10.$a.$b:80" ;;
            1) echo "-A -u [2001:db8:10::$i]:53 -s wlc -p 300"; addr="-u [2001:db8:10::$i]:53" ;;
            2) echo "-A -f $mark -s sh -b sh-fallback,sh-port"; addr="-f $mark" ;;
            3) echo "-A -f $((5000 + (i - 1) / 2)) -6 -s mh -b mh-port -p 120 -M 64"; addr="-f $((5000 + (i - 1) / 2)) -6" ;;
            4) echo "-A -u 10.20.$a.$b:5000 -s wrr -o"; addr="-u 10.20.$a.$b:5000" ;;
            5) echo "-A -t 10.30.$a.$b:443 -s lc -p 60 -M 255.255.255.0"; addr="-t 10.30.$a.$b:443" ;;
            6) echo "--add-service --sctp-service 10.40.$a.$b:9 --scheduler sed"; addr="--sctp-service 10.40.$a.$b:9" ;;
            7) echo "-A -f $((900000 + i)) -s nq"; addr="-f $((900000 + i))" ;;
        esac
        reals=$((i % 5))
        ((i % 97 == 5)) && reals=60
        for ((j = 1; j <= reals; j++)); do
            if [ "$k" = 1 ] || [ "$k" = 3 ]; then
                r="[2001:db8:1::${j}:$((i % 9000 + 1))]"
            else
                r="10.1.$((j * 37 % 251)).$((i % 250 + 1))"
            fi
            case $(((i + j) % 6)) in
                0) echo "-a $addr -r $r:8080 -m -w $((j % 4))" ;;
                1) echo "-a $addr -r $r:8080 -g -w 1" ;;
                2) echo "-a $addr -r $r:8080 -i -w 2" ;;
                3) echo "-a $addr -r $r:8080 -i --tun-type gue --tun-port 6080 --tun-csum -w 3" ;;
                4) echo "-a $addr -r $r:8080 -i --tun-type gre --tun-nocsum -w 0" ;;
                5) echo "-a $addr -r $r:$((8000 + j)) -m -w 65535 -x 100 -y 10" ;;
            esac
        done
    done
}

for ns in large small other; do
    netns_add "$ns"
    ip -n "$ns" link add dum0 type dummy
    ip -n "$ns" link set dum0 up
    ip -n "$ns" addr add 10.1.0.1/16 dev dum0
    ip -n "$ns" addr add 2001:db8:1::1/48 dev dum0 nodad
done
table 1200 >large.txt
table 600 >small.txt
ip netns exec other ipvsadm -R <small.txt
for ns in large small; do
    if [ "$ns" = large ]; then input=large.txt; else input=small.txt; fi
    ip netns exec "$ns" ipvsadm -R <"$input" || fail "ipvsadm -R refused the $ns table"
    services=$(ip netns exec "$ns" ipvsadm -S -n | grep -c '^-A')
    echo "$ns: $services services, $(ip netns exec "$ns" ipvsadm -S -n | grep -c '^-a') real servers"
    for args in "-S -n" "-L -n" "-L -n --tun-info" "-L -n --thresholds" "-L -n --persistent-conn" "-L -n --stats --exact" "-L -n --sort"; do
        # shellcheck disable=SC2086
        ip netns exec "$ns" ipvsadm $args >want.txt
        # shellcheck disable=SC2086
        ip netns exec "$ns" "$LVSH" ipvsadm $args >got.txt
        assert_file_eq want.txt got.txt "$ns: lvsh ipvsadm $args"
    done
done
[ "$(ip netns exec large ipvsadm -S -n | grep -c '^-A')" -ge 1000 ] || fail "the large table is below RingDumps.listingMinimum"
[ "$(ip netns exec small ipvsadm -S -n | grep -c '^-A')" -lt 1000 ] || fail "the small table is not below RingDumps.listingMinimum"
echo "listings identical"
