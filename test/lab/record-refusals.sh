#!/usr/bin/env bash
# Scenario refusals: one client, one host, four ports, each failing (or not) its own way,
# captured on the host's eth0:
#   8080 a listening service (completes), 8081 nothing listens (RST),
#   8082 iptables DROP (silent: filtered), 8083 iptables REJECT icmp-admin-prohibited.
# Usage: record-refusals.sh OUT.pcapng   (root; takes about 8 s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/netns-lab.sh"
out=$(realpath -m "$1")
trap lab_cleanup EXIT

lab_ns host; lab_ns client
lab_link host eth0 client eth0
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in client ip addr add 192.0.2.20/24 dev eth0
lab_in host iptables -A INPUT -p tcp --dport 8082 -j DROP
lab_in host iptables -A INPUT -p tcp --dport 8083 -j REJECT --reject-with icmp-admin-prohibited

lab_serve host 8080 10
lab_capture host "$out" 6 eth0
lab_connect client 192.0.2.1 8080 2
lab_connect client 192.0.2.1 8081 2
lab_connect client 192.0.2.1 8083 2
lab_connect client 192.0.2.1 8082 3.5
wait "$LAB_CAPTURE_PID" || true
echo "wrote $out"
