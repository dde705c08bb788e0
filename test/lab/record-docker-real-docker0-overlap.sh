#!/usr/bin/env bash
# Scenario docker-real-docker0-overlap (first incident report, on a real Docker engine): a
# real dockerd (docker.io 20.10, contained in the lab's "host" namespace by docker-lab.sh)
# runs a busybox httpd container published with `docker run -p 8080:80`, so docker0
# 172.17.0.1/16, the container 172.17.0.2 and Docker's own DNAT and FORWARD rules are
# Docker's. A client whose address lies in docker0's 172.17.0.0/16 (172.17.0.50, a customer
# network reached on-link over eth0) connects to 192.0.2.1:8080: the host DNATs the SYN to
# the container, but the container finds 172.17.0.50 on its own connected 172.17.0.0/16 and
# ARPs for it on docker0, so the SYN-ACK never leaves. The client 192.0.2.10 connects fine.
# rp_filter is off in the host namespace, as on the incident host.
# Captured with synscope live --write on eth0 and docker0 in the host namespace; the host
# context is read there with --docker-socket at the node's socket (the Engine API's networks);
# with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there.
# Real Docker: dockerd, docker0, the container, its published port and Docker's nat/filter chains are docker.io 20.10's own; nothing is stood in for (only the customer network is a lab namespace on the LAN).
# Usage: record-docker-real-docker0-overlap.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker0 (from the context's real Engine
# API networks: bridge, 172.17.0.0/16), 172.17.0.50 as the only client, and the ARP requests
# for it seen on docker0: they come from the container (`who-has 172.17.0.50 tell
# 172.17.0.2`), which holds the DNATed connection and answers on-link (`repliesFrom`
# 172.17.0.2). No `route-conflict`: the SYN-ACK comes from the container, not from the host,
# so the host's reply route is not what fails. The good attempts complete.
# Remedy applied in this lab by test/docker-remedies.test.ts (DOCKER_REMEDY_DIR): the printed
# `"bip"` and `default-address-pools` written into the node's daemon.json, dockerd restarted
# (the printed `systemctl restart docker`), the printed `docker start web` (a container without a restart policy stays stopped after the restart: checked); 172.17.0.50 then
# gets the page from the container on docker0's new subnet.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns bad
lab_lan host good bad

lab_in host ip addr add 192.0.2.1/24 dev eth0
# The host's default route is out of the uplink (on-link: the LAN's hosts answer ARP for themselves).
lab_in host ip route add default dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80

lab_in good ip addr add 192.0.2.10/24 dev eth0
# The customer network that happens to be 172.17.x: reaches the host on-link.
lab_in bad ip addr add 172.17.0.50/24 dev eth0
lab_in bad ip route add 192.0.2.0/24 dev eth0

# fetch NS SECONDS: one HTTP request to the published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 2>/dev/null || true
}

docker_capture host "$out" 30 eth0 docker0
fetch good 10 >/dev/null
fetch good 10 >/dev/null
# The failing attempt ends the traffic (three SYNs in 3.5 s); the good ones are over before it.
fetch bad 3.5 >/dev/null &
bad=$!
fetch good 10 >/dev/null
wait "$bad" || true
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  source "$LAB_DIR/docker-bridge-remedy.sh"
  REMEDY_NODE=host REMEDY_CLIENTS="bad=172.17.0.50" REMEDY_GOOD="good"
  fetch_page() { fetch "$1" "$2"; }
  bridge_remedy_apply
fi
