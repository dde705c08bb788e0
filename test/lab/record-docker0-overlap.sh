#!/usr/bin/env bash
# Scenario docker0-overlap (first incident report): a client whose address lies in
# docker0's 172.17.0.0/16 reaches the host over eth0; the host answers, but the
# SYN-ACK is routed into docker0 (connected route), where nobody owns the address.
# A normal client on 192.0.2.0/24 connects fine. Captured on eth0 and docker0 with synscope live --write.
# Usage: record-docker0-overlap.sh OUT.pcapng   (root; takes about 10 s)
#
# Verdict: one `bridge-subnet-overlap` error naming docker0, 172.17.0.0/16 and only the
# client 172.17.0.50; the evidence includes the ARP requests for it seen on docker0.
# Without `--bridge`, the same silence is reported as `filtered`.
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")

lab_ns host; lab_ns good; lab_ns bad; lab_ns ctr
lab_lan host good bad

# The host: uplink eth0 and a docker0 bridge with one container behind it.
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip link add docker0 type bridge
lab_in host ip addr add 172.17.0.1/16 dev docker0
lab_in host ip link set docker0 up
lab_link host veth-ctr ctr eth0
lab_in host ip link set veth-ctr master docker0
lab_in ctr ip addr add 172.17.0.2/16 dev eth0
# As on the incident host: no reverse-path filter, so the SYN reaches the socket.
lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

lab_in good ip addr add 192.0.2.10/24 dev eth0
# The customer network that happens to be 172.17.x: reaches the host on-link.
lab_in bad ip addr add 172.17.0.50/24 dev eth0
lab_in bad ip route add 192.0.2.0/24 dev eth0

lab_serve host 8080
lab_capture host "$out" 8 eth0 docker0
lab_connect good 192.0.2.1 8080 2
lab_connect bad 192.0.2.1 8080 4 &
bad=$!
lab_connect good 192.0.2.1 8080 2
lab_connect good 192.0.2.1 8080 2
wait "$bad" || true
lab_capture_stop
echo "wrote $out"
