#!/usr/bin/env bash
# Scenario docker-real-null-routes (containers' outbound connections refused by the node's own
# routes, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs containers
# "cli" (172.17.0.2) and "cli2" (172.17.0.4) and a busybox httpd "web" published with -p 8080:80;
# the node routes to the internet through a router (198.51.100.0/24 behind it, two servers
# 198.51.100.80 and .81). The node carries two routes left from an incident:
# `ip route add blackhole 198.51.100.80/32` (a null route) and `ip route add prohibit
# 198.51.100.81/32`. The LAN client 192.0.2.10 gets web's page. cli dials 198.51.100.80:80: the
# node's routing drops its SYNs without a word. cli2 dials 198.51.100.81:80 and gets ICMP
# administratively prohibited from 172.17.0.1, the node itself, which no firewall rule sent.
# Captured with synscope live --write on the node's eth0 and docker0, with the node's context at
# its own Docker socket.
# Real Docker: dockerd, docker0, the containers and Docker's NAT are docker.io 20.10's own; stood in for: the router, the servers and the two routes.
# Usage: record-docker-real-null-routes.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error (high confidence) for 198.51.100.80:80 naming 172.17.0.2: the
# node's route to it is the blackhole route 198.51.100.80/32 (table main), which drops what it
# forwards there; the remedy `ip route del blackhole 198.51.100.80/32` is applied in the lab as
# printed, and cli gets the page. One rejected warning for 198.51.100.81:80 naming 172.17.0.4:
# the node itself sent the administratively prohibited, by the prohibit route
# 198.51.100.81/32; its remedy `ip route del prohibit 198.51.100.81/32`, applied, and cli2 gets
# the page. Before this, the first was a medium filtered blaming a firewall DROP rule, a full
# accept queue or reverse-path filtering, and the second said "a firewall rule rejects these
# connections" with a hunt for a REJECT rule that does not exist.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_outbound_lab
lab_in server ip addr add 198.51.100.81/24 dev eth0
dk host run -d --name cli2 "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli2)" = 172.17.0.4 ] || { echo "cli2 is not 172.17.0.4" >&2; exit 1; }
page=$(fetch ctr:cli2 198.51.100.81 80 10)
[ -n "$page" ] || { echo "cli2 got no answer from 198.51.100.81 before the routes" >&2; exit 1; }
# The routes left from an incident.
lab_in host ip route add blackhole 198.51.100.80/32
lab_in host ip route add prohibit 198.51.100.81/32

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from web" >&2; exit 1; }
fetch ctr:cli 198.51.100.80 80 3.5 >"$DOCKER_LAB_TMP/cli.txt" &
blackholed=$!
page=$(fetch ctr:cli2 198.51.100.81 80 3.5)
[ -z "$page" ] || { echo "cli2 got a page although a prohibit route refuses it" >&2; exit 1; }
wait "$blackholed" || true
[ ! -s "$DOCKER_LAB_TMP/cli.txt" ] || { echo "cli got a page although a blackhole route drops it" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() {
    case $1 in
      ctr:cli) fetch ctr:cli 198.51.100.80 80 "$2" ;;
      ctr:cli2) fetch ctr:cli2 198.51.100.81 80 "$2" ;;
      *) fetch "$1" 192.0.2.1 8080 "$2" ;;
    esac
  }
  docker_remedies host "ctr:cli=172.17.0.2 ctr:cli2=172.17.0.4" "good"
fi
