# The kernel state lvsh manages, printed by tools lvsh did not write; source after lib.sh:
#   . "$(dirname "$LAB_LIB")/witness.sh"
# `witness` prints everything `ipvsadm -S -n` shows and what it loses (thresholds, tunnel options,
# sync daemons, timeouts), every IPVS and forwarding sysctl, and lvsh's iptables chain (group names
# live in its rule comments). Two states are equal for lvsh exactly when their witnesses are.

# witness [NS]: the whole witness text, for namespace NS (default: the scenario's own).
witness() {
    local ns=${1:-$LAB_NS}
    echo "## ipvsadm -S -n"; ip netns exec "$ns" ipvsadm -S -n
    # --thresholds and --tun-info also print the scheduler flags (one-packet, sh-port, ...), which
    # -S shows only in part; the header lines carry nothing.
    echo "## ipvsadm -L -n --thresholds"; ip netns exec "$ns" ipvsadm -L -n --thresholds | tail -n +3
    echo "## ipvsadm -L -n --tun-info"; ip netns exec "$ns" ipvsadm -L -n --tun-info | tail -n +3
    echo "## ipvsadm -L -n --daemon"; ip netns exec "$ns" ipvsadm -L -n --daemon
    echo "## ipvsadm -L -n --timeout"; ip netns exec "$ns" ipvsadm -L -n --timeout
    echo "## sysctl"
    ip netns exec "$ns" sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
    ip netns exec "$ns" sysctl net.ipv4.vs 2>/dev/null | sort
    echo "## iptables-legacy-save -t mangle"; witness_mangle iptables-legacy-save "$ns"
    echo "## ip6tables-legacy-save -t mangle"; witness_mangle ip6tables-legacy-save "$ns"
}

# witness_mangle SAVE NS: the mangle table without dates, counters, or lvsh's generation comment.
# The generation counts lvsh's writes to its chain (it is how lvsh notices a concurrent writer), so it
# grows with every write and with every undo; it says nothing about what is marked.
witness_mangle() {
    ip netns exec "$2" "$1" -t mangle 2>/dev/null | grep -v -e '^#' -e 'lvsh generation' |
        sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
}

# witness_save FILE [NS]: write the witness to FILE.
witness_save() { witness "${2:-$LAB_NS}" >"$1"; }

# witness_same FILE WHAT [NS]: fail, with a diff, unless the kernel matches the witness in FILE.
witness_same() {
    witness "${3:-$LAB_NS}" >"$LAB_TMP/witness-now"
    assert_file_eq "$1" "$LAB_TMP/witness-now" "$2"
}
