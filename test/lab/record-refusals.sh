#!/usr/bin/env bash
# Scenario refusals: one client, one host, four ports, each failing (or not) its own way,
# captured on the host's eth0:
#   8080 a listening service (completes), 8081 nothing listens (RST),
#   8082 iptables DROP (silent: filtered), 8083 iptables REJECT icmp-admin-prohibited.
# Usage: record-refusals.sh OUT.pcapng   (root; takes about 8 s)
# REFUSALS_VARIANT selects a file-format variant of the same scenario (the wrappers
# record-refusals-*.sh set it): nanosecond (tcpdump --time-stamp-precision=nano, pcap),
# big-endian (synscope live, then rewritten as big-endian pcap by convert-pcap.js),
# sll2 (tcpdump -i any -y LINUX_SLL2, pcap), vlan (synscope live, then every frame given an
# 802.1Q tag for VLAN 100 by tag-vlan.js, pcapng: the lab kernel has no CONFIG_VLAN_8021Q,
# so a VLAN sub-interface cannot be made to record on).
#
# Verdict: `filtered` for 8082 (the only silent failure, with its SYN retransmissions
# counted in one attempt), `rejected` for 8081 (RST) and for 8083 (ICMP communication
# administratively prohibited), nothing for 8080. Zeek's conn_state for the ICMP-refused
# attempt is S0 (Zeek ignores ICMP for TCP state); synscope's bucket for it is `rejected`.
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
variant=${REFUSALS_VARIANT:-pcapng}

lab_ns host; lab_ns client
lab_link host eth0 client eth0
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in client ip addr add 192.0.2.20/24 dev eth0
lab_in host iptables -A INPUT -p tcp --dport 8082 -j DROP
lab_in host iptables -A INPUT -p tcp --dport 8083 -j REJECT --reject-with icmp-admin-prohibited

lab_serve host 8080
case "$variant" in
  pcapng) lab_capture host "$out" 6 eth0 ;;
  big-endian|vlan) tmp=$(mktemp --suffix=.pcapng); lab_capture host "$tmp" 6 eth0 ;;
  nanosecond) lab_tcpdump host "$out" 7 -i eth0 --time-stamp-precision=nano ;;
  sll2) lab_tcpdump host "$out" 7 -i any -y LINUX_SLL2 ;;
  *) echo "unknown REFUSALS_VARIANT $variant" >&2; exit 2 ;;
esac
lab_connect client 192.0.2.1 8080 2
lab_connect client 192.0.2.1 8081 2
lab_connect client 192.0.2.1 8083 2
lab_connect client 192.0.2.1 8082 3.5
lab_capture_stop
case "$variant" in
  big-endian) node "$LAB_DIR/convert-pcap.js" "$tmp" "$out" --big-endian >/dev/null; rm -f "$tmp" ;;
  vlan) node "$LAB_DIR/tag-vlan.js" "$tmp" "$out" --vid 100 >/dev/null; rm -f "$tmp" ;;
esac
echo "wrote $out"
