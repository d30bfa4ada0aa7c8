#!/bin/bash
# `lvsh adopt` reads a live kernel into an lvsh configuration that `lvsh apply` takes without writing.
# Asserted:
#  - a kernel set up by ipvsadm (TCP/UDP/SCTP, IPv4 and IPv6, fwmark services of both families,
#    persistence, thresholds, every forwarding method, timeouts, a sync daemon) and by iptables-legacy
#    / ip6tables-legacy MARK rules: adopt prints the services, the marked entries as groups (comments:
#    lvsh does not own those rules), and one warning per rule it cannot carry (a source match, a partial
#    mark mask, a mark no service uses); `lvsh apply` of the output reports no change and zero writes,
#    and `ipvsadm -S -n`, iptables-legacy-save and ip6tables-legacy-save are identical before and after;
#  - `adopt --take-over` makes the groups lvsh groups: apply then writes only lvsh's own chain, and the
#    services are untouched;
#  - on a kernel lvsh set up (groups in lvsh's iptables chain, services on them), adopt prints exactly
#    `lvsh show running-config` (after the header line).
# timeout: 180
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

ip link add real0 type dummy
ip link set real0 up
ip addr add 10.0.1.1/24 dev real0
ip addr add 2001:db8:1::1/64 dev real0 nodad

echo "== a kernel set up by ipvsadm and iptables-legacy"
ipvsadm -A -t 10.0.0.10:8080 -s wlc -p 300 -M 255.255.255.0
ipvsadm -a -t 10.0.0.10:8080 -r 10.0.1.11:80 -m -w 3 -x 100 -y 10
ipvsadm -a -t 10.0.0.10:8080 -r 10.0.1.12:80 -m -w 0
ipvsadm -A -u 10.0.0.10:53 -s rr -o
ipvsadm -a -u 10.0.0.10:53 -r 10.0.1.11 -g
ipvsadm -A --sctp-service 10.0.0.10:9 -s sh -b sh-port
ipvsadm -a --sctp-service 10.0.0.10:9 -r 10.0.1.13:9 -i
ipvsadm -A -f 1 -s rr -p 60
ipvsadm -a -f 1 -r 10.0.1.11:0 -g -w 2
ipvsadm -a -f 1 -r 10.0.1.12:0 -g -w 2
ipvsadm -A -f 2 -6 -s mh -b mh-port
ipvsadm -a -f 2 -6 -r [2001:db8:1::11]:0 -m
ipvsadm -A -f 3 -s lc
ipvsadm -a -f 3 -r 10.0.1.14:0 -m
ipvsadm -A -f 3 -6 -s lc
ipvsadm -a -f 3 -6 -r [2001:db8:1::14]:0 -m
ipvsadm -A -t [2001:db8::10]:443 -s sed
ipvsadm -a -t [2001:db8::10]:443 -r [2001:db8:1::12]:443 -m -w 5
ipvsadm --set 900 60 200
ipvsadm --start-daemon master --mcast-interface real0 --syncid 7
# Mark 1: 10.0.0.10 tcp 80,443 and 8000-8100 (twice: PREROUTING and OUTPUT), and 10.0.0.11 tcp 80.
iptables-legacy -t mangle -A PREROUTING -d 10.0.0.10/32 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1
iptables-legacy -t mangle -A PREROUTING -d 10.0.0.10/32 -p tcp -m tcp --dport 8000:8100 -j MARK --set-mark 0x1
iptables-legacy -t mangle -A OUTPUT -d 10.0.0.10/32 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1
iptables-legacy -t mangle -N VIPS
iptables-legacy -t mangle -A PREROUTING -j VIPS
iptables-legacy -t mangle -A VIPS -d 10.0.0.11/32 -p tcp -m tcp --dport 80 -m comment --comment "old web" -j MARK --set-xmark 0x1/0xffffffff
# Mark 3: every address of both families, udp 5060-5061 (an lvsh `any` entry).
iptables-legacy -t mangle -A PREROUTING -p udp -m udp --dport 5060:5061 -j MARK --set-mark 3
ip6tables-legacy -t mangle -A PREROUTING -p udp -m udp --dport 5060:5061 -j MARK --set-mark 3
# Mark 2 (IPv6): 2001:db8::20 udp 53 and tcp 53.
ip6tables-legacy -t mangle -A PREROUTING -d 2001:db8::20/128 -p udp -m udp --dport 53 -j MARK --set-mark 2
ip6tables-legacy -t mangle -A PREROUTING -d 2001:db8::20/128 -p tcp -m tcp --dport 53 -j MARK --set-mark 2
# Not carried, one warning each: a source match, part of the mark, a mark no service uses, a chain IPVS
# does not see, every IPv4 address (lvsh's `any` is both families).
iptables-legacy -t mangle -A PREROUTING -s 192.0.2.0/24 -d 10.0.0.12/32 -p tcp --dport 25 -j MARK --set-mark 1
iptables-legacy -t mangle -A PREROUTING -d 10.0.0.13/32 -p tcp --dport 25 -j MARK --set-xmark 0x3/0xff
iptables-legacy -t mangle -A PREROUTING -d 10.0.0.14/32 -p tcp --dport 25 -j MARK --set-mark 99
iptables-legacy -t mangle -A FORWARD -d 10.0.0.15/32 -p tcp --dport 25 -j MARK --set-mark 3
iptables-legacy -t mangle -A PREROUTING -p tcp --dport 5062 -j MARK --set-mark 3
# Not a MARK rule: not lvsh's business, not warned.
iptables-legacy -t filter -A INPUT -p tcp --dport 22 -j ACCEPT

