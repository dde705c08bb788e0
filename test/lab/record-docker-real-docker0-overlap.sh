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
# context is read there with --docker-socket at the node's socket (the Engine API's networks).
# Usage: record-docker-real-docker0-overlap.sh OUT.pcapng CONTEXT.json   (root; about 20 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker0 (from the context's real Engine
# API networks: bridge, 172.17.0.0/16), 172.17.0.50 as the only client, and the ARP requests
# for it seen on docker0: they come from the container (`who-has 172.17.0.50 tell
# 172.17.0.2`), which holds the DNATed connection and answers on-link. The failed attempt is
# stitched eth0 (`none`) → docker0 (DNAT to 172.17.0.2:80, from the context's rule for
# tcp/8080); the three good attempts complete. First recording (docker.io 20.10.24, kernel
# 6.18): synscope also reports `route-conflict` (the host's route to 172.17.0.50 from
# 192.0.2.1 is docker0's), which does not hold here: the SYN-ACK would come from the
# container, not from the host, so the host's reply route is not what fails.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns bad
lab_lan host good bad

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80

lab_in good ip addr add 192.0.2.10/24 dev eth0
# The customer network that happens to be 172.17.x: reaches the host on-link.
lab_in bad ip addr add 172.17.0.50/24 dev eth0
lab_in bad ip route add 192.0.2.0/24 dev eth0

# fetch NS SECONDS: one HTTP request to the published port, bounded in time.
fetch() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 >/dev/null 2>&1 || true
}

docker_capture host "$out" 8 eth0 docker0
fetch good 2
fetch bad 4 &
fetch good 2
wait_for=$LAB_CAPTURE_PID
fetch good 2
wait $! || true
wait "$wait_for" || true
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
