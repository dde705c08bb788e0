#!/usr/bin/env bash
# Scenario masquerade-outbound: a container (172.17.0.2 behind docker0) connects out to an
# external server 203.0.113.10 through the Docker host, whose nat rule
# `-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE` rewrites the source to the
# host's uplink address 192.0.2.1 on eth0 (the server's network is reached on-link over the
# uplink LAN). Port 80 on the server answers; port 81 is silently dropped by the server's
# own firewall (`-A INPUT -p tcp --dport 81 -j DROP`), so the container's SYNs to it leave
# the host, translated, and nothing ever comes back.
# Writes OUT.pcapng (synscope live --write on docker0 and eth0 in the host namespace) and
# CONTEXT.json (the host context synscope live --write took in the host namespace, with
# the kernel counters of the capture window).
# Usage: record-masquerade-outbound.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Verdict: one `nat-path-break` error for 203.0.113.10:81: the attempt was seen on docker0
# (172.17.0.2 → 203.0.113.10:81) and, masqueraded, on eth0 (192.0.2.1 → 203.0.113.10:81),
# the last hop, where it leaves the host; nothing came back at either hop, so the break is
# beyond this host: the remedy is to capture at the server (or the next router) and check
# its firewall. From the context the finding names the MASQUERADE rule and the route to the
# server (eth0). No `filtered`. NAT stitching: every attempt shows up as two flows (docker0
# with the container's tuple, the outermost hop, then eth0 `snat`); the two answered
# attempts to port 80 and the one to port 81 count once each (3 attempts, 2 completed).
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns server; lab_ns app
lab_lan host server

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip route add 203.0.113.0/24 dev eth0
lab_docker0 host app veth-app 172.17.0.2

# Docker's nat and filter rules for the default bridge with no published port.
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
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
EOF

lab_in server ip addr add 203.0.113.10/24 dev eth0
lab_in server ip route add 192.0.2.0/24 dev eth0
lab_in server iptables -A INPUT -p tcp --dport 81 -j DROP

lab_serve server 80
lab_capture host "$out" 8 docker0 eth0
lab_connect app 203.0.113.10 80 2
lab_connect app 203.0.113.10 81 4 &
lab_connect app 203.0.113.10 80 2
wait $! || true
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
