#!/usr/bin/env bash
# Scenario syn-ack-lost: two client networks reach a server through a router namespace.
# The router has a return-path firewall rule (FORWARD, out to the 10.40.0.0/24 network)
# that drops TCP packets with SYN+ACK set: the server answers, but the branch client
# 10.40.0.20 never gets the SYN-ACK and keeps retransmitting the same SYN (the server
# answers each one). The client 10.30.0.10 on the other network connects normally.
# Captured at the server (synscope live --write on the server namespace's eth0).
# Usage: record-syn-ack-lost.sh OUT.pcapng   (root; about 9 s)
#
# Verdict: one `syn-ack-lost` error for 192.0.2.1:8080 naming the client 10.40.0.20.
# Zeek's conn_state for the lost attempt is S1 (history `Sh`).
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")

lab_ns server; lab_ns router; lab_ns ca; lab_ns cb
lab_link server eth0 router eth0
lab_link router eth1 ca eth0
lab_link router eth2 cb eth0

lab_in server ip addr add 192.0.2.1/24 dev eth0
lab_in server ip route add default via 192.0.2.254
lab_in router ip addr add 192.0.2.254/24 dev eth0
lab_in router ip addr add 10.30.0.1/24 dev eth1
lab_in router ip addr add 10.40.0.1/24 dev eth2
lab_in router sysctl -qw net.ipv4.ip_forward=1
lab_in router iptables -A FORWARD -o eth2 -p tcp --tcp-flags SYN,ACK SYN,ACK -j DROP
lab_in ca ip addr add 10.30.0.10/24 dev eth0
lab_in ca ip route add default via 10.30.0.1
lab_in cb ip addr add 10.40.0.20/24 dev eth0
lab_in cb ip route add default via 10.40.0.1

lab_serve server 8080
lab_capture server "$out" 7 eth0
lab_connect ca 192.0.2.1 8080 2
lab_connect cb 192.0.2.1 8080 4 &
failing=$!
lab_connect ca 192.0.2.1 8080 2
wait "$failing"
lab_capture_stop
echo "wrote $out"
