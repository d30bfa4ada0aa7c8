#!/bin/bash
# Runs every `lvsh ...` line of README.md's ```sh blocks, block by block, each block in a fresh
# namespace from the repository's folder (so rules/ paths work), and fails if any line fails.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
repo=$(cd "$(dirname "$LAB_LIB")/../../.." && pwd)
cd "$repo"
blocks=$LAB_TMP/blocks
mkdir -p "$blocks"
# One file per ```sh block, holding its lvsh lines.
awk -v dir="$blocks" '
    /^```sh$/ { n++; inside = 1; next }
    /^```/ { inside = 0; next }
    inside && /^lvsh / { print > (dir "/" sprintf("%02d", n)) }' README.md
count=0
for block in "$blocks"/*; do
    ns=readme-$(basename "$block")
    netns_add "$ns"
    in_ns "$ns" ip link add eth0 type dummy
    in_ns "$ns" ip addr add 192.168.147.1/24 dev eth0
    in_ns "$ns" ip link set eth0 up
    while IFS= read -r line; do
        echo "\$ $line"
        # The README writes `lvsh`; here it is the binary under test.
        in_ns "$ns" bash -c "${line/#lvsh/$LVSH}" || fail "README example failed: $line"
        count=$((count + 1))
    done <"$block"
done
[ "$count" -ge 15 ] || fail "only $count README examples found"
echo "$count README examples ran"
