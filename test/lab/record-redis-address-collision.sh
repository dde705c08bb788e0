#!/usr/bin/env bash
# Scenario redis-address-collision (the Redis cluster report, two hosts): node-a and
# node-b are Docker hosts on one LAN (10.100.1.100 and .101), each with docker0
# 172.17.0.1/16 and one container that happens to have the same address, 172.17.0.55
# (different MACs). On node-a, a container redis (#c) meets the host-network redis #a
# (10.100.1.100:6379) through docker0, so #a sees it as 172.17.0.55 and, as Redis Cluster
# does, announces that address to its peers. node-b's redis #b, told to meet 172.17.0.55,
# dials 172.17.0.55:6379: node-b routes it into its own docker0, where its own container
# #d answers, and the two clusters merge. #b also talks to #a over the LAN (the cluster
# bus), so that handshake is seen at both hosts. Every handshake completes: the failure
# is a connection to the wrong machine, not a silent SYN.
# Writes OUT-DIR/node-a.pcapng and OUT-DIR/node-b.pcapng (synscope live --write on eth0
# and docker0 in each host's namespace) and each host's context beside its capture
# (node-a.context.json, node-b.context.json).
# Args: --host node-a=node-a.pcapng --host node-b=node-b.pcapng --context node-a=node-a.context.json --context node-b=node-b.context.json
# Usage: record-redis-address-collision.sh OUT-DIR   (root; about 10 s)
#
# Verdict: one cross-host `address-collision` error for 172.17.0.55: a different MAC
# behind docker0 on node-a and on node-b; node-a's service 10.100.1.100:6379 saw it as a
# client, and node-b reached it as a server (from 172.17.0.1: its route to 172.17.0.0/16
# is docker0's, so the kernel picks docker0's address as the source). The remedy is to announce a
# routable address (Redis `cluster-announce-ip`) or keep bridge subnets apart per host.
# The clocks of the two captures are compared on the cluster-bus handshake seen at both
# hosts (in the lab both run on one kernel clock, so the offset is about 0 s).
source "$(dirname "$0")/netns-lab.sh"
outdir=$(realpath -m "$1")
mkdir -p "$outdir"

lab_ns nodea; lab_ns nodeb; lab_ns ctra; lab_ns ctrb
lab_lan nodea nodeb
lab_in nodea ip addr add 10.100.1.100/24 dev eth0
lab_in nodeb ip addr add 10.100.1.101/24 dev eth0
for n in a b; do
  lab_docker0 "node$n" "ctr$n" veth-ctr 172.17.0.55
  lab_in "node$n" iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
done

lab_serve nodea 6379   # redis #a, host networking on node-a
lab_serve ctrb 6379    # redis #d, the container on node-b
lab_capture nodea "$outdir/node-a.pcapng" 7 eth0 docker0
capture_a=$LAB_CAPTURE_PID
lab_capture nodeb "$outdir/node-b.pcapng" 7 eth0 docker0
capture_b=$LAB_CAPTURE_PID
lab_connect ctra 10.100.1.100 6379 2     # #c meets #a: #a sees 172.17.0.55
lab_connect nodeb 10.100.1.100 6379 2    # #b <-> #a cluster bus, seen at both hosts
lab_connect nodeb 172.17.0.55 6379 2     # #b dials the announced address and reaches #d
lab_capture_stop "$capture_a" "$capture_b"
echo "wrote $outdir/node-a.pcapng, node-b.pcapng and their contexts"
