#!/usr/bin/env bash
# Scenario docker-real-swarm-ingress-vxlan-lost (the overlay's VXLAN lost between two swarm
# nodes, on a real Docker engine): the lab of docker-real-swarm-ingress-cross-node. Two
# dockerd nodes (docker.io 20.10, each contained in its own network, mount and UTS namespaces
# by docker-lab.sh: node1 192.0.2.1, node2 192.0.2.2 on one lab LAN) form one swarm (node1
# manager, node2 worker). A busybox httpd service constrained to node2 is published through
# the routing mesh (`--publish 8080:80`), and the client 192.0.2.10 dials node1:8080, where no
# task runs. This kernel has no IP_VS: `docker_ingress_standin node1 web node2` stands in for
# Docker's DOCKER-INGRESS DNAT on node1 and the IPVS DNAT+SNAT in its ingress_sbox. The
# ingress overlay's VXLAN (VNI 4096, UDP 4789, Docker's own) carries the SYN from node1 to
# node2. The first request completes. Then the network between the nodes starts dropping UDP
# 4789 from node1 to node2 (an ebtables rule on the lab switch's port to node2, standing in for a
# cloud security group or firewall that lets the swarm's control ports 2377 and 7946 through
# but not the overlay's data port, the most common routing-mesh failure): the second
# request's SYN leaves node1's eth0 inside VXLAN and never reaches node2. Captured with
# synscope live --write on each node: node1 on eth0, docker_gwbridge and ingress_sbox's eth1
# and eth0; node2 on the same, plus the task's ingress leg (its namespace through a symlink
# named web.1); each node's context is read at its own Docker socket. The capture filter is
# live's default without the swarm's own control connections between the nodes.
# Args: --host node1=node1.pcapng --host node2=node2.pcapng --context node1=node1.context.json --context node2=node2.context.json
# Real Docker: dockerd on both nodes, the swarm, docker_gwbridge, ingress_sbox, the ingress overlay and its VXLAN between the nodes, the task and its REDIRECT are docker.io 20.10's own; stood in for: the IPVS step (no IP_VS in this kernel), i.e. node1's DOCKER-INGRESS chains and its ingress_sbox's DNAT/SNAT to the task on node2, written by docker_ingress_standin; and the network between the nodes (a lab bridge whose port to node2 drops UDP 4789 from node1).
# Usage: record-docker-real-swarm-ingress-vxlan-lost.sh OUT-DIR   (root; 25-45 s)
#
# Verdict: the failing attempt is one ladder over node1 and toward node2: the client's hop
# on eth0@node1, the DNAT to ingress_sbox on docker_gwbridge@node1, ingress_sbox's
# DNAT+SNAT to the task, and the VXLAN leg leaving eth0@node1. One `nat-path-break` error
# says the SYN left eth0@node1 over the overlay and never arrived at eth0@node2, and its
# remedy points between the nodes (a capture on node2's eth0 sees packets before node2's own
# firewall), not at either node's iptables: allow UDP 4789 from 192.0.2.1 to 192.0.2.2 on the
# way. node1's own view (an unanswered inner hop) gives no finding of its own, and the
# summary counts 2 attempts, 1 completed, 1 unanswered. The remedy is applied in this lab
# after the capture: with the switch's drop removed, the next request through node1:8080
# gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
outdir=$(realpath -m "$1")
mkdir -p "$outdir"

source "$(dirname "$0")/swarm-cross-node-lab.sh"
swarm_cross_node_lab "$outdir"

page=$(fetch 10)
[ -n "$page" ] || { echo "the request through node1's published port to the task on node2 got no answer before the firewall rule" >&2; exit 1; }
# The way between the nodes: the lab switch's port to node2 drops UDP 4789 from node1.
# ebtables-nft ships with Debian's iptables; the rule is the lab switch's, in its namespace.
drop_vxlan=(FORWARD -p IPv4 --ip-src 192.0.2.1 --ip-proto udp --ip-dport 4789 -o p-node2 -j DROP)
lab_in lan ebtables-nft -A "${drop_vxlan[@]}"
page=$(fetch 3.5)
[ -z "$page" ] || { echo "the request got an answer although the switch drops VXLAN from node1 to node2" >&2; exit 1; }
swarm_cross_node_stop "$outdir"

# The remedy the report prints, applied (after the capture): UDP 4789 from node1 to node2
# allowed on the way (the switch's drop removed); the next request gets the page.
lab_in lan ebtables-nft -L FORWARD --Lc | grep -q -- '--ip-dport 4789 -j DROP , pcnt = [1-9]' ||
  { echo "the switch's drop of UDP 4789 to node2 dropped nothing:" >&2; lab_in lan ebtables-nft -L FORWARD --Lc >&2; exit 1; }
lab_in lan ebtables-nft -D "${drop_vxlan[@]}"
page=$(fetch 10)
[ -n "$page" ] || { echo "with UDP 4789 from node1 to node2 allowed again, the request still got no answer" >&2; exit 1; }
echo "wrote $outdir/node1.pcapng, node2.pcapng and their contexts; with UDP 4789 allowed between the nodes the page comes back"
