#!/usr/bin/env bash
# Scenario rp-filter-strict: the host has two uplinks. Clients of the 10.20.0.0/24 branch
# network reach it through router A on eth0 (192.0.2.0/24), but the host routes
# 10.20.0.0/24 back via router B on eth1 (198.51.100.0/24): an asymmetric path. With
# strict reverse-path filtering (rp_filter=1) on eth0, the kernel drops those SYNs before
# any socket sees them (TcpExt.IPReversePathFilter rises) and sends nothing back. A client
# on eth0's own LAN (192.0.2.10) connects fine.
# Writes OUT.pcapng (synscope live --write on eth0 and eth1 in the host namespace) and CONTEXT.json
# (the host context synscope live --write took in the host namespace, with the kernel
# counters of the capture window).
# Usage: record-rp-filter-strict.sh OUT.pcapng CONTEXT.json   (root; about 9 s)
#
# Verdict: the rp_filter rule's finding, reported under code `filtered` (the design's
# closed set has no code of its own for it) with the cause in the title ("Reverse-path
# filter on eth0 drops SYNs from 1 client"), evidence interface eth0, effective mode 1,
# reverse route 10.20.0.0/24 dev eth1; confidence high because IPReversePathFilter rose
# during the capture. Nothing else: the asymmetric reply route is the same fact seen from
# the routing table, and `route-conflict` leaves out flows whose SYN reverse-path
# filtering dropped (no reply was ever routed).
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns local; lab_ns ra; lab_ns rb; lab_ns branch
lab_lan host local ra
lab_link ra eth1 branch eth0
lab_link host eth1 rb eth0

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip addr add 198.51.100.1/24 dev eth1
# The asymmetric route: the branch network is routed back via the second uplink.
lab_in host ip route add 10.20.0.0/24 via 198.51.100.254 dev eth1
# Strict reverse-path filtering (the effective mode is max(all, eth0)).
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1 net.ipv4.conf.eth1.rp_filter=1

lab_in local ip addr add 192.0.2.10/24 dev eth0
lab_in ra ip addr add 192.0.2.254/24 dev eth0
lab_in ra ip addr add 10.20.0.1/24 dev eth1
lab_in ra sysctl -qw net.ipv4.ip_forward=1
lab_in rb ip addr add 198.51.100.254/24 dev eth0
lab_in branch ip addr add 10.20.0.20/24 dev eth0
lab_in branch ip route add default via 10.20.0.1

lab_serve host 8080
lab_capture host "$out" 7 eth0 eth1
lab_connect local 192.0.2.1 8080 2
lab_connect branch 192.0.2.1 8080 4 &
failing=$!
lab_connect local 192.0.2.1 8080 2
wait "$failing"
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
