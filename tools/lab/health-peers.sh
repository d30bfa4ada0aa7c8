#!/bin/bash
# Runs every health-check kind of Sources/Health against real peers, inside a fresh network
# namespace with only loopback: python3's http.server, openssl s_server with a certificate made
# here, dnsmasq (Debian's dnsmasq-base), a UDP echo and a tiny SMTP responder, all on 127.0.0.1/::1.
# Usage: tools/lab/health-peers.sh   (as root; builds the tests first, outside the namespace)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v dnsmasq >/dev/null || apt-get install -y dnsmasq-base
swift build --build-tests >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WORK=$work REPO=$PWD
unshare -n bash -uo pipefail -c '
    trap "kill \$(jobs -p) 2>/dev/null" EXIT
    ip link set lo up
    # An address whose packets are dropped on arrival: a connect there times out.
    ip addr add 198.51.100.2/32 dev lo
    nft "add table inet sink; add chain inet sink in { type filter hook input priority 0; }; add rule inet sink in ip daddr 198.51.100.2 drop"
    cd "$WORK"
    printf "all ok\n" > health.txt
    head -c 200000 /dev/zero | tr "\\0" x > big.txt
    python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &
    # Accepts and closes, on every address of the namespace: the scheduler test probes 1,000 of
    # 127.0.0.0/8 a second (http.server'"'"'s backlog of 5 would drop their SYNs).
    python3 -c "
import asyncio
async def serve(r, w): w.close()
async def main():
    async with await asyncio.start_server(serve, \"0.0.0.0\", 9000, backlog=4096) as s: await s.serve_forever()
asyncio.run(main())
" &
    python3 -m http.server 8081 --bind ::1 >/dev/null 2>&1 &
    openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=web.lab 2>/dev/null
    openssl s_server -accept 8443 -cert cert.pem -key key.pem -www -quiet >/dev/null 2>&1 &
    dnsmasq --no-daemon --conf-file=/dev/null --port=5353 --listen-address=127.0.0.1 --bind-interfaces \
        --no-resolv --no-hosts --address=/web.lab/10.0.0.1 --address=/web.lab/fd00::1 --user=root >/dev/null 2>&1 &
    python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\", 5000))
while True:
    data, peer = s.recvfrom(2048); s.sendto(b\"PONG\" + data, peer)
" &
    python3 -c "
import asyncio
async def serve(r, w):
    w.write(b\"220-smtp.lab ESMTP\r\n220 ready\r\n\"); await w.drain()
    while line := await r.readline():
        word = line.split(b\" \")[0].strip().upper()
        if word in (b\"HELO\", b\"EHLO\"): w.write(b\"250 smtp.lab\r\n\")
        elif word == b\"QUIT\": w.write(b\"221 bye\r\n\"); await w.drain(); break
        else: w.write(b\"502 no\r\n\")
        await w.drain()
    w.close()
async def main():
    async with await asyncio.start_server(serve, \"127.0.0.1\", 2525) as s: await s.serve_forever()
asyncio.run(main())
" &
    sleep 1.5
    # Raw ICMP first (ping_group_range refuses ping sockets by default), then the ping-socket path.
    LVSH_HEALTH_PEERS=1 swift test --package-path "$REPO" --skip-build --filter LivePeerTests > "$WORK/raw.log" 2>&1
    raw=$?
    sysctl -qw net.ipv4.ping_group_range="0 0"
    LVSH_HEALTH_PEERS=1 swift test --package-path "$REPO" --skip-build --filter "LivePeerTests/ping" > "$WORK/socket.log" 2>&1
    sockets=$?
    grep -E "probe |scheduler:|✘|Test run|recorded" "$WORK/raw.log" || cat "$WORK/raw.log"
    echo "--- with net.ipv4.ping_group_range=0 0 (ping sockets):"
    grep -E "probe |✘|Test run|recorded" "$WORK/socket.log" || cat "$WORK/socket.log"
    # The tests ran only if they say so: a filter that matched nothing also exits 0.
    grep -q "Test run with .* passed" "$WORK/raw.log" && grep -q "Test run with .* passed" "$WORK/socket.log" && [ $raw = 0 ] && [ $sockets = 0 ]
'
