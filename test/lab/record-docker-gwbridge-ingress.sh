#!/usr/bin/env bash
# Scenario docker-gwbridge-ingress (third incident report): a swarm node publishes port
# 8080 through the ingress path. Docker's host nat rules send the SYN from PREROUTING to
# the DOCKER-INGRESS chain, which DNATs it to the ingress_sbox namespace's address on
# docker_gwbridge (172.18.0.2); the service answers from there. docker_gwbridge has the
# default 172.18.0.0/16, which overlaps the company network: the office client
# 172.18.50.20 reaches the node over eth0, the SYN is DNATed into ingress_sbox, but
# ingress_sbox finds 172.18.50.20 on its own connected 172.18.0.0/16 and ARPs for it on
# docker_gwbridge: the SYN-ACK never leaves. A client from 192.0.2.0/24 connects fine.
# Writes OUT.pcapng (synscope live --write on eth0 and docker_gwbridge in the host namespace) and
# CONTEXT.json (`synscope context` in the host namespace, after the traffic).
# Usage: record-docker-gwbridge-ingress.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Until NAT stitching exists, each attempt counts once per hop (192.0.2.1:8080 on eth0 and
# 172.18.0.2:8080 on docker_gwbridge after the DNAT): 6 attempts for 3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/netns-lab.sh"
source "$here/gwbridge-topology.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")
trap lab_cleanup EXIT

gwbridge_topology

lab_serve sbox 8080 12
lab_capture host "$out" 8 eth0 docker_gwbridge
gwbridge_traffic
wait "$LAB_CAPTURE_PID" || true
lab_in host node "$repo/bin/synscope.js" context --output "$ctx" --docker-socket /nonexistent/docker.sock 2>/dev/null
echo "wrote $out and $ctx"
