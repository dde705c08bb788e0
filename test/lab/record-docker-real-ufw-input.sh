#!/usr/bin/env bash
# Scenario docker-real-ufw-input (a container cannot reach a service on its own host because
# ufw denies it, on a real Docker engine with Debian's ufw): the node serves HTTP on port 8000
# (busybox httpd, standing in for a database or an API running on the host) and its firewall
# is ufw (Debian's package, enabled before dockerd as at boot: deny incoming), with the
# service allowed from the office LAN only (`ufw allow from 192.0.2.0/24 to any port 8000
# proto tcp`). The client 192.0.2.10 on that LAN gets the page. Container "cli" (172.17.0.2
# behind docker0) dials the host at docker0's address 172.17.0.1:8000 (what
# host.docker.internal resolves to): its SYNs reach the node on docker0, and ufw's INPUT
# policy DROP drops them without a word. Captured with synscope live --write on the node's
# eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0 and the container are docker.io 20.10's own; ufw is Debian's ufw 0.36 (its rules in the lab namespace only, lab_ufw); stood in for: the host's service (busybox httpd).
# Usage: record-docker-real-ufw-input.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error for 172.17.0.1:8000 naming 172.17.0.2: the SYNs came in by
# docker0 to the host's own address, and INPUT's policy DROP, ufw's (deny incoming), drops
# them. The remedy is ufw's own rule for docker0's subnet (`ufw allow in on docker0 from
# 172.17.0.0/16 to any port 8000 proto tcp`), which ufw keeps; before this it came last, as a
# way to keep an `iptables -I INPUT` rule that goes at the next restart. It is applied in the
# lab with ufw: cli gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good
lab_lan host good
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_ufw host allow from 192.0.2.0/24 to any port 8000 proto tcp >/dev/null
lab_ufw host --force enable >/dev/null
[ "$(lab_in host iptables -S INPUT | head -1)" = '-P INPUT DROP' ] || { echo "ufw did not set INPUT's policy to DROP" >&2; exit 1; }

docker_node host
docker_lab_image host
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.2 ] || { echo "cli is not 172.17.0.2" >&2; exit 1; }

# The host's service on port 8000.
lab_web host 8000 "the host's service"

fetch() { # fetch NS|ctr:NAME ADDRESS SECONDS: one request to port 8000; the answer on stdout
  local ns=$1; shift
  if [ "${ns#ctr:}" != "$ns" ]; then
    printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host "${ns#ctr:}" timeout "$2" busybox nc "$1" 8000 2>/dev/null || true
  else
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$ns" timeout "$2" busybox nc "$1" 8000 2>/dev/null || true
  fi
}

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 192.0.2.1 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from the host" >&2; exit 1; }
page=$(fetch ctr:cli 172.17.0.1 3.5)
[ -z "$page" ] || { echo "cli got a page although ufw denies it" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 "$2"; else fetch "$1" 172.17.0.1 "$2"; fi; }
  docker_remedies host "ctr:cli=172.17.0.2" "good"
fi
