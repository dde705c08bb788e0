#!/usr/bin/env bash
# Scenario docker-real-swarm-ingress (third incident report, the routing mesh, on a real
# Docker engine): a real dockerd (docker.io 20.10, contained in the lab's "host" namespace by
# docker-lab.sh) is a single-node swarm (`docker swarm init`): docker_gwbridge has Docker's
# default 172.18.0.0/16, ingress_sbox sits on it (172.18.0.2, its eth1) and on the `ingress`
# overlay (10.0.0.x, its eth0). A busybox httpd service is published through the routing
# mesh (`docker service create --publish 8080:80`). This kernel has no IP_VS, so Docker
# programs neither the node's DOCKER-INGRESS chains nor the IPVS service in ingress_sbox:
# docker_ingress_standin (docker-lab.sh) stands in for that one step, writing Docker 20.10's
# DOCKER-INGRESS chains on the node (DNAT of tcp/8080 to 172.18.0.2:8080) and, inside
# Docker's own ingress_sbox, what IPVS in NAT mode does (DNAT to the task's ingress address,
# SNAT to ingress_sbox's ingress address). The office client 172.18.50.20 (a company
# network that happens to be 172.18.x, reached on-link over the uplink) sends SYNs to
# 192.0.2.1:8080: the node DNATs them to ingress_sbox, which forwards them to the task over
# the ingress overlay; the task answers, but ingress_sbox finds 172.18.50.20 on its own
# connected 172.18.0.0/16 (eth1) and ARPs for it on docker_gwbridge, so the SYN-ACK never
# leaves. The client 192.0.2.10 connects. rp_filter is off in the node's namespace.
# Captured with synscope live --write on eth0 and docker_gwbridge in the node's namespace and
# inside ingress_sbox on eth1 (its docker_gwbridge leg) and eth0 (its ingress leg), the
# namespace given by path (`--netns /proc/<dockerd>/root/<exec-root>/netns/ingress_sbox:eth1`);
# the host context is read in the node's namespace with --docker-socket at the node's socket;
# with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept.
# Real Docker: dockerd, the swarm, docker_gwbridge, ingress_sbox, the ingress overlay, the task and its REDIRECT are docker.io 20.10's own; stood in for: the IPVS step (no IP_VS in this kernel), i.e. the node's DOCKER-INGRESS chains and ingress_sbox's DNAT/SNAT, written by docker_ingress_standin.
# Usage: record-docker-real-swarm-ingress.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker_gwbridge, 172.18.0.0/16 and only
# 172.18.50.20, with `repliesFrom` 172.18.0.2 (ingress_sbox, which the node's DNAT sends
# the SYNs to; the ARP requests for the client on docker_gwbridge come from it); the
# remedy is the single-node swarm procedure, proven in test/docker-swarm-remedies.test.ts.
# No `syn-ack-lost` for ingress_sbox's SNAT address 10.0.0.x (an inner hop of the explained
# attempt), no other error. The ladder counts each SYN once: docker_gwbridge and
# ingress_sbox's eth1 see the same frames (one hop): every connection there is one flow seen
# on both (live hands packets of several interfaces over in time order; before it did, each
# completed connection became two flows, some with a copy taken for a retransmission).
# Remedy applied in this lab by test/docker-swarm-remedies.test.ts: the printed docker commands
# run as printed (service/secret/config/network ls, swarm leave --force, network rm
# docker_gwbridge, network create --subnet <proposed> ... docker_gwbridge, swarm init); the
# hand step "create the services ... again" is the lab's own `service create --publish
# 8080:80` plus the IPVS stand-in again for the new ingress_sbox; then 172.18.50.20 gets the
# page. Checked by hand only: the `default-address-pools` line (merged into daemon.json,
# dockerd not restarted).
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns office
lab_lan host good office
lab_in host ip addr add 192.0.2.1/24 dev eth0
# The node's default route goes out of the uplink (on-link here), as on the incident host.
lab_in host ip route add default dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in office ip addr add 172.18.50.20/24 dev eth0
lab_in office ip route add 192.0.2.0/24 dev eth0

docker_node host
docker_lab_image host
docker_swarm_init host
# The service (again after the remedy's new swarm: the hand step "create the services ... again").
create_services() {
  dk host service create -d --name web --no-resolve-image --publish 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null &&
  docker_wait_listen host "$(docker_service_ctr host web)" 80 &&
  docker_ingress_standin host web
}
create_services
sbox=$(docker_sandbox_path host ingress_sbox)

# fetch NS SECONDS: one HTTP request to the published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 2>/dev/null || true
}

docker_live host "$out" 30 -i eth0 -i docker_gwbridge --netns "$sbox:eth1" --netns "$sbox:eth0"
# The failing attempt ends the traffic: the good connections are over long before it times
# out, and the capture stops after the failure has run its course.
fetch good 10 >/dev/null
fetch office 3.5 >/dev/null &
bad=$!
fetch good 10 >/dev/null
fetch good 10 >/dev/null
wait "$bad" || true
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { fetch "$1" "$2"; }
  remedy_hand() {
    [ "$1" = "recreate the services noted above" ] || { echo "no hand step $1 in this scenario"; return 1; }
    # The stand-in is Docker's programIngress + IPVS: the old swarm's service is gone, so are its rules.
    docker_ingress_standin_reset host
    echo "the service noted by docker service ls, created again as the lab first did:"
    declare -f create_services | sed -n '/^ /p'
    create_services
  }
  docker_remedies host "office=172.18.50.20" "good"
fi
