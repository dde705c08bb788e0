#!/usr/bin/env bash
# Scenario docker-real-double-route-uplink-wins (incident 001 as it was, on a real Docker
# engine): the host's LAN is 192.168.0.0/24 (eth0 192.168.0.10/24, up before Docker) and the
# real dockerd (docker.io 20.10, contained in the lab's "host" namespace by docker-lab.sh)
# was given `"bip": "192.168.0.1/24"`, so the main table routes 192.168.0.0/24 both via
# eth0 and via docker0, and eth0's older route is the one it uses. A busybox httpd container
# is published with `docker run -p 8080:80` (192.168.0.2 on docker0): Docker's DNAT sends
# every SYN to 192.168.0.2, which the host routes out of eth0, so no SYN reaches the
# container and every client fails: the LAN client 192.168.0.50 and 203.0.113.20 from
# another network alike. rp_filter is off in the host namespace.
# Captured with synscope live --write on eth0 and docker0 in the host namespace; the host
# context is read there with --docker-socket at the node's socket (the Engine API's networks);
# with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there.
# Real Docker: dockerd (with the incident's bip), docker0 and its route, the container, its published port and Docker's nat/filter chains are docker.io 20.10's own; nothing is stood in for (the LAN and its clients are lab namespaces).
# Usage: record-docker-real-double-route-uplink-wins.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: ONE error, `bridge-subnet-overlap` on docker0 192.168.0.0/24, for both clients:
# the published port's DNAT target 192.168.0.2 (`dnatTarget`, the container web) lies in
# docker0's subnet but is routed out of eth0 (`dnatTargetRoutedVia`), with the double
# route as evidence (`doubleRoute`, eth0's route winning); no `filtered` for the client
# outside 192.168.0.0/24 and no `route-conflict`. Remedy applied in this lab by
# test/docker-remedies.test.ts (DOCKER_REMEDY_DIR): the printed `"bip"` and
# `default-address-pools` into the node's daemon.json, dockerd restarted, the printed
# `docker start web`; docker0 leaves 192.168.0.0/24 and both clients get the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns lanclient; lab_ns other
lab_lan host lanclient other

lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
# The uplink's address is there before Docker starts, as on the incident host, so eth0's
# 192.168.0.0/24 is first in the table and wins over docker0's.
lab_in host ip addr add 192.168.0.10/24 dev eth0
docker_node host '{"bip": "192.168.0.1/24"}'
# The other network is reached on-link over the same uplink.
lab_in host ip route add 203.0.113.0/24 dev eth0
lab_in host ip route get 192.168.0.2 | grep -q 'dev eth0' || { echo "eth0's route does not win" >&2; exit 1; }
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
# Both clients fail; the LAN client's attempt runs beside the other's (three SYNs in 3.5 s each).
fetch lanclient 3.5 >/dev/null &
bad=$!
fetch other 3.5 >/dev/null
wait "$bad" || true
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  source "$LAB_DIR/docker-bridge-remedy.sh"
  REMEDY_NODE=host REMEDY_CLIENTS="lanclient=192.168.0.50 other=203.0.113.20" REMEDY_GOOD=""
  fetch_page() { fetch "$1" "$2"; }
  bridge_remedy_apply
fi
