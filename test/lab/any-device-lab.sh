#!/usr/bin/env bash
# Any-device lab: one Docker-like host namespace with two interfaces that matter, the uplink
# eth0 (192.0.2.1/24 on a LAN) and a bridge docker0 (172.17.0.1/16) with a veth to a
# container (172.17.0.2) that Docker's DNAT for `-p 8080:80` reaches, plus one DOCKER-USER
# DROP for 198.51.100.0/24; the host itself serves 9090. Clients: "good" (192.0.2.10)
# connects to 8080 and 9090; "remote" (198.51.100.20) to 8080, dropped in FORWARD after the
# DNAT; "overlap" (172.17.0.50, inside docker0's subnet) to 9090, whose SYN-ACK the host
# routes into docker0 (ARP for it there).
# The same traffic is captured three ways at once, in the host namespace:
#   DIR/named.pcapng     synscope live -i eth0 -i docker0 --write (the reference)
#   DIR/any.pcap         tcpdump -i any -y LINUX_SLL2 -w
#   DIR/live-any.pcapng  synscope live -i any --write, its report in DIR/live-any.json
# and DIR/context.json is `synscope context --output` in the host namespace afterwards.
# Usage: any-device-lab.sh DIR   (root; about 10 s)
source "$(dirname "$0")/netns-lab.sh"
dir=$(realpath -m "$1")
mkdir -p "$dir"

lab_ns host; lab_ns good; lab_ns remote; lab_ns overlap; lab_ns web
lab_lan host good remote overlap

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip route add 198.51.100.0/24 dev eth0
lab_docker0 host web veth-web 172.17.0.2
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

lab_in host iptables-restore <<'EOF'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-USER -s 198.51.100.0/24 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
EOF

lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in remote ip addr add 198.51.100.20/24 dev eth0
lab_in remote ip route add 192.0.2.0/24 dev eth0
lab_in overlap ip addr add 172.17.0.50/24 dev eth0
lab_in overlap ip route add 192.0.2.0/24 dev eth0

lab_serve web 80 30
lab_serve host 9090 30

# Every capture runs until the traffic is over and is then stopped with SIGTERM, so all
# three see the same packets whatever the machine's load (SIGINT would not do: a
# non-interactive shell's background jobs ignore it); each is waited for until it says
# its handle is open ("listening on", "capturing on").
await_line() { # await_line PID LOG TEXT
  for _ in $(seq 200); do
    grep -q "$3" "$2" && return 0
    kill -0 "$1" 2>/dev/null || { cat "$2" >&2; return 1; }
    sleep 0.05
  done
  cat "$2" >&2; return 1
}
logs=$(mktemp -d)
ip netns exec "$LAB-host" tcpdump -q -s 256 -i any -y LINUX_SLL2 -w "$dir/any.pcap" 2>"$logs/tcpdump" &
tcpdump_pid=$!
ip netns exec "$LAB-host" node "$LAB_REPO/bin/synscope.js" live -i eth0 -i docker0 --duration 120s --write "$dir/named.pcapng" --no-trace --json \
  --docker-socket /nonexistent/docker.sock >/dev/null 2>"$logs/named" &
named_pid=$!
ip netns exec "$LAB-host" node "$LAB_REPO/bin/synscope.js" live -i any --duration 120s --write "$dir/live-any.pcapng" --no-trace --json \
  --docker-socket /nonexistent/docker.sock >"$dir/live-any.json" 2>"$logs/any" &
any_pid=$!
await_line "$tcpdump_pid" "$logs/tcpdump" 'listening on'
await_line "$named_pid" "$logs/named" 'capturing on'
await_line "$any_pid" "$logs/any" 'capturing on'

lab_connect good 192.0.2.1 8080 2
lab_connect remote 192.0.2.1 8080 4 &
remote_pid=$!
lab_connect overlap 192.0.2.1 9090 4 &
overlap_pid=$!
lab_connect good 192.0.2.1 9090 2
lab_connect good 192.0.2.1 8080 2
wait "$remote_pid" "$overlap_pid" || true
kill -TERM "$tcpdump_pid" "$named_pid" "$any_pid"
wait "$tcpdump_pid" || true
wait "$named_pid" || { cat "$logs/named" >&2; exit 1; }
wait "$any_pid" || { cat "$logs/any" >&2; exit 1; }
rm -rf "$logs"
lab_in host node "$LAB_REPO/bin/synscope.js" context --output "$dir/context.json" --docker-socket /nonexistent/docker.sock
echo "wrote $dir"
