#!/usr/bin/env bash
# Scenario docker-real-gwbridge-hostmode (third incident report, host-mode publish, on a real
# Docker engine): a real dockerd (docker.io 20.10, contained in the lab's "host" namespace by
# docker-lab.sh) is a single-node swarm (`docker swarm init`), so docker_gwbridge has Docker's
# default 172.18.0.0/16. A busybox httpd service on an overlay network is published in host
# mode (`docker service create --network appnet --publish
# mode=host,target=80,published=8080`): its task gets a leg on docker_gwbridge (172.18.0.3)
# and Docker writes `-A DOCKER ! -i docker_gwbridge -p tcp --dport 8080 -j DNAT
# --to-destination <task>:80`. The office client 172.18.50.20 (a company network that
# happens to be 172.18.x, reached on-link over the uplink) sends SYNs to 192.0.2.1:8080: the
# host DNATs them to the task, which finds 172.18.50.20 on its own connected 172.18.0.0/16
# and ARPs for it on docker_gwbridge, so the SYN-ACK never leaves. The client 192.0.2.10
# connects. rp_filter is off in the node's namespace, as on the incident host.
# Captured with synscope live --write on eth0 and docker_gwbridge in the node's namespace; the
# host context is read there with --docker-socket at the node's socket (the Engine API's
# networks and swarm role); with DOCKER_LIVE_JSON=FILE the live run's report JSON is kept.
# Real Docker: dockerd, the swarm, docker_gwbridge, the overlay, the task and Docker's host-mode DNAT are docker.io 20.10's own; nothing is stood in for (host mode needs no IPVS).
# Usage: record-docker-real-gwbridge-hostmode.sh OUT.pcapng CONTEXT.json   (root; about 30 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker_gwbridge, 172.18.0.0/16 and only
# 172.18.50.20; the SYN is DNATed to the task on docker_gwbridge, which answers and asks for
# the client by ARP (`repliesFrom` the task's docker_gwbridge address, the ARP requests on
# docker_gwbridge are the evidence); the remedy is the single-node swarm procedure
# (swarm leave --force, network rm, network create --subnet <proposed>, swarm init, the
# services again), proven in test/docker-swarm-remedies.test.ts. No other error: the
# host's own reply route is not used, and the attempt's inner hop gets no `syn-ack-lost`.
# Remedy applied in this lab by test/docker-swarm-remedies.test.ts: the printed docker commands
# run as printed (service/secret/config/network ls, swarm leave --force, network rm
# docker_gwbridge, network create --subnet <proposed> ... docker_gwbridge, swarm init); the
# hand step "create the services ... again" is the lab's own `network create -d overlay appnet`
# and `service create` (once the old swarm's appnet is gone, a few seconds on 20.10); then
# 172.18.50.20 gets the page. Checked by hand only: the `default-address-pools` line (merged
# into daemon.json, dockerd not restarted).
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
# After `swarm leave --force` the old swarm's appnet lingers for a moment (Docker 20.10: create
# says it exists, inspect says no such network): wait until it is gone.
create_services() {
  lab_wait "the old swarm's appnet to go" 30 bash -c "[ -z \"\$(DOCKER_HOST=unix://$(docker_sock host) $DOCKER_LAB_CLI network ls -q --filter name=^appnet\$)\" ]" &&
  dk host network create -d overlay appnet >/dev/null &&
  dk host service create -d --name web --no-resolve-image --network appnet \
    --publish mode=host,target=80,published=8080 "$DOCKER_LAB_IMAGE" >/dev/null &&
  docker_wait_listen host "$(docker_service_ctr host web)" 80 &&
  lab_wait "Docker's host-mode DNAT for tcp/8080" 20 bash -c "ip netns exec $LAB-host iptables -t nat -S DOCKER | grep -q -- '--dport 8080 '"
}
create_services

# fetch NS SECONDS: one HTTP request to the published port, bounded in time; the answer on stdout.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 2>/dev/null || true
}

docker_live host "$out" 30 -i eth0 -i docker_gwbridge
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
    echo "the service noted by docker service ls, created again as the lab first did:"
    declare -f create_services | sed -n '/^ /p'
    create_services
  }
  docker_remedies host "office=172.18.50.20" "good"
fi
