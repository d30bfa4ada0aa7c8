#!/bin/bash
# lvsh's iptables backend, through the lvsh CLI, read back with
# iptables-legacy-save / ip6tables-legacy-save (this kernel has no
# nf_tables): the LVSH chain and the jumps to it exactly as
# Sources/Firewall/README.md shows them, `show groups --json`, entries added
# and deleted, bad input refused with the chain untouched, and `no group`
# down to nothing, which leaves mangle without lvsh's chain or jumps.
# timeout: 240
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

lvsh() { "$LVSH" --backend iptables "$@"; }
# mangle as saved, without the date comments and with counters zeroed.
save4() { iptables-legacy-save -t mangle | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'; }
save6() { ip6tables-legacy-save -t mangle | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'; }
head='*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]'
jumps='-A PREROUTING -m comment --comment "lvsh: mark port groups" -j LVSH
-A OUTPUT -m comment --comment "lvsh: mark port groups" -j LVSH'

echo "== the README's groups, written through the three faces"
# Each family's generation counts the restores of its chain: IPv4 three
# (web, then web's IPv6 entry with sip, then spare), IPv6 one (the second).
lvsh group web vip 192.168.61.129 tcp 80,443
lvsh -c 'group web add vip 2001:db8::80 tcp 8000-8100; group sip vip any udp 5060-5061'
printf 'group spare\n' >"$LAB_TMP/spare.lvsh"
lvsh -f "$LAB_TMP/spare.lvsh"
save4
assert_eq "$head
:LVSH - [0:0]
$jumps
-A LVSH -p udp -m udp --dport 5060:5061 -m comment --comment \"lvsh:sip\" -j MARK --set-xmark 0x3e9/0xffffffff
-A LVSH -m comment --comment \"lvsh:spare empty mark=0x3ea\"
-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment \"lvsh:web\" -j MARK --set-xmark 0x3e8/0xffffffff
-A LVSH -m comment --comment \"lvsh generation 3\"
COMMIT" "$(save4)" "iptables-legacy-save -t mangle"
assert_eq "$head
:LVSH - [0:0]
$jumps
-A LVSH -p udp -m udp --dport 5060:5061 -m comment --comment \"lvsh:sip\" -j MARK --set-xmark 0x3e9/0xffffffff
-A LVSH -d 2001:db8::80/128 -p tcp -m tcp --dport 8000:8100 -m comment --comment \"lvsh:web\" -j MARK --set-xmark 0x3e8/0xffffffff
-A LVSH -m comment --comment \"lvsh generation 1\"
COMMIT" "$(save6)" "ip6tables-legacy-save -t mangle"

echo "== show groups --json"
assert_eq '{"groups":[{"name":"sip","mark":1001,"entries":[{"address":null,"protocol":"udp","ports":[5060,5061]}]},{"name":"spare","mark":1002,"entries":[]},{"name":"web","mark":1000,"entries":[{"address":"192.168.61.129","protocol":"tcp","ports":[80,80]},{"address":"192.168.61.129","protocol":"tcp","ports":[443,443]},{"address":"2001:db8::80","protocol":"tcp","ports":[8000,8100]}]}]}' \
    "$(lvsh show groups --json)" "show groups --json"

echo "== group web add / del"
lvsh group web add vip 192.168.61.129 tcp 8443,9000-9001
save4 | grep 'lvsh:web'
assert_eq '-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443,8443,9000:9001 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff' \
    "$(save4 | grep 'lvsh:web')" "the web rule after add"
lvsh group web del vip 192.168.61.129 tcp 80,9000-9001
assert_eq '-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 443,8443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff' \
    "$(save4 | grep 'lvsh:web')" "the web rule after del"
lvsh group web del vip 192.168.61.129 tcp 8443
assert_eq '-A LVSH -d 192.168.61.129/32 -p tcp -m tcp --dport 443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff' \
    "$(save4 | grep 'lvsh:web')" "a single port: -m tcp"
# Many ports: xt_multiport takes 15 slots a rule.
lvsh group web add vip 192.168.61.129 tcp "$(seq -s, 1001 1020)"
assert_eq 2 "$(save4 | grep -c 'lvsh:web')" "rules for 21 ports (multiport's limit is 15)"
assert_eq 23 "$(lvsh show groups --json | grep -o '"ports":\[[0-9]*,[0-9]*\]' | grep -c .)" \
    "entries read back (sip's one, web's 21 IPv4 ports and its IPv6 range)"

echo "== bad input: exit 2, a precise message, the chains unchanged"
before4=$(save4) before6=$(save6)
expect_bad() {
    local expected=$1 rc=0 err
    shift
    err=$(lvsh "$@" 2>&1 >/dev/null) || rc=$?
    echo "   lvsh $*: $(first_line "$err")"
    [ "$rc" = 2 ] || fail "lvsh $* exited $rc, not 2: $err"
    [[ $err == *"$expected"* ]] || fail "lvsh $*: no '$expected' in: $err"
    assert_eq "$before4" "$(save4)" "iptables-legacy-save after lvsh $*"
    assert_eq "$before6" "$(save6)" "ip6tables-legacy-save after lvsh $*"
}
expect_bad "group api: '192.168.61.129 tcp 443-444' overlaps '192.168.61.129 tcp 443' of group web" group api vip 192.168.61.129 tcp 443-444
expect_bad "group web: '10.0.0.1 udp 5061' overlaps 'any udp 5060-5061' of group sip" group web add vip 10.0.0.1 udp 5061
expect_bad "group sip: 'any tcp 8000' overlaps '2001:db8::80 tcp 8000-8100' of group web" group sip add vip any tcp 8000
expect_bad "mark 1000 is already used by group web" group x vip 10.0.0.9 tcp 1 mark 1000
expect_bad "group spare has no entry '10.0.0.1 tcp 1'" group spare del vip 10.0.0.1 tcp 1
printf 'group ok vip 10.9.9.9 tcp 9\n\ngroup sip add vip any udp 5061\n' >"$LAB_TMP/bad.lvsh"
expect_bad "$LAB_TMP/bad.lvsh:3:1: group sip: entries 'any udp 5060-5061' and 'any udp 5061' overlap" -f "$LAB_TMP/bad.lvsh"

echo "== no group, down to nothing"
lvsh no group sip
assert_eq 0 "$(save4 | grep -c 'lvsh:sip' || true)" "sip's rule gone"
lvsh -c 'no group web; no group spare'
assert_eq '{"groups":[]}' "$(lvsh show groups --json)" "show groups --json with no groups"
assert_eq "$head
COMMIT" "$(save4)" "iptables-legacy-save -t mangle after the last group"
assert_eq "$head
COMMIT" "$(save6)" "ip6tables-legacy-save -t mangle after the last group"
echo "PASS"
