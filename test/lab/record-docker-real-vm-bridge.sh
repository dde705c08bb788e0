#!/usr/bin/env bash
# Scenario docker-real-vm-bridge (Docker installed on a KVM/libvirt host breaks its VMs'
# network, on a real Docker engine): the node keeps its address on a Linux bridge br0 that
# holds its uplink eth0 (192.0.2.1/24 on br0) and a VM's tap port vnet0; the VM (192.0.2.50)
# serves HTTP on port 80 and LAN clients reach it directly, bridged through br0, never routed
# by the node. Forwarding was off when dockerd started, so Docker turned it on and set
# iptables' FORWARD policy to DROP; and with dockerd running, bridged frames pass iptables
# (br_netfilter, net.bridge.bridge-nf-call-iptables = 1), where they are forwarded traffic
# from br0 to br0. A LAN client (192.0.2.10) dials the VM and its SYNs die in FORWARD; the
# node itself still reaches the VM (its own packets are not forwarded), and the same client
# gets a published container's page. Captured with synscope live --write on eth0 and vnet0
# (a capture on br0 itself shows only the node's own traffic).
# Real Docker: dockerd, its FORWARD policy, br_netfilter's passage of bridged frames, docker0 and the published container are docker.io 20.10's own; stood in for: the VM (a namespace behind a veth port of br0, running busybox httpd).
# Usage: record-docker-real-vm-bridge.sh OUT.pcapng CONTEXT.json   (root; 15-30 s)
#
# Verdict: one filtered error (high confidence) for 192.0.2.50:80 naming 192.0.2.10: the
# SYNs are bridged through br0, which is not one of Docker's bridges, pass iptables as traffic
# forwarded from br0 to br0 (br_netfilter), and FORWARD's policy DROP, Docker's, drops them.
# Before this, the same finding said the SYNs went "between two containers of br0" and gave
# no remedy at all. The remedy accepts what br0 bridges in DOCKER-USER (`iptables -I
# DOCKER-USER -i br0 -o br0 -j ACCEPT`); it is applied in the lab and the client gets the VM's
# page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns vm
lab_lan host good
lab_in host ip link add br0 type bridge
lab_in host ip link set br0 up
lab_in host ip link set eth0 master br0
lab_in host ip addr add 192.0.2.1/24 dev br0
lab_link host vnet0 vm eth0
lab_in host ip link set vnet0 master br0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in vm ip addr add 192.0.2.50/24 dev eth0
[ "$(lab_in host sysctl -n net.ipv4.ip_forward)" = 0 ] || { echo "forwarding is on before dockerd" >&2; exit 1; }

lab_web vm 80 "the VM 192.0.2.50"

fetch() { # fetch NS ADDRESS PORT SECONDS: one HTTP request; the answer on stdout
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$4" busybox nc "$2" "$3" 2>/dev/null || true
}
page=$(fetch good 192.0.2.50 80 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from the VM before dockerd" >&2; exit 1; }

docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
[ "$(lab_in host iptables -S FORWARD | head -1)" = '-P FORWARD DROP' ] || { echo "Docker did not set FORWARD's policy to DROP" >&2; exit 1; }
[ "$(lab_in host sysctl -n net.bridge.bridge-nf-call-iptables)" = 1 ] || { echo "bridged frames do not pass iptables" >&2; exit 1; }

docker_live host "$out" 30 -i eth0 -i vnet0
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch host 192.0.2.50 80 10)
[ -n "$page" ] || { echo "the node got no page from the VM" >&2; exit 1; }
page=$(fetch good 192.0.2.50 80 3.5)
[ -z "$page" ] || { echo "192.0.2.10 got the VM's page although FORWARD drops bridged frames" >&2; exit 1; }
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { fetch "$1" 192.0.2.50 80 "$2"; }
  docker_remedies host "good=192.0.2.10" "host"
fi
