#!/bin/bash
# The generated bash completion (tools/packaging/generated/lvsh.bash, what the Debian package installs)
# offers the kernel's live values: `lvsh real web <TAB>` lists the real servers of the group's fwmark
# service and `lvsh real tcp VIP:PORT <TAB>` those of that service, as `ipvsadm -S -n` shows them;
# a partial ADDRESS:PORT completes across bash's ':' word break; `no group <TAB>` lists the groups.
# Real bash runs the script's function over COMP_LINE/COMP_WORDS as readline would set them.
# timeout: 60
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
repo=$(cd "$(dirname "$LAB_LIB")/../../.." && pwd)

ip link set lo up
ip link add lab0 type dummy
ip addr add 10.1.0.1/24 dev lab0
ip link set lab0 up

# The script runs `lvsh` as the line names it: put this build on PATH under that name. The settings
# file picks the iptables backend (this kernel has no nf_tables), for the commands and for TAB alike.
bin=$(mktemp -d)
ln -s "$LVSH" "$bin/lvsh"
PATH=$bin:$PATH
conf=$(mktemp)
echo "set backend iptables" >"$conf"
lvsh --config "$conf" -c 'group web vip 192.0.2.10 tcp 80,443; group mail vip 192.0.2.11 tcp 25
    service web scheduler wlc; real web 10.1.0.11 nat weight 3; real web 10.1.0.12 nat
    service tcp 192.0.2.20:53 ; real tcp 192.0.2.20:53 10.1.0.21:5353 nat'

# The real servers ipvsadm lists for a service (its -S form names them ADDRESS:PORT).
reals() { ipvsadm -S -n | awk -v s="$1" '$1 == "-a" && $2 " " $3 == s { print $5 }' | sort | tr '\n' ' '; }
web=$(reals "-f 1000")
tcp=$(reals "-t 192.0.2.20:53")
[ -n "$web" ] && [ -n "$tcp" ] || fail "ipvsadm shows no real servers: web '$web', tcp '$tcp'"

source "$repo/tools/packaging/generated/lvsh.bash"
# complete LINE: what TAB offers at the end of LINE, sorted, as bash would set the words for it
# (split at blanks and at COMP_WORDBREAKS' ':').
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#1}
    local split=${1//:/ : }
    read -r -a COMP_WORDS <<<"$split"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _lvsh
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

assert_eq "$web" "$(complete_line "lvsh --config $conf real web ")" "lvsh real web <TAB>"
assert_eq "$tcp" "$(complete_line "lvsh --config $conf real tcp 192.0.2.20:53 10.1")" "lvsh real tcp 192.0.2.20:53 10.1<TAB>"
# After `10.1.0.21:` readline replaces only what follows the ':', so the candidate is the port.
assert_eq "5353 " "$(complete_line "lvsh --config $conf real tcp 192.0.2.20:53 10.1.0.21:")" "ADDRESS:<TAB>"
assert_eq "mail web " "$(complete_line "lvsh --config $conf no group ")" "lvsh no group <TAB>"
echo "real web <TAB>: $web"
