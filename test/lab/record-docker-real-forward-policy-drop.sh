#!/usr/bin/env bash
# Scenario docker-real-forward-policy-drop (a host that routes between two networks, whose
# forwarded traffic Docker's FORWARD policy drops, on a real Docker engine): the node routes
# between its LAN eth0 (192.0.2.1/24, where the server 192.0.2.30 runs busybox httpd) and a
# second network on eth1 (10.20.0.1/24, the client 10.20.0.10 behind it: a VPN, VMs, a lab
# network). Forwarding is off when dockerd (docker.io 20.10) starts, as at boot before the
# service that routes turns it on: Docker turns it on itself and, because it did, sets
# FORWARD's policy to DROP, accepting only its own bridges' traffic. So the client's SYNs to
# the server are dropped as they are forwarded from eth1 to eth0, without a word. The client
# 192.0.2.10 on the LAN gets the page of a busybox httpd "web" published with -p 8080:80.
# Captured with synscope live --write on the node's eth0 and eth1, with the node's context
# at its own Docker socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` and FORWARD's policy are docker.io 20.10's own; stood in for: the second network and the server (lab namespaces).
# Usage: record-docker-real-forward-policy-drop.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error for 192.0.2.30:80 naming 10.20.0.10: the SYNs came in by eth1
# to be routed out of eth0, and FORWARD's policy DROP, which Docker set, drops them; the
# remedy accepts that forwarding in DOCKER-USER, both ways (new connections eth1 -> eth0, the
# replies back), as Docker's documentation says for a router. It is applied in the lab: the
# client gets the server's page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_two_networks
[ "$(lab_in host sysctl -n net.ipv4.ip_forward)" = 0 ] || { echo "forwarding is on before dockerd" >&2; exit 1; }

docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
[ "$(lab_in host iptables -S FORWARD | head -1)" = '-P FORWARD DROP' ] || { echo "Docker did not set FORWARD's policy to DROP" >&2; exit 1; }
[ "$(lab_in host sysctl -n net.ipv4.ip_forward)" = 1 ] || { echo "dockerd did not turn forwarding on" >&2; exit 1; }

docker_live host "$out" 30 -i eth0 -i eth1
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch remote 192.0.2.30 80 3.5)
[ -z "$page" ] || { echo "10.20.0.10 got a page although FORWARD drops it" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 192.0.2.30 80 "$2"; fi; }
  docker_remedies host "remote=10.20.0.10" "good"
fi
