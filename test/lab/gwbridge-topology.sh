#!/usr/bin/env bash
# The docker_gwbridge ingress topology of the third incident report, for netns-lab.sh users.
# A swarm node ("host") publishes port 8080 the way Docker does: PREROUTING sends the SYN
# to DOCKER-INGRESS, which DNATs it to ingress_sbox ("sbox") at 172.18.0.2 on
# docker_gwbridge (Docker's default 172.18.0.0/16). The "office" client 172.18.50.20
# lies inside that subnet: its SYN is DNATed in, but ingress_sbox finds the client on its
# own connected 172.18.0.0/16 and ARPs for it on docker_gwbridge, so the SYN-ACK never
# leaves. The "good" client 192.0.2.10 connects fine.

gwbridge_topology() {
  lab_ns host; lab_ns good; lab_ns office; lab_ns sbox
  lab_lan host good office

  lab_in host ip addr add 192.0.2.1/24 dev eth0
  lab_in host ip link add docker_gwbridge type bridge
  lab_in host ip addr add 172.18.0.1/16 dev docker_gwbridge
  lab_in host ip link set docker_gwbridge up
  lab_in host sysctl -qw net.ipv4.ip_forward=1
  # rp_filter off as on the incident host (else the office SYN would die on eth0 already).
  lab_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
  lab_link host veth-sbox sbox eth1
  lab_in host ip link set veth-sbox master docker_gwbridge
  lab_in sbox ip addr add 172.18.0.2/16 dev eth1
  lab_in sbox ip route add default via 172.18.0.1

  # Docker's host nat rules for a swarm published port (as `iptables-save -t nat` shows them).
  lab_in host iptables -t nat -N DOCKER-INGRESS
  lab_in host iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
  lab_in host iptables -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
  lab_in host iptables -t nat -A DOCKER-INGRESS -p tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:8080
  lab_in host iptables -t nat -A DOCKER-INGRESS -j RETURN
  lab_in host iptables -t nat -A POSTROUTING -o docker_gwbridge -m addrtype --src-type LOCAL -j MASQUERADE
  lab_in host iptables -t nat -A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE

  lab_in good ip addr add 192.0.2.10/24 dev eth0
  # The office network that happens to be 172.18.x: reaches the node on-link.
  lab_in office ip addr add 172.18.50.20/24 dev eth0
  lab_in office ip route add 192.0.2.0/24 dev eth0
}

# gwbridge_traffic: one good connection, one office attempt (three SYNs in 4 s), one good
# connection, all bounded in time; the service in ingress_sbox must already listen.
gwbridge_traffic() {
  lab_connect good 192.0.2.1 8080 2
  lab_connect office 192.0.2.1 8080 4 &
  lab_connect good 192.0.2.1 8080 2
  wait $! || true
}
