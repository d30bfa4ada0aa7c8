#!/bin/bash
# One engine under every front, on a kernel with IPVS: apply takes `time` as it takes `timeout`; a
# batch that mixes changes with shows, ipvsadm lines, save and load is one transaction (shows see the
# candidate, the file is written after the commit) and finishes; a refusal anywhere in it applies
# nothing; lvsh's language words refusals with its own commands, `ipvsadm` lines with ipvsadm's.
# Witnesses: ipvsadm -S -n, ipvsadm -L --timeout.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
ip link add eth0 type dummy
ip addr add 10.1.0.1/16 dev eth0
ip link set eth0 up

echo "== apply: time tcp 901 tcpfin 121 udp 301 (an abbreviation of timeout)"
printf 'time tcp 901 tcpfin 121 udp 301\nservice tcp 10.0.0.5:80 scheduler rr\n' >"$LAB_TMP/t.lvsh"
"$LVSH" apply "$LAB_TMP/t.lvsh" --json >"$LAB_TMP/t.json"
ipvsadm -L --timeout | tee "$LAB_TMP/timeouts"
grep -q "901 121 301" "$LAB_TMP/timeouts" || fail "apply did not set the timeouts it was given with time"
"$LVSH" apply "$LAB_TMP/t.lvsh" --json >"$LAB_TMP/t2.json"
grep -q '"changed":false' "$LAB_TMP/t2.json" || fail "a second apply must change nothing: $(cat "$LAB_TMP/t2.json")"

echo "== a mixed batch: change, ipvsadm line, show, save, load, change"
printf 'real tcp 10.0.0.5:80 10.1.0.12 nat\n' >"$LAB_TMP/more.lvsh"
timeout 30 "$LVSH" -c "real tcp 10.0.0.5:80 10.1.0.11 nat weight 2; ipvsadm -a -t 10.0.0.5:80 -r 10.1.0.13 -m; \
show services | include 10.1.0.1; save $LAB_TMP/saved.lvsh; load $LAB_TMP/more.lvsh; ipvsadm -S -n" >"$LAB_TMP/out" \
    || fail "the mixed batch failed or hung (exit $?)"
cat "$LAB_TMP/out"
grep -q "10.1.0.11:80" "$LAB_TMP/out" && grep -q "10.1.0.13:80" "$LAB_TMP/out" || fail "show did not see the batch's changes"
grep -q "saved to $LAB_TMP/saved.lvsh" "$LAB_TMP/out" || fail "save said nothing"
grep -q "10.1.0.13" "$LAB_TMP/saved.lvsh" && ! grep -q "10.1.0.12" "$LAB_TMP/saved.lvsh" || fail "save must hold the state at its place"
grep -q -- "-a -t 10.0.0.5:80 -r 10.1.0.12:80 -m -w 1" "$LAB_TMP/out" || fail "the listing at the end must see the loaded file"
ipvsadm -S -n >"$LAB_TMP/after"
for r in 10.1.0.11 10.1.0.12 10.1.0.13; do grep -q "$r:80" "$LAB_TMP/after" || fail "$r is missing from the kernel"; done

echo "== refusals apply nothing and speak the line's language"
for line in "real tcp 10.0.0.5:80 10.1.0.14 nat; no real tcp 10.0.0.5:80 10.1.0.99" \
             "real tcp 10.0.0.5:80 10.1.0.14 nat; ipvsadm -d -t 10.0.0.5:80 -r 10.1.0.99"; do
    set +e
    "$LVSH" -c "$line" 2>"$LAB_TMP/err"
    rc=$?
    set -e
    cat "$LAB_TMP/err"
    [ $rc = 2 ] || fail "'$line' must exit 2, got $rc"
    ipvsadm -S -n | diff -u "$LAB_TMP/after" - || fail "'$line' changed the kernel"
done
grep -q "delete that with -r\|nothing to delete" "$LAB_TMP/err" || fail "an ipvsadm line's refusal must be ipvsadm's"
"$LVSH" -c "no real tcp 10.0.0.5:80 10.1.0.99" 2>"$LAB_TMP/err2" && fail "removing a missing real server must fail"
cat "$LAB_TMP/err2"
grep -q "nothing to remove" "$LAB_TMP/err2" || fail "lvsh's refusal must be lvsh's"
! grep -qE -- ' -[Aaer] ' "$LAB_TMP/err2" || fail "lvsh's language must not name ipvsadm options"
echo "ok"
