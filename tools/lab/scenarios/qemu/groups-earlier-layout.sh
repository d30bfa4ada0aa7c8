#!/bin/bash
# A table inet lvsh left by an earlier lvsh (steps 4 and 5: pipapo maps keyed
# port . protocol . address) on Debian's kernel: lvsh reads its groups right,
# and the next change replaces the table with today's layout (hash maps for
# single ports, interval maps for ranges) in one transaction; packets to the
# group's ports, a range among them, are marked before and after. Packets are the director's own (hook output, to a VIP on lo),
# counted by a witness table after lvsh's chains.
# timeout: 60
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

VIP=10.0.0.100
ip addr add $VIP/32 dev lo

nft -f - <<'NFT'
table inet lvsh {
  comment "lvsh port groups: marks by port . protocol . address; group names in @groups"
  set groups { type mark; elements = { 1000 comment "web" }; }
  map v4 { type inet_service . inet_proto . ipv4_addr : mark; flags interval; elements = { 80 . tcp . 10.0.0.100 : 1000, 9000-9010 . tcp . 10.0.0.100 : 1000 }; }
  map v6 { type inet_service . inet_proto . ipv6_addr : mark; flags interval; }
  map any { type inet_service . inet_proto : mark; flags interval; }
  chain prerouting { type filter hook prerouting priority mangle; policy accept;
    meta mark set th dport . meta l4proto . ip daddr map @v4
    meta mark set th dport . meta l4proto . ip6 daddr map @v6
    meta mark set th dport . meta l4proto map @any
  }
  chain output { type route hook output priority mangle; policy accept;
    meta mark set th dport . meta l4proto . ip daddr map @v4
    meta mark set th dport . meta l4proto . ip6 daddr map @v6
    meta mark set th dport . meta l4proto map @any
  }
}
table inet witness {
  chain out { type filter hook output priority 0; policy accept;
    tcp dport 80 meta mark 1000 counter
    tcp dport 8443 meta mark 1000 counter
    tcp dport 9005 meta mark 1000 counter
  }
}
NFT
# counts: packets marked 1000 to port 80, to 8443 and to 9005 (in the range).
counts() { nft list table inet witness | grep -o 'packets [0-9]*' | cut -d' ' -f2 | tr '\n' ' '; }
# knock PORT: one connection attempt from this namespace (refused: nothing listens).
knock() { timeout 2 socat -u /dev/null "TCP4:$VIP:$1" 2>/dev/null || true; }

echo "== the earlier table: read in its own order"
assert_eq "group web vip $VIP tcp 80,9000-9010 mark 1000" "$("$LVSH" show groups)" "show groups (earlier layout)"
knock 80
knock 9005
[ "$(counts)" = "1 0 1 " ] || fail "earlier rules: expected 1 packet marked to port 80 and 1 to 9005, counters: $(counts)"

echo "== the next change replaces the table in one transaction"
"$LVSH" group web add vip $VIP tcp 8443
listing=$(nft list table inet lvsh)
echo "$listing"
for want in "single ports in *_ports, ranges in *_ranges" "map v4_ports" "type ipv4_addr . inet_proto . inet_service : mark" \
            "$VIP . tcp . 80 : 0x000003e8" "$VIP . tcp . 8443 : 0x000003e8" "map v4_ranges" \
            "meta mark set ip daddr . meta l4proto . th dport map @v4_ports" \
            "meta mark set ip daddr . meta l4proto . th dport map @v4_ranges"; do
    grep -qF "$want" <<<"$listing" || fail "nft list table inet lvsh lacks: $want"
done
! grep -qF "th dport . meta l4proto" <<<"$listing" || fail "a rule of the earlier layout is left"
! grep -qE "map (v4|v6|any) \{" <<<"$listing" || fail "a map of the earlier layout is left"
assert_eq "group web vip $VIP tcp 80,8443,9000-9010 mark 1000" "$("$LVSH" show groups)" "show groups (today's layout)"
knock 80
knock 8443
knock 9005
[ "$(counts)" = "2 1 2 " ] || fail "today's rules: expected 2 packets to 80, 1 to 8443 and 2 to 9005 marked, counters: $(counts)"

echo "== an edit in today's layout"
"$LVSH" group web del vip $VIP tcp 8443
assert_eq "group web vip $VIP tcp 80,9000-9010 mark 1000" "$("$LVSH" show groups)" "show groups after del"
