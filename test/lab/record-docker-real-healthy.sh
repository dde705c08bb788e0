#!/usr/bin/env bash
# Scenario docker-real-healthy (a Docker host where nothing is wrong, on a real Docker
# engine): a real dockerd (docker.io 20.10, contained in the lab's "host" namespace by
# docker-lab.sh) has docker0 (172.17.0.0/16, Docker's default), a user network `app_net`
# on the subnet Docker picks itself (172.18.0.0/16) and a user network `db_net` created
# with `--subnet 10.10.0.0/24`, each with a busybox httpd container published on the host:
# `web` on docker0 (`-p 8080:80`), `api` on app_net (`-p 8081:80`), `db` on db_net (`-p
# 8082:80`). The host is 192.0.2.1/24 on eth0, its default route out of eth0. Three clients
# outside every Docker network, 192.0.2.10 on the LAN and 198.51.100.20 and 203.0.113.20
# (other networks reached on-link over the uplink), fetch a page from each published port.
# Captured with synscope live --write on eth0, docker0 and both br-<id> bridges in the host
# namespace; the host context is read there with --docker-socket at the node's socket (the
# Engine API's networks); with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there.
# Real Docker: dockerd, docker0, both user networks and their br-<id> bridges, the three containers, their published ports and Docker's nat/filter chains are docker.io 20.10's own; nothing is stood in for (the clients are lab namespaces on the LAN).
# Usage: record-docker-real-healthy.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: no finding at all: every attempt completes (each seen on eth0 and, after
# Docker's DNAT, on its container's bridge: counted once), no client lies in a Docker
# network's subnet, no prefix is routed twice, and nothing is filtered.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

# lab_lan makes a namespace "lan" (the switch): the LAN client is "lanc".
lab_ns host; lab_ns lanc; lab_ns remote; lab_ns remote2
lab_lan host lanc remote remote2

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip route add default dev eth0
docker_node host
docker_lab_image host
app=$(dk host network create app_net)
db=$(dk host network create --subnet 10.10.0.0/24 db_net)
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
dk host run -d --name api --network app_net -p 8081:80 "$DOCKER_LAB_IMAGE" >/dev/null
dk host run -d --name db --network db_net -p 8082:80 "$DOCKER_LAB_IMAGE" >/dev/null
for c in web api db; do docker_wait_listen host "$c" 80; done

lab_in lanc ip addr add 192.0.2.10/24 dev eth0
for ns in remote:198.51.100.20 remote2:203.0.113.20; do
  lab_in "${ns%%:*}" ip addr add "${ns#*:}/24" dev eth0
  lab_in "${ns%%:*}" ip route add 192.0.2.0/24 dev eth0
done

# fetch NS PORT: one HTTP request to a published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout 10 busybox nc 192.0.2.1 "$2" 2>/dev/null || true
}

docker_capture host "$out" 30 eth0 docker0 "br-${app:0:12}" "br-${db:0:12}"
for ns in lanc remote remote2; do
  for port in 8080 8081 8082; do
    fetch "$ns" "$port" | grep -q '^HTTP/1.[01] 200' || { echo "$ns got no page from port $port" >&2; exit 1; }
  done
done
docker_capture_done
