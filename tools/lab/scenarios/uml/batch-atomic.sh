#!/bin/bash
# Batch files are all or nothing: a 500-line file with an error on its last line applies nothing, and
# a kernel refusal injected mid-file (LVSH_FAIL_STEP) leaves the kernel as it was. Witnesses: ipvsadm
# and iptables-legacy-save, compared before and after.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
ip link add eth0 type dummy
ip addr add 10.1.0.1/16 dev eth0
ip link set eth0 up
witness() {
    ipvsadm -S -n
    ipvsadm -L -n --thresholds | tail -n +2
    iptables-legacy-save -t mangle 2>/dev/null | grep -E 'LVSH|lvsh' || true
}
# A starting state, so "unchanged" means more than "still empty".
"$LVSH" -c 'group base vip 10.0.0.9 tcp 80; service base scheduler rr; real base 10.1.9.9 nat'
witness >"$LAB_TMP/before"

# 500 lines: 100 services with 4 real servers each; the last line is wrong.
{
    for ((i = 1; i <= 100; i++)); do
        echo "service tcp 10.0.1.$i:80 scheduler wlc"
        for j in 1 2 3 4; do echo "real tcp 10.0.1.$i:80 10.1.$i.$j nat weight $j"; done
    done
} >"$LAB_TMP/big.lvsh"
sed -i '$ s/weight 4$/weight 70000/' "$LAB_TMP/big.lvsh"
[ "$(wc -l <"$LAB_TMP/big.lvsh")" = 500 ] || fail "the file should have 500 lines"
set +e
"$LVSH" -f "$LAB_TMP/big.lvsh" 2>"$LAB_TMP/err"
rc=$?
set -e
cat "$LAB_TMP/err"
[ $rc = 2 ] || fail "a bad last line must exit 2, got $rc"
grep -q "big.lvsh:500:" "$LAB_TMP/err" || fail "the error must name FILE:500:COL"
grep -q "'70000' is not a number from 0 to 65535" "$LAB_TMP/err" || fail "the error must say what is wrong"
witness | diff -u "$LAB_TMP/before" - || fail "the kernel changed although the file had an error"
echo "a bad last line of 500 applied nothing"

# The same file, fixed, with the kernel refusing step 250 of it: everything is undone.
sed -i '$ s/weight 70000$/weight 4/' "$LAB_TMP/big.lvsh"
echo "group web vip 10.0.0.10 tcp 80,443" >>"$LAB_TMP/big.lvsh"
set +e
LVSH_FAIL_STEP=250 "$LVSH" -f "$LAB_TMP/big.lvsh" 2>"$LAB_TMP/err"
rc=$?
set -e
cat "$LAB_TMP/err"
[ $rc = 1 ] || fail "a kernel refusal must exit 1, got $rc"
grep -q "undone" "$LAB_TMP/err" || fail "the report must say the changes were undone"
witness | diff -u "$LAB_TMP/before" - || fail "the kernel is not as it was after the undo"
echo "a refusal at step 250 left the kernel as it was"

# And a real refusal from the kernel: a real server address IPVS refuses, behind ipvsadm's back.
printf 'service tcp 10.0.2.1:80 scheduler rr\nreal tcp 10.0.2.1:80 10.1.2.1 nat\nservice tcp 10.0.2.2:80 scheduler nosuch\n' >"$LAB_TMP/refused.lvsh"
set +e
"$LVSH" -f "$LAB_TMP/refused.lvsh" 2>"$LAB_TMP/err"
rc=$?
set -e
cat "$LAB_TMP/err"
[ $rc != 0 ] || fail "an unknown scheduler must fail"
witness | diff -u "$LAB_TMP/before" - || fail "the kernel changed although a line was refused"

# Without the error the file applies, and ipvsadm sees all 100 services.
"$LVSH" -f "$LAB_TMP/big.lvsh"
[ "$(ipvsadm -S -n | grep -c '^-A')" = 101 ] || fail "expected 101 services after the good file"
echo "the good file applied: $(ipvsadm -S -n | wc -l) ipvsadm -S lines"
