#!/bin/bash
# Proves the harness: nftables works in the scenario's own namespace of the
# qemu guest, and `nft list` reads back what was written.
# timeout: 30
. "${LAB_LIB:?run via tools/lab/qemu/run}"

nft -f - <<'NFT'
table inet lab {
    set vips {
        type ipv4_addr
        elements = { 192.0.2.10, 192.0.2.11 }
    }
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        ip daddr @vips tcp dport 80 meta mark set 0x1
    }
}
NFT

assert_eq "table inet lab" "$(nft list tables)" "nft list tables"
assert_eq "table inet lab {
	set vips {
		type ipv4_addr
		elements = { 192.0.2.10, 192.0.2.11 }
	}

	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip daddr @vips tcp dport 80 meta mark set 0x00000001
	}
}" "$(nft list table inet lab)" "nft list table inet lab"

nft delete table inet lab
assert_eq "" "$(nft list tables)" "nft list tables after delete"
