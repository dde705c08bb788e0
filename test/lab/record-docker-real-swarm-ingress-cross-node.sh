#!/usr/bin/env bash
# Scenario docker-real-swarm-ingress-cross-node (one attempt across two swarm nodes, on a real
# Docker engine): two dockerd nodes (docker.io 20.10, each contained in its own network, mount
# and UTS namespaces by docker-lab.sh: node1 192.0.2.1, node2 192.0.2.2 on one lab LAN) form
# one swarm (node1 manager, node2 worker). A busybox httpd service constrained to node2
# (`--constraint node.hostname==node2`) is published through the routing mesh
# (`--publish 8080:80`), and the client 192.0.2.10 dials node1:8080, where no task runs. This
# kernel has no IP_VS, so Docker programs neither node1's DOCKER-INGRESS chains nor the IPVS
# service in its ingress_sbox: `docker_ingress_standin node1 web node2` (docker-lab.sh) stands
# in for that one step: node1 DNATs tcp/8080 to ingress_sbox (172.18.0.2), and ingress_sbox
# DNATs to the task's ingress address on node2 and SNATs to its own ingress address, as IPVS
# in NAT mode does. The ingress overlay's VXLAN (VNI 4096, UDP 4789, Docker's own) then
# carries the SYN from node1 to node2, where Docker's task-side REDIRECT hands it to httpd.
# The first request completes. Then node2's host firewall gets an egress rule that lets the
# overlay's VXLAN in but not out to node1 (`iptables -I OUTPUT -p udp --dport 4789 -d
# 192.0.2.1 -j DROP`: a node egress policy written for the swarm's control ports, 2377 and
# 7946, that forgot its data port 4789, a classic routing-mesh failure): the second request's
# SYN still reaches the task, the task answers, and the SYN-ACK dies on node2 before it is
# encapsulated. Captured with synscope live --write on each node: node1 on eth0,
# docker_gwbridge and ingress_sbox's eth1 and eth0; node2 on the same, plus the task's ingress
# leg (its namespace through a symlink named web.1); each node's context is read at its own
# Docker socket. The capture filter is live's default without the swarm's own control
# connections between the nodes (TCP 2377 and 7946: memberlist opens a new one every 30 s or
# so), so that a recording again gets the same counts.
# Args: --host node1=node1.pcapng --host node2=node2.pcapng --context node1=node1.context.json --context node2=node2.context.json
# Real Docker: dockerd on both nodes, the swarm, docker_gwbridge, ingress_sbox, the ingress overlay and its VXLAN between the nodes, the task and its REDIRECT are docker.io 20.10's own; stood in for: the IPVS step (no IP_VS in this kernel), i.e. node1's DOCKER-INGRESS chains and its ingress_sbox's DNAT/SNAT to the task on node2, written by docker_ingress_standin.
# Usage: record-docker-real-swarm-ingress-cross-node.sh OUT-DIR   (root; 25-45 s)
#
# Verdict: the failing attempt is one ladder spanning node1 and node2: the client's hop on
# eth0@node1, the DNAT to ingress_sbox on docker_gwbridge@node1, ingress_sbox's DNAT+SNAT to
# the task, the VXLAN leg leaving eth0@node1, the VXLAN leg arriving on eth0@node2 and the
# task's eth0@web.1@node2. One `nat-path-break` error says where it died: the SYN-ACK was
# seen at the task's leg (eth0@web.1@node2) and not at node2's uplink (eth0@node2), with
# node2's egress rules for UDP 4789 as the remedy. Each node's partial view (node1's
# unanswered inner hop, node2's syn-ack-lost) gives no finding of its own, and the handshake
# summary counts the attempt once: 2 attempts, 1 completed, 1 unanswered. The remedy is
# applied in this lab after the capture: with node2's DROP of UDP 4789 deleted, the next
# request through node1:8080 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
outdir=$(realpath -m "$1")
mkdir -p "$outdir"

source "$(dirname "$0")/swarm-cross-node-lab.sh"
swarm_cross_node_lab "$outdir"

page=$(fetch 10)
[ -n "$page" ] || { echo "the request through node1's published port to the task on node2 got no answer before the firewall rule" >&2; exit 1; }
lab_in node2 iptables -I OUTPUT -p udp --dport 4789 -d 192.0.2.1 -j DROP
page=$(fetch 3.5)
[ -z "$page" ] || { echo "the request got an answer although node2 drops its outgoing VXLAN to node1" >&2; exit 1; }
swarm_cross_node_stop "$outdir"

# The remedy the report prints, applied (after the capture): node2's egress rules for UDP 4789
# list the DROP to node1; without it the next request gets the page.
lab_in node2 iptables -S OUTPUT | grep -q -- '-p udp -m udp --dport 4789 -j DROP' ||
  { echo "node2's OUTPUT rules do not show the drop of UDP 4789:" >&2; lab_in node2 iptables -S OUTPUT >&2; exit 1; }
lab_in node2 iptables -D OUTPUT -p udp --dport 4789 -d 192.0.2.1 -j DROP
page=$(fetch 10)
[ -n "$page" ] || { echo "with node2's drop of UDP 4789 removed, the request still got no answer" >&2; exit 1; }
echo "wrote $outdir/node1.pcapng, node2.pcapng and their contexts; without node2's drop of UDP 4789 the page comes back"
