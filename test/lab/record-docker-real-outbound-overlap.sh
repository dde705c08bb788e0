#!/usr/bin/env bash
# Scenario docker-real-outbound-overlap (a compose network takes the office's range, seen from
# the inside, on a real Docker engine): `docker compose up` created stack_default on
# 192.168.0.0/20 (Docker's default-address-pools hand out 192.168.x.0/20 ranges once
# 172.17-31 are used), and the office's database server is 192.168.5.20 on the LAN. The node
# (192.0.2.1, default route out of eth0) now routes 192.168.0.0/20 into the stack's br-<id>:
# a container on docker0 (cli, 172.17.0.2) dialling the server gets no answer, and neither does
# the node itself. Both reach a LAN server outside the range (192.0.2.30), and the stack's own
# container serves its published port. Captured with synscope live --write on eth0, docker0
# and the stack's bridge.
# Real Docker: dockerd, docker0, the compose-labelled network, its bridge and route, the containers, Docker's NAT and isolation chains are docker.io 20.10's own; stood in for: the office server and the LAN server (busybox httpd in lab namespaces).
# Usage: record-docker-real-outbound-overlap.sh OUT.pcapng CONTEXT.json   (root; 15-30 s)
#
# Verdict: one `bridge-subnet-overlap` error for the server 192.168.5.20, naming cli's
# attempts: the address lies in stack_default's subnet 192.168.0.0/20 and no container of
# stack_default holds it, the node routes it into the stack's br-<id> (its ARP requests for it
# there go unanswered), and Docker's isolation rule drops cli's SYNs on the way from docker0.
# Before this, a `nat-path-break` ERROR named that isolation rule and told the operator to put
# cli on stack_default (`docker network connect stack_default cli`), which would not reach the
# office either. The remedy recreates stack_default on a free subnet and sets
# default-address-pools off the server's range; it is applied in this lab by
# test/docker-remedies.test.ts (DOCKER_REMEDY_DIR): the printed `docker network create`, the
# containers moved, the old network removed, daemon.json's pools and dockerd restarted; cli
# then gets the office server's page, and still the LAN server's.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns office; lab_ns server
lab_lan host office server
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip route add default dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
lab_in office ip addr add 192.168.5.20/24 dev eth0
lab_in office ip route add default dev eth0
lab_in server ip addr add 192.0.2.30/24 dev eth0
lab_in server ip route add default dev eth0

lab_web office 80 "the office server"
lab_web server 80 "the LAN server"

docker_node host
docker_lab_image host
net=$(dk host network create --subnet 192.168.0.0/20 --label com.docker.compose.project=stack --label com.docker.compose.network=default stack_default)
bridge=br-${net:0:12}
dk host run -d --name stack_web_1 --network stack_default --restart unless-stopped -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host stack_web_1 80
dk host run -d --name cli --restart unless-stopped "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host cli 80

# fetch NS ADDRESS SECONDS: one HTTP request to ADDRESS:80 from a lab namespace (or ctr:NAME, a
# container), bounded in time; the answer on stdout.
fetch() {
  local ns=$1
  if [ "${ns#ctr:}" != "$ns" ]; then
    printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host "${ns#ctr:}" timeout "$3" busybox nc "$2" 80 2>/dev/null || true
  else
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$ns" timeout "$3" busybox nc "$2" 80 2>/dev/null || true
  fi
}

docker_live host "$out" 30 -i eth0 -i docker0 -i "$bridge"
page=$(fetch ctr:cli 192.0.2.30 10)
[ -n "$page" ] || { echo "cli got no page from the LAN server 192.0.2.30" >&2; exit 1; }
page=$(fetch host 192.0.2.30 10)
[ -n "$page" ] || { echo "the node got no page from the LAN server 192.0.2.30" >&2; exit 1; }
page=$(fetch ctr:cli 192.168.5.20 3.5)
[ -z "$page" ] || { echo "cli got the office server's page although stack_default holds its range" >&2; exit 1; }
page=$(fetch host 192.168.5.20 3.5)
[ -z "$page" ] || { echo "the node got the office server's page although stack_default holds its range" >&2; exit 1; }
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  source "$LAB_DIR/docker-bridge-remedy.sh"
  REMEDY_NODE=host REMEDY_CLIENTS="ctr:cli=172.17.0.2" REMEDY_GOOD="lan"
  # cli to the office server (the failing attempt), or to the LAN server ("lan": still works).
  fetch_page() { if [ "$1" = lan ]; then fetch ctr:cli 192.0.2.30 "$2"; else fetch ctr:cli 192.168.5.20 "$2"; fi; }
  bridge_remedy_apply
fi
