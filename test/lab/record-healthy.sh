#!/usr/bin/env bash
# Scenario healthy: the baseline. Three clients on one LAN (a bridge in its own namespace)
# connect to a service on the host, two or three times each, and every handshake completes.
# Captured on the host's eth0 with synscope live --write.
# Usage: record-healthy.sh OUT.pcapng   (root; takes about 8 s)
#
# Verdict: every handshake completes, every flow is `SF`, and there are no findings at
# all. Any finding here is a false alarm.
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")

lab_ns host; lab_ns c1; lab_ns c2; lab_ns c3
lab_lan host c1 c2 c3

lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in c1 ip addr add 192.0.2.11/24 dev eth0
lab_in c2 ip addr add 192.0.2.12/24 dev eth0
lab_in c3 ip addr add 192.0.2.13/24 dev eth0

lab_serve host 8080
lab_capture host "$out" 6 eth0
for round in 1 2; do
  for c in c1 c2 c3; do lab_connect "$c" 192.0.2.1 8080 2; done
done
lab_connect c1 192.0.2.1 8080 2
lab_capture_stop
echo "wrote $out"
