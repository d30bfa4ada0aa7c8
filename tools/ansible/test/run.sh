#!/usr/bin/env bash
# The ansible module against this host, in a namespace of its own (never the host's network):
# first run changed, second run not, --check --diff shows the difference and changes nothing.
# Installs ansible-core from PyPI into .lab/ansible-venv on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
export LVSH_BIN=${LVSH_BIN:-$repo/.build/debug/lvsh}
venv=$repo/.lab/ansible-venv
if [ ! -x "$venv/bin/ansible-playbook" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'ansible-core>=2.15,<2.18'
fi
export LVSH_NETNS=lvsh-ansible-$$
ip netns add "$LVSH_NETNS"
trap 'ip netns del "$LVSH_NETNS"' EXIT
ip -n "$LVSH_NETNS" link set lo up
export ANSIBLE_LIBRARY=$repo/tools/ansible/library ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export ANSIBLE_PYTHON_INTERPRETER=$venv/bin/python ANSIBLE_NOCOLOR=1
play() { "$venv/bin/ansible-playbook" -i localhost, "$here/playbook.yml" "$@"; }
recap() { grep -o 'changed=[0-9]*' | head -n 1; }
fail() { echo "FAIL: $*"; exit 1; }

out=$(play) || { echo "$out"; fail "first run failed"; }
echo "$out" | tail -n 3
[ "$(echo "$out" | recap)" = changed=1 ] || fail "first run: expected changed=1"
# Read first, then match: `nft ... | grep -q` fails under pipefail whenever grep's early exit
# kills nft with SIGPIPE before it has written everything (seen under load in CI).
rules=$(ip netns exec "$LVSH_NETNS" nft list table inet lvsh)
grep -qF '192.168.61.129 . tcp . 443 :' <<<"$rules" || { echo "$rules"; fail "the group is not in the kernel"; }
[ "$(ip netns exec "$LVSH_NETNS" sysctl -n net.ipv4.ip_forward)" = 1 ] || fail "ip_forward is not 1"

out=$(play) || { echo "$out"; fail "second run failed"; }
[ "$(echo "$out" | recap)" = changed=0 ] || { echo "$out"; fail "second run: expected changed=0"; }
echo "second run: changed=0"

before=$(ip netns exec "$LVSH_NETNS" nft -j list ruleset)
out=$(WEB_PORTS=80,443,8443 play --check --diff) || { echo "$out"; fail "check run failed"; }
echo "$out" | grep -E '^[-+]group web' || { echo "$out"; fail "--check --diff shows no diff of group web"; }
[ "$(echo "$out" | recap)" = changed=1 ] || fail "check run: expected changed=1 (pending)"
[ "$(ip netns exec "$LVSH_NETNS" nft -j list ruleset)" = "$before" ] || fail "--check changed the ruleset"
echo "check run: diff shown, ruleset unchanged"

# Failure: lvsh's own message reaches ansible.
out=$(WEB_PORTS=0 play 2>&1) && fail "a bad port was accepted"
echo "$out" | grep -q "port 0 cannot be matched" || { echo "$out"; fail "lvsh's message did not reach ansible"; }
echo "bad input: lvsh's message shown, play failed"
echo "1 passed, 0 failed"
