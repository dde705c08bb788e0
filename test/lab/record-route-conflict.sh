#!/usr/bin/env bash
# Scenario route-conflict (second incident report): after a migration the LAN is
# 192.168.0.0/24 and docker0 was given 192.168.0.1/24 too. docker0 came up first, so
# 192.168.0.0/24 is routed via docker0 AND via eth0, and the docker0 route wins: SYNs
# from LAN clients arrive on eth0, the SYN-ACKs go into docker0. A client from another
# network (10.1.0.0/24 via a router) still connects.
# Writes OUT.pcapng (synscope live --write on eth0 and docker0) and CONTEXT.json
# (the host context synscope live --write took in the host namespace).
# Usage: record-route-conflict.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Verdict: one `bridge-subnet-overlap` error (the client 192.168.0.50 lies in docker0's
# subnet, taken from the snapshot) carrying the double route as evidence (192.168.0.0/24
# via docker0 and eth0, docker0 wins); no separate `route-conflict`: one failure, one
# ERROR, and moving docker0 (the free subnet proposed for its `bip`, checked against
# every route, address and bridge in the snapshot) ends both.
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns client; lab_ns router; lab_ns far; lab_ns ctr
lab_lan host client router
lab_link router eth1 far eth0

# docker0 first, with a container behind it so the bridge has carrier.
lab_in host ip link add docker0 type bridge
lab_in host ip addr add 192.168.0.1/24 dev docker0
lab_in host ip link set docker0 up
lab_link host veth-ctr ctr eth0
lab_in host ip link set veth-ctr master docker0
lab_in ctr ip addr add 192.168.0.2/24 dev eth0
# Then the uplink on the same LAN prefix: the second connected route loses.
lab_in host ip addr add 192.168.0.10/24 dev eth0
lab_in host ip route add 10.1.0.0/24 via 192.168.0.254 dev eth0
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

lab_in client ip addr add 192.168.0.50/24 dev eth0
lab_in router ip addr add 192.168.0.254/24 dev eth0
lab_in router ip addr add 10.1.0.1/24 dev eth1
lab_in router sysctl -qw net.ipv4.ip_forward=1
lab_in far ip addr add 10.1.0.20/24 dev eth0
lab_in far ip route add default via 10.1.0.1

lab_serve host 8080
lab_capture host "$out" 8 eth0 docker0
lab_connect far 192.168.0.10 8080 2
lab_connect client 192.168.0.10 8080 4 &
failing=$!
lab_connect far 192.168.0.10 8080 2
wait "$failing"
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
