#!/usr/bin/env bash
# Scenario docker-real-compose-overlap (incident 001's Portainer stack network, on a real
# Docker engine): a real dockerd (docker.io 20.10, contained in the lab's "host" namespace
# by docker-lab.sh) has a compose-style user network created as a stack would pin it,
# `docker network create --subnet 192.168.0.0/20 stack_default` (with compose's labels), so
# Docker makes a br-<id> bridge on 192.168.0.1/20. The stack's busybox httpd container
# `stack_web_1` runs on it (`--restart unless-stopped`), published with `-p 8080:80`
# (192.168.0.2); the host's default route is out of eth0. The office network
# 192.168.5.0/24 lies inside the stack's /20: the office client 192.168.5.20 (reached
# on-link over eth0) connects to 192.0.2.1:8080, Docker's DNAT sends the SYN to the
# container, which finds 192.168.5.20 on its own connected 192.168.0.0/20 and ARPs for it
# on br-<id>, so the SYN-ACK never leaves. The client 192.0.2.10 connects fine. rp_filter
# is off in the host namespace.
# Captured with synscope live --write on eth0 and the stack's br-<id> in the host namespace;
# the host context is read there with --docker-socket at the node's socket (the Engine API's
# networks); with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept there.
# Real Docker: dockerd, the user network and its br-<id> bridge, the container, its published port and Docker's nat/filter chains are docker.io 20.10's own; nothing is stood in for (the office network is a lab namespace on the LAN).
# Usage: record-docker-real-compose-overlap.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: one `bridge-subnet-overlap` error naming the stack's br-<id> bridge (its id
# differs in every recording; expect.json keeps the one recorded), 192.168.0.0/20 and
# 192.168.5.20 as the only client, with the ARP requests for it on br-<id> from the
# container (`repliesFrom` 192.168.0.2). The remedy recreates the network on a free subnet.
# No `route-conflict`; 192.0.2.10's attempts complete and it is in no finding.
# Remedy applied in this lab by test/docker-remedies.test.ts (DOCKER_REMEDY_DIR): the
# printed `docker network create --subnet <proposed> <new name>` (the lab's name:
# stack_default2), the printed `docker network connect <new name> stack_web_1; docker network
# disconnect stack_default stack_web_1` (its published port follows: 192.168.5.20 gets the
# page right then), the printed `docker network rm stack_default`, and the printed
# `default-address-pools` written into daemon.json with dockerd restarted; 192.168.5.20 still
# gets the page. Checked by hand, not run by the test: the new network's name (`<new name>`)
# is the one choice a person makes (the lab picks stack_default2), and the remedy's compose
# alternative (`ipam: config: - subnet: ...` in the stack's file) is not applied (no docker
# compose on the lab machine); every other step runs as printed.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns office
lab_lan host good office

lab_in host ip addr add 192.0.2.1/24 dev eth0
# The host's default route is out of the uplink (on-link: the LAN's hosts answer ARP for themselves).
lab_in host ip route add default dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
docker_node host
docker_lab_image host
net=$(dk host network create --subnet 192.168.0.0/20 --label com.docker.compose.project=stack --label com.docker.compose.network=default stack_default)
bridge=br-${net:0:12}
dk host run -d --name stack_web_1 --network stack_default --restart unless-stopped -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host stack_web_1 80

lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in office ip addr add 192.168.5.20/24 dev eth0
lab_in office ip route add 192.0.2.0/24 dev eth0

# fetch NS SECONDS: one HTTP request to the published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 2>/dev/null || true
}

docker_capture host "$out" 30 eth0 "$bridge"
fetch good 10 >/dev/null
fetch good 10 >/dev/null
# The failing attempt ends the traffic (three SYNs in 3.5 s); the good ones are over before it.
fetch office 3.5 >/dev/null &
bad=$!
fetch good 10 >/dev/null
wait "$bad" || true
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  source "$LAB_DIR/docker-bridge-remedy.sh"
  REMEDY_NODE=host REMEDY_CLIENTS="office=192.168.5.20" REMEDY_GOOD="good"
  fetch_page() { fetch "$1" "$2"; }
  bridge_remedy_apply
fi
