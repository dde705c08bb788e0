#!/usr/bin/env bash
# Scenario docker-real-macvlan-host (a macvlan container the LAN reaches and its own host does
# not, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces puts a busybox
# httpd "web" on a macvlan network over the node's eth0 (`docker network create -d macvlan
# --subnet 192.0.2.0/24 -o parent=eth0 lan`, web at 192.0.2.50), as people do to give a
# container its own LAN address. The LAN client 192.0.2.10 gets web's page. Container "cli"
# on docker0 (172.17.0.2) dials 192.0.2.50:80: the node routes it out of eth0 (the LAN is
# on-link there), and its ARP for 192.0.2.50 goes out of eth0 onto the wire, which never
# brings it back to a macvlan child of eth0 (the kernel keeps a macvlan parent and its
# children apart): no answer, so the SYN never leaves. Captured with synscope live --write
# on the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, the macvlan network and its child, docker0 and the containers are docker.io 20.10's own; stood in for: the LAN (a lab switch) and its client.
# Usage: record-docker-real-macvlan-host.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one rejected warning for 192.0.2.50:80 naming 172.17.0.2: the node itself answered
# with ICMP host unreachable after its ARP for 192.0.2.50 on eth0 went unanswered, and
# 192.0.2.50 is container web on Docker's macvlan network "lan" whose parent is eth0 (a macvlan
# parent and its children cannot reach each other). Before this, the same finding said "a
# router (192.0.2.1) on the path" has no route to it. The remedy is Docker's documented macvlan
# shim on the node (an own macvlan leg on eth0 and a route to web through it), applied in the
# lab with the lab's free address for SHIM_IP: cli gets web's page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good
lab_lan host good
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
docker_node host
docker_lab_image host
dk host network create -d macvlan --subnet 192.0.2.0/24 --gateway 192.0.2.254 --ip-range 192.0.2.48/29 -o parent=eth0 lan >/dev/null
dk host run -d --name web --network lan --ip 192.0.2.50 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.2 ] || { echo "cli is not 172.17.0.2" >&2; exit 1; }

fetch() { # fetch NS|ctr:NAME SECONDS: one request to web; the answer on stdout
  if [ "${1#ctr:}" != "$1" ]; then
    printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host "${1#ctr:}" timeout "$2" busybox nc 192.0.2.50 80 2>/dev/null || true
  else
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.50 80 2>/dev/null || true
  fi
}

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from web on the macvlan network" >&2; exit 1; }
page=$(fetch ctr:cli 3.5)
[ -z "$page" ] || { echo "cli got web's page although the node cannot reach its macvlan children" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { fetch "$1" "$2"; }
  REMEDY_FILL="SHIM_IP=192.0.2.60"  # free on the lab's LAN, outside lan's --ip-range 192.0.2.48/29
  docker_remedies host "ctr:cli=172.17.0.2" "good"
fi
