#!/usr/bin/env bash
# Scenario docker-real-icc-off (containers of docker0 cut off from each other by "icc": false,
# on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs with
# `{"icc": false}` in daemon.json (the CIS benchmark's advice): Docker then writes
# `-A FORWARD -i docker0 -o docker0 -j DROP`, and br_netfilter (bridge-nf-call-iptables = 1)
# puts the bridge's own traffic through it. A busybox httpd `web` is published with
# `-p 8080:80`: the client 192.0.2.10 gets the page through the published port. The container
# `cli` (172.17.0.3) on the same bridge dials web's address (172.17.0.2:80) and gets nothing.
# Captured with synscope live --write -i any in the node's namespace (a capture of docker0
# alone, not promiscuous, does not see traffic between its ports), with the node's context at
# its own Docker socket.
# Real Docker: dockerd with "icc": false, docker0, both containers, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) and the icc DROP rule are docker.io 20.10's own; stood in for: nothing.
# Usage: record-docker-real-icc-off.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error for 172.17.0.2:80 naming 172.17.0.3 (high confidence): the SYNs
# go between two containers of docker0 and Docker's icc rule drops them; no bridge overlap
# (172.17.0.3 belongs in docker0's subnet). The first remedy, an ACCEPT for this traffic in
# DOCKER-USER, is applied in the lab, and cli gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good
lab_lan host good
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
docker_node host '{"icc": false}'
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' web)" = 172.17.0.2 ] || { echo "web is not 172.17.0.2" >&2; exit 1; }
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.3 ] || { echo "cli is not 172.17.0.3" >&2; exit 1; }
[ "$(lab_in host sysctl -n net.bridge.bridge-nf-call-iptables)" = 1 ] || { echo "bridge-nf-call-iptables is not 1 in the node" >&2; exit 1; }

fetch() { lab_fetch "$@"; }

docker_live host "$out" 30 -i any
page=$(fetch good 192.0.2.1 8080 3)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch ctr:cli 172.17.0.2 80 3.5)
[ -z "$page" ] || { echo "cli reached web although icc is off" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 172.17.0.2 80 "$2"; fi; }
  docker_remedies host "ctr:cli=172.17.0.3" "good"
fi
