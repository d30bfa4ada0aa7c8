#!/bin/bash
# `lvsh --version` reads the kernel's IPVS version (generic-netlink GET_INFO): the same version and
# table size that ipvsadm's listing header shows, after lvsh's own version and build commit.
# timeout: 30
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

out=$("$LVSH" --version)
header=$(ipvsadm -L -n | head -n 1)   # IP Virtual Server version 1.2.1 (size=4096)
version=$(echo "$header" | sed -n 's/^IP Virtual Server version \([0-9.]*\) (size=\([0-9]*\)).*/\1 \2/p')
[ -n "$version" ] || fail "ipvsadm's header is not as expected: $header"
set -- $version
assert_eq "IPVS $1 (connection table size $2)" "$(echo "$out" | sed -n 2p)" "lvsh --version's IPVS line"
first=$(first_line "$out")
[[ $first =~ ^lvsh\ [0-9.]+\ \(commit\ [0-9a-f]{12}\)$ ]] || fail "first line: $out"
echo "$out"