snapshot() {
    ipvsadm -S -n >"$1.ipvs"
    ipvsadm -L -n --timeout >>"$1.ipvs"
    ipvsadm -L -n --daemon >>"$1.ipvs"
    iptables-legacy-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' >"$1.ip4"
    ip6tables-legacy-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' >"$1.ip6"
}
snapshot before

"$LVSH" adopt >adopted.lvsh 2>adopt.err || { cat adopt.err >&2; fail "lvsh adopt failed"; }
echo "-- adopted.lvsh"; cat adopted.lvsh
echo "-- warnings"; cat adopt.err
[ "$(wc -l <adopt.err)" = 5 ] || fail "expected 5 warnings (source match, partial mask, mark 99, FORWARD, IPv4 only), got $(wc -l <adopt.err)"
grep -q "5062.*every IPv4 address" adopt.err || fail "no warning for the IPv4-only rule"
grep -q "192.0.2.0/24.*-s" adopt.err || grep -q -- "-s 192.0.2.0/24" adopt.err || fail "no warning for the source match"
grep -q "0x3/0xff" adopt.err || fail "no warning for the partial mark"
grep -q "mark 99, which no IPVS fwmark service uses" adopt.err || fail "no warning for mark 99"
grep -q "mangle FORWARD.*IPVS does not see" adopt.err || fail "no warning for the FORWARD rule"
grep -qx "# group mark-1 vip 10.0.0.10 tcp 80,443,8000-8100 mark 1" adopted.lvsh ||
    grep -q "^# group mark-1 vip 10.0.0.10 tcp 80,443,8000-8100" adopted.lvsh || fail "group mark-1 is not in the output"
grep -q "^# group mark-1 .*10.0.0.11 tcp 80" adopted.lvsh || fail "the rule in chain VIPS was not followed"
grep -qx "# group mark-3 vip any udp 5060-5061 mark 3" adopted.lvsh || fail "group mark-3 is not in the output"
grep -qx "# group mark-2 vip 2001:db8::20 tcp 53 udp 53 mark 2" adopted.lvsh || fail "group mark-2 is not in the output"
grep -q "^service fwmark 1 " adopted.lvsh || fail "service fwmark 1 is not in the output"
grep -q "^real tcp 10.0.0.10:8080 10.0.1.11:80 nat weight 3 upper 100 lower 10" adopted.lvsh || fail "thresholds lost"

"$LVSH" apply adopted.lvsh --json >apply.json 2>apply.err || { cat apply.err >&2; fail "apply of the adopted configuration failed"; }
cat apply.json; echo
grep -q '"changed":false' apply.json || fail "apply of the adopted configuration would change something"
grep -q '"writes":0' apply.json || fail "apply of the adopted configuration wrote"
"$LVSH" apply adopted.lvsh --check --json | grep -q '"changed":false' || fail "apply --check says changes are pending"
snapshot after
for f in ipvs ip4 ip6; do assert_file_eq before.$f after.$f "the kernel's $f state after apply"; done

echo "== --take-over: lvsh groups for the same marks"
"$LVSH" adopt --take-over >takeover.lvsh 2>/dev/null
grep -qx "group mark-2 vip 2001:db8::20 tcp 53 udp 53 mark 2" takeover.lvsh || fail "take-over does not declare group mark-2"
grep -q "^service mark-1 " takeover.lvsh || fail "take-over does not name the service by its group"
"$LVSH" apply takeover.lvsh --json >takeover.json
grep -q '"changed":true' takeover.json || fail "take-over's apply changed nothing"
grep -q '"op":"[a-z]*-\(service\|real\)"' takeover.json &&
    fail "take-over's apply touched IPVS"
snapshot takeover
assert_file_eq before.ipvs takeover.ipvs "IPVS after take-over"
iptables-legacy-save -t mangle | grep -q -- '-A LVSH -d 10.0.0.10/32 -p tcp -m multiport --dports 80,443,8000:8100 -m comment --comment "lvsh:mark-1"' ||
    { iptables-legacy-save -t mangle >&2; fail "lvsh's chain does not hold group mark-1"; }
"$LVSH" adopt >again.lvsh 2>again.err
"$LVSH" apply again.lvsh --json | grep -q '"changed":false' || fail "adopt after take-over is not applied without change"

echo "== a kernel lvsh set up: adopt = show running-config"
netns_add adopt-lvsh
in_ns adopt-lvsh ip link add real0 type dummy
in_ns adopt-lvsh ip link set real0 up
in_ns adopt-lvsh ip addr add 10.0.1.1/24 dev real0
cat >site.lvsh <<'CONF'
group web vip 10.0.0.20 tcp 80,443 mark 1000
group dns vip 10.0.0.20,10.0.0.21 udp 53 tcp 53
service web scheduler wrr persistent 120
real web 10.0.1.11 dr weight 2
real web 10.0.1.12 dr weight 1
service dns scheduler rr
real dns 10.0.1.13 nat
service tcp 10.0.0.30:25 scheduler lc
real tcp 10.0.0.30:25 10.0.1.14:25 nat upper 50
CONF
in_ns adopt-lvsh "$LVSH" apply site.lvsh >/dev/null
in_ns adopt-lvsh "$LVSH" show running-config >running.lvsh
in_ns adopt-lvsh "$LVSH" adopt >adopted2.lvsh 2>adopt2.err
[ ! -s adopt2.err ] || { cat adopt2.err >&2; fail "adopt warned on lvsh's own rules"; }
assert_file_eq <(tail -n +2 running.lvsh) <(tail -n +2 adopted2.lvsh) "adopt on lvsh's kernel"
in_ns adopt-lvsh "$LVSH" apply adopted2.lvsh --json | grep -q '"changed":false' || fail "adopted lvsh kernel is not applied without change"
echo "ok"
