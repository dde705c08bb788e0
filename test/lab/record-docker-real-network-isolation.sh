#!/usr/bin/env bash
# Scenario docker-real-network-isolation (a container dialling a container of another
# user-defined network, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces
# runs two compose-style networks, "front" (172.30.1.0/24) and "back" (172.30.2.0/24). The
# busybox httpd "web" is on back (172.30.2.2); "probe" on back reaches it. "cli" on front
# (172.30.1.2) dials web's address: Docker isolates its networks from each other
# (DOCKER-ISOLATION-STAGE-1/2 drop what goes from one bridge to another), so the SYNs are
# dropped between the two bridges without a word. Captured with synscope live --write on
# the node's two bridges, with the node's context at its own Docker socket.
# Real Docker: dockerd, both networks and their bridges, the containers and Docker's isolation chains are docker.io 20.10's own; stood in for: nothing.
# Usage: record-docker-real-network-isolation.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one ERROR for 172.30.2.2:80 naming 172.30.1.2: its SYNs reached front's bridge and
# never back's, because Docker's isolation rule drops traffic between the two networks; the
# remedy connects cli to back (docker network connect back cli), as Docker intends for
# containers that must talk. It is applied in the lab: cli gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host
docker_node host
docker_lab_image host
dk host network create --subnet 172.30.1.0/24 front >/dev/null
dk host network create --subnet 172.30.2.0/24 back >/dev/null
dk host run -d --name web --network back "$DOCKER_LAB_IMAGE" >/dev/null
dk host run -d --name probe --network back "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
dk host run -d --name cli --network front "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
docker_wait_listen host web 80
[ "$(dk host inspect -f '{{(index .NetworkSettings.Networks "back").IPAddress}}' web)" = 172.30.2.2 ] || { echo "web is not 172.30.2.2" >&2; exit 1; }
[ "$(dk host inspect -f '{{(index .NetworkSettings.Networks "front").IPAddress}}' cli)" = 172.30.1.2 ] || { echo "cli is not 172.30.1.2" >&2; exit 1; }
front=br-$(dk host network inspect -f '{{.Id}}' front | cut -c1-12)
back=br-$(dk host network inspect -f '{{.Id}}' back | cut -c1-12)

fetch() { # fetch ctr:NAME SECONDS: one request to web; the answer on stdout
  printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host "${1#ctr:}" timeout "$2" busybox nc 172.30.2.2 80 2>/dev/null || true
}

docker_live host "$out" 30 -i "$front" -i "$back"
page=$(fetch ctr:probe 10)
[ -n "$page" ] || { echo "probe got no page from web on back" >&2; exit 1; }
page=$(fetch ctr:cli 3.5)
[ -z "$page" ] || { echo "cli got a page across Docker's network isolation" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { fetch "$1" "$2"; }
  docker_remedies host "ctr:cli=172.30.1.2" "ctr:probe"
fi
