#!/usr/bin/env bash
# Scenario published-port-docker-user-drop: a Docker host publishes a container's port 80
# as 192.0.2.1:8080 with the nat rules Docker writes for `docker run -p 8080:80` (PREROUTING
# and OUTPUT jump to the DOCKER chain for local destinations, which DNATs tcp/8080 to
# 172.17.0.2:80 on docker0; POSTROUTING masquerades the bridge subnet), and the filter
# rules Docker writes around it (FORWARD policy DROP, FORWARD → DOCKER-USER →
# DOCKER-ISOLATION-STAGE-1 → DOCKER, where one ACCEPT lets tcp/80 reach the container).
# The operator added one rule to DOCKER-USER, `-s 198.51.100.0/24 -j DROP`. The client
# 192.0.2.10 on the uplink LAN connects fine; the client 198.51.100.20 (another network
# routed on-link over the same LAN) sends SYNs that the host DNATs and then drops in
# FORWARD: they are seen on eth0 and never on docker0.
# Writes OUT.pcapng (synscope live --write on eth0 and docker0 in the host namespace) and
# CONTEXT.json (the host context synscope live --write took in the host namespace, with
# iptables-save and nft list ruleset, and the kernel counters of the capture window).
# Usage: record-published-port-docker-user-drop.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Verdict: one `nat-path-break` error for 192.0.2.1:8080 and the client 198.51.100.20: its
# attempt was seen only on eth0, while the service's path goes on to docker0 with DNAT to
# 172.17.0.2:80 (the two good attempts were stitched eth0 → docker0; the context's DNAT
# rule says the same), so the SYN vanished inside the host between eth0 (the last hop it
# reached) and docker0 (where it never arrived), in the forward path after the DNAT. From
# the context the finding names the DNAT rule for tcp/8080, the DOCKER-USER rule that
# drops the client (`-s 198.51.100.0/24 -j DROP`; shown as the nft ruleset prints it when
# the snapshot's iptables-save text holds only the nat table, as on this iptables-nft
# host), the reply route to the client (eth0) and docker0 as the next hop's bridge.
# No `filtered`: the path break explains the silence. NAT stitching: the two good
# attempts each count once (eth0 `none` → docker0 `dnat`).
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns remote; lab_ns web
lab_lan host good remote

lab_in host ip addr add 192.0.2.1/24 dev eth0
# The remote network is reached on-link over the same LAN (as the gwbridge lab's office).
lab_in host ip route add 198.51.100.0/24 dev eth0
lab_docker0 host web veth-web 172.17.0.2

# Docker's rules for `docker run -p 8080:80` on the default bridge (Docker 24+, as
# iptables-save prints them).
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
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
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
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -s 198.51.100.0/24 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
EOF

lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in remote ip addr add 198.51.100.20/24 dev eth0
lab_in remote ip route add 192.0.2.0/24 dev eth0

lab_serve web 80
lab_capture host "$out" 8 eth0 docker0
lab_connect good 192.0.2.1 8080 2
lab_connect remote 192.0.2.1 8080 4 &
lab_connect good 192.0.2.1 8080 2
wait $! || true
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
