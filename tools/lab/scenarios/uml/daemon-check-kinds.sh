#!/bin/bash
# Every check kind of lvsh daemon against a real peer from Debian's packages, each peer in the
# real servers' namespace: tcp and http (python3's servers), https (openssl s_server with a
# certificate made here), udp (an echo), dns (dnsmasq), smtp (a small responder), script, ping
# (the namespace's own ICMP), file, and tcp with `handshake half` (a raw SYN). Witness: ipvsadm -S -n.
# Probes get 2 s and two failures: the guest is slow to start a process (script) when busy.
# Asserted: with every peer answering, every real server gets its written weight (alpha: only after
# its check passed); with each peer stopped (or the script and the file saying so), each goes to
# weight 0, and show health says why; ping goes down when the real server's link does.
# timeout: 200
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
command -v dnsmasq >/dev/null || fail "dnsmasq is missing (tools/setup installs dnsmasq-base)"

RS=10.0.21.21
netns_add kc-rs
veth_pair kc-rs eth0 $RS/24 "$LAB_NS" r1 10.0.21.1/24
in_ns kc-rs ip route add default via 10.0.21.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add 10.0.0.100/32 dev vip0

peers=()
peer() { ip netns exec kc-rs "$@" >/dev/null 2>&1 & peers+=($!); _lab_pids+=($!); }
mkdir -p www
echo ok >www/index.html
peer /usr/bin/python3 -m http.server 80 --bind $RS --directory www
peer /usr/bin/python3 -c "
import asyncio
async def serve(r, w): w.close()
async def main():
    async with await asyncio.start_server(serve, '$RS', 22) as s: await s.serve_forever()
asyncio.run(main())"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=web.lab 2>/dev/null
peer openssl s_server -accept $RS:443 -cert cert.pem -key key.pem -www -quiet
peer dnsmasq --no-daemon --conf-file=/dev/null --port=53 --listen-address=$RS --bind-interfaces \
    --no-resolv --no-hosts --address=/web.lab/10.0.0.1 --user=root
peer /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$RS', 5000))
while True:
    data, peer = s.recvfrom(2048); s.sendto(b'PONG' + data, peer)"
peer /usr/bin/python3 -c "
import asyncio
async def serve(r, w):
    w.write(b'220 smtp.lab ready\r\n'); await w.drain()
    while line := await r.readline():
        word = line.split(b' ')[0].strip().upper()
        if word in (b'HELO', b'EHLO'): w.write(b'250 smtp.lab\r\n')
        elif word == b'QUIT': w.write(b'221 bye\r\n'); await w.drain(); break
        else: w.write(b'502 no\r\n')
        await w.drain()
    w.close()
async def main():
    async with await asyncio.start_server(serve, '$RS', 25) as s: await s.serve_forever()
asyncio.run(main())"
echo 0 >script-exit
printf '#!/bin/sh\nexit "$(cat %s)"\n' "$PWD/script-exit" >probe.sh
chmod +x probe.sh
echo 0 >drain-file
for p in 80 22 443 25; do wait_port kc-rs $p; done

cat >site.lvsh <<EOF
sysctl ip_forward 1
check k-tcp tcp interval 2 timeout 2 rise 1 fall 2
check k-http http path /index.html expect ok interval 2 timeout 2 rise 1 fall 2
check k-https https path / sni web.lab interval 2 timeout 2 rise 1 fall 2
check k-udp udp payload 70696e67 expect 504f4e47 interval 2 timeout 2 rise 1 fall 2
check k-dns dns query web.lab type A interval 2 timeout 2 rise 1 fall 2
check k-smtp smtp helo director.lab interval 2 timeout 2 rise 1 fall 2
check k-script script interval 2 timeout 2 rise 1 fall 2 $PWD/probe.sh
check k-ping ping interval 2 timeout 2 rise 1 fall 2
check k-file file path $PWD/drain-file interval 2 timeout 2 rise 1 fall 2
check k-syn tcp handshake half port 22 interval 2 timeout 2 rise 1 fall 2
EOF
kinds=(tcp:tcp:22 http:tcp:80 https:tcp:443 udp:udp:5000 dns:udp:53 smtp:tcp:25 script:tcp:8001 ping:tcp:8002 file:tcp:8003 syn:tcp:8004)
for k in "${kinds[@]}"; do
    IFS=: read -r kind proto port <<<"$k"
    printf 'service %s 10.0.0.100:%s scheduler rr\nreal %s 10.0.0.100:%s %s nat weight 7\nservice %s 10.0.0.100:%s check k-%s\n' \
        "$proto" "$port" "$proto" "$port" "$RS" "$proto" "$port" "$kind" >>site.lvsh
done
"$LVSH" daemon "$PWD/site.lvsh" 2>daemon.log &
daemon=$!
at_exit "kill -9 $daemon 2>/dev/null"

# weight -t|-u PORT: the real server's weight (the spaces keep port 80 from matching 8001).
weight() { ipvsadm -S -n | awk -v s="$1 10.0.0.100:$2 " -v r="-r $RS:$2 " 'index($0, s) && index($0, r) { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# all_weights WANT SECONDS [KINDS...]: wait until every listed kind's real server has weight WANT.
all_weights() {
    local want=$1 seconds=$2 i k kind proto port flag
    shift 2
    for ((i = 0; i < seconds * 10; i++)); do
        flag=ok
        for k in "$@"; do
            IFS=: read -r kind proto port <<<"$k"
            [ "$(weight "-$( [ "$proto" = tcp ] && echo t || echo u)" "$port")" = "$want" ] || { flag=; break; }
        done
        [ -n "$flag" ] && return 0
        sleep 0.1
    done
    ipvsadm -S -n >&2
    "$LVSH" show health >&2 || true
    cat daemon.log >&2
    fail "not every one of ${*%%:*} reached weight $want within $seconds s"
}

echo "== every peer answers: every real server gets its weight"
all_weights 7 30 "${kinds[@]}"
"$LVSH" show health

echo "== every peer stops (ping: later): weight 0, and show health says why"
kill "${peers[@]}"
echo 1 >script-exit
echo 1 >drain-file
all_weights 0 20 "${kinds[@]:0:7}" "${kinds[8]}" "${kinds[9]}"
"$LVSH" show health | tee health.txt
for kind in tcp http https udp dns smtp script file syn; do
    grep -q "k-$kind .* down .* failed" health.txt || fail "show health does not say k-$kind failed"
done
[ "$(weight -t 8002)" = 7 ] || fail "ping went down while the real server still answers ICMP"
ip -n kc-rs link set eth0 down
all_weights 0 15 "${kinds[7]}"
kill -TERM "$daemon"
wait "$daemon"
echo "ok"
