#!/usr/bin/env bash
# Scenario docker-real-double-route (incident 001, on a real Docker engine): after a
# migration the host's LAN is 192.168.0.0/24 (eth0 192.168.0.10/24), and the real dockerd
# (docker.io 20.10, contained in the lab's "host" namespace by docker-lab.sh) was given
# `"bip": "192.168.0.1/24"` in daemon.json, so Docker's docker0 owns the same prefix: the
# main table routes 192.168.0.0/24 both via eth0 and via docker0. The uplink's address came
# up after Docker (a lease on the migrated network), so docker0's route is the older one and
# the table uses it (in the incident eth0's won, and the containers were the side cut off:
# this is the other side of the same conflict, where LAN clients fail). A busybox httpd
# container is published with `docker run -p 8080:80` (192.168.0.2 on docker0). The LAN
# client 192.168.0.50 connects to 192.168.0.10:8080: Docker's DNAT sends the SYN to the
# container, which finds 192.168.0.50 on its own connected /24 and ARPs for it on docker0,
# so the SYN-ACK never leaves. The client 203.0.113.20 (another network, reached on-link
# over the uplink) connects fine. rp_filter is off in the host namespace.
# Captured with synscope live --write on eth0 and docker0 in the host namespace; the host
# context is read there with --docker-socket at the node's socket (the Engine API's networks);
# with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there.
# Real Docker: dockerd (with the incident's bip), docker0 and its route, the container, its published port and Docker's nat/filter chains are docker.io 20.10's own; nothing is stood in for (the LAN and its clients are lab namespaces).
# Usage: record-docker-real-double-route.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: ONE error for 192.168.0.50, `bridge-subnet-overlap` on docker0 192.168.0.0/24
# (the cause), with the double route as its evidence (`doubleRoute`: 192.168.0.0/24 dev
# eth0 and dev docker0, and which one the table uses); no separate `route-conflict`, as
# DESIGN.md's clarification asks when a Docker network owns the doubly routed prefix. The
# container answers (`repliesFrom` 192.168.0.2) and ARPs for the client on docker0.
# 203.0.113.20's attempts complete and it is in no finding.
# Remedy applied in this lab by test/docker-remedies.test.ts (DOCKER_REMEDY_DIR): the printed
# `"bip"` and `default-address-pools` written into the node's daemon.json (replacing the
# incident's bip), dockerd restarted, the printed `docker start web` (a container without a restart policy stays stopped after the restart: checked); docker0's route leaves
# 192.168.0.0/24 and 192.168.0.50 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns lanclient; lab_ns other
lab_lan host lanclient other

lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
docker_node host '{"bip": "192.168.0.1/24"}'
# The uplink's address (the migrated network's lease) comes up after Docker's docker0, so
# docker0's 192.168.0.0/24 is first in the table and wins over eth0's.
lab_in host ip addr add 192.168.0.10/24 dev eth0
# The other network is reached on-link over the same uplink.
lab_in host ip route add 203.0.113.0/24 dev eth0
lab_in host ip route get 192.168.0.50 | grep -q 'dev docker0' || { echo "docker0's route does not win" >&2; exit 1; }
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' web)" = 192.168.0.2 ] || { echo "web is not 192.168.0.2" >&2; exit 1; }

lab_in lanclient ip addr add 192.168.0.50/24 dev eth0
lab_in other ip addr add 203.0.113.20/24 dev eth0
lab_in other ip route add 192.168.0.0/24 dev eth0

# fetch NS SECONDS: one HTTP request to the published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.168.0.10 8080 2>/dev/null || true
}

docker_capture host "$out" 30 eth0 docker0
fetch other 10 >/dev/null
fetch other 10 >/dev/null
# The failing attempt ends the traffic (three SYNs in 3.5 s); the good ones are over before it.
fetch lanclient 3.5 >/dev/null &
bad=$!
fetch other 10 >/dev/null
wait "$bad" || true
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  source "$LAB_DIR/docker-bridge-remedy.sh"
  REMEDY_NODE=host REMEDY_CLIENTS="lanclient=192.168.0.50" REMEDY_GOOD="other"
  fetch_page() { fetch "$1" "$2"; }
  bridge_remedy_apply
fi
