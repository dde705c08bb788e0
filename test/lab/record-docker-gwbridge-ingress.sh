#!/usr/bin/env bash
# Scenario docker-gwbridge-ingress (third incident report): a swarm node publishes port
# 8080 through the ingress path. Docker's host nat rules send the SYN from PREROUTING to
# the DOCKER-INGRESS chain, which DNATs it to the ingress_sbox namespace's address on
# docker_gwbridge (172.18.0.2); the service answers from there. docker_gwbridge has the
# default 172.18.0.0/16, which overlaps the company network: the office client
# 172.18.50.20 reaches the node over eth0, the SYN is DNATed into ingress_sbox, but
# ingress_sbox finds 172.18.50.20 on its own connected 172.18.0.0/16 and ARPs for it on
# docker_gwbridge: the SYN-ACK never leaves. A client from 192.0.2.0/24 connects fine.
# Writes OUT.pcapng (dumpcap on eth0 and docker_gwbridge in the host namespace) and
# CONTEXT.json (`synscope context` in the host namespace, after the traffic).
# Usage: record-docker-gwbridge-ingress.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Until NAT stitching exists, each attempt counts once per hop (192.0.2.1:8080 on eth0 and
# 172.18.0.2:8080 on docker_gwbridge after the DNAT): 6 attempts for 3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")
trap lab_cleanup EXIT

lab_ns host; lab_ns good; lab_ns office; lab_ns sbox
lab_lan host good office

# The node: uplink eth0, docker_gwbridge with Docker's default subnet.
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip link add docker_gwbridge type bridge
lab_in host ip addr add 172.18.0.1/16 dev docker_gwbridge
lab_in host ip link set docker_gwbridge up
lab_in host sysctl -qw net.ipv4.ip_forward=1
# rp_filter off as on the incident host (else the office SYN would die on eth0 already).
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
# ingress_sbox: eth1 on docker_gwbridge (172.18.0.2), default route via the bridge's gateway.
lab_link host veth-sbox sbox eth1
lab_in host ip link set veth-sbox master docker_gwbridge
lab_in sbox ip addr add 172.18.0.2/16 dev eth1
lab_in sbox ip route add default via 172.18.0.1

# Docker's host nat rules for a swarm published port (as `iptables-save -t nat` shows them).
lab_in host iptables -t nat -N DOCKER-INGRESS
lab_in host iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
lab_in host iptables -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
lab_in host iptables -t nat -A DOCKER-INGRESS -p tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080
lab_in host iptables -t nat -A DOCKER-INGRESS -j RETURN
lab_in host iptables -t nat -A POSTROUTING -o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE
lab_in host iptables -t nat -A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE

lab_in good ip addr add 192.0.2.10/24 dev eth0
# The office network that happens to be 172.18.x: reaches the node on-link.
lab_in office ip addr add 172.18.50.20/24 dev eth0
lab_in office ip route add 192.0.2.0/24 dev eth0

lab_serve sbox 8080 12
lab_capture host "$out" 8 eth0 docker_gwbridge
lab_connect good 192.0.2.1 8080 2
lab_connect office 192.0.2.1 8080 4 &
lab_connect good 192.0.2.1 8080 2
wait "$LAB_CAPTURE_PID" || true
lab_in host node "$repo/bin/synscope.js" context --output "$ctx" --docker-socket /nonexistent/docker.sock 2>/dev/null
echo "wrote $out and $ctx"
