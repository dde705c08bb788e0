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
# CONTEXT.json (the host context synscope live --write took in the host namespace, with
# the kernel counters of the capture window).
# Usage: record-docker-gwbridge-ingress.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker_gwbridge, 172.18.0.0/16 and
# only 172.18.50.20 (covering both legs of its attempt: on eth0 and, after the DNAT, on
# docker_gwbridge; the ARP requests on docker_gwbridge are the evidence; the remedy is the
# leave / recreate / join order). The SYN is DNATed to ingress_sbox (172.18.0.2), which
# answers and asks for the client by ARP: the finding names it (`repliesFrom`). No
# `route-conflict`: the host's own reply route is never used. No `filtered`.
# NAT stitching: each attempt shows up as two flows, one per hop (eth0 with the public
# tuple, docker_gwbridge after the DNAT), matched by the client's ISN, TSval, SYN options
# and IP ID within 2 s. The summary counts each attempt once, with the client's (eth0)
# outcome; `flows` (and the `states` counts) still list every hop's flow. The failed
# attempt's flows carry `attempt`, its `hops` (eth0 `none` → docker_gwbridge `dnat`) and
# `reached` (SYN: docker_gwbridge, SYN-ACK: none). No `nat-path-break`: the bridge overlap
# already explains where and why the reply never leaves, and the specific rule wins.
source "$(dirname "$0")/netns-lab.sh"
source "$LAB_DIR/gwbridge-topology.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

gwbridge_topology

lab_serve sbox 8080
lab_capture host "$out" 8 eth0 docker_gwbridge
gwbridge_traffic
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
