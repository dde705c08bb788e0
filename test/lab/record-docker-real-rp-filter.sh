#!/usr/bin/env bash
# Scenario docker-real-rp-filter (strict reverse-path filtering on a two-NIC Docker host, on a
# real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs a busybox httpd
# published with `-p 8080:80`. The node has two links: eth0 (192.0.2.1/24, its default route
# through the router 192.0.2.254) and eth1 (198.51.100.1/24, a second network), with
# net.ipv4.conf.all.rp_filter = 1 and eth1's = 1 (strict, as RHEL and many hardening guides
# set it). The client 192.0.2.10 on eth0's network gets the page. The client 203.0.113.10
# reaches the node's eth1 directly, but the node's route back to it is the default route out
# of eth0 (the router knows the way back): strict rp_filter drops its SYNs before Docker's
# DNAT hands them to the container, without an ICMP (TcpExtIPReversePathFilter counts them).
# Captured with synscope live --write on eth0, eth1 and docker0, with the node's context at
# its own Docker socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: nothing (the two networks and the router are lab namespaces).
# Usage: record-docker-real-rp-filter.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error for 198.51.100.1:8080 naming 203.0.113.10, with strict
# rp_filter on eth1 and the reverse route out of eth0 as the cause; the remedy makes the check
# loose on eth1 (sysctl -w net.ipv4.conf.eth1.rp_filter=2). It is applied in the lab: the
# SYN-ACK then leaves by eth0 through the router, and 203.0.113.10 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns router; lab_ns remote
lab_lan host good router
lab_link host eth1 remote eth0
lab_link router eth1 remote eth1
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip addr add 198.51.100.1/24 dev eth1
lab_in host ip route add default via 192.0.2.254 dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in router ip addr add 192.0.2.254/24 dev eth0
lab_in router ip addr add 10.9.0.1/30 dev eth1
lab_in router ip route add 203.0.113.10/32 via 10.9.0.2
lab_in router sysctl -qw net.ipv4.ip_forward=1
# The remote client: its own address on the link to the node's eth1, the router's link beside.
lab_in remote ip addr add 203.0.113.10/32 dev eth0
lab_in remote ip addr add 10.9.0.2/30 dev eth1
lab_in remote ip route add 198.51.100.0/24 dev eth0 src 203.0.113.10
lab_in remote sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
# Strict rp_filter also drops the node's ARP answers to it: the client knows the node's MAC.
eth1_mac=$(ip netns exec "$LAB-host" cat /sys/class/net/eth1/address)
lab_in remote ip neigh replace 198.51.100.1 lladdr "$eth1_mac" dev eth0 nud permanent

docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth1.rp_filter=1

fetch() { # fetch NS ADDRESS SECONDS: one request to the published port; the answer on stdout
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$3" busybox nc "$2" 8080 2>/dev/null || true
}

docker_live host "$out" 30 -i eth0 -i eth1 -i docker0
page=$(fetch good 192.0.2.1 3)
[ -n "$page" ] || { echo "192.0.2.10 got no page on eth0" >&2; exit 1; }
page=$(fetch remote 198.51.100.1 3.5)
[ -z "$page" ] || { echo "203.0.113.10 got a page although rp_filter is strict on eth1" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 "$2"; else fetch "$1" 198.51.100.1 "$2"; fi; }
  docker_remedies host "remote=203.0.113.10" "good"
fi
