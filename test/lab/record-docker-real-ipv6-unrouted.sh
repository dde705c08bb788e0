#!/usr/bin/env bash
# Scenario docker-real-ipv6-unrouted (a container's IPv6 connections leave untranslated and never
# come back, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs with
# IPv6 on for docker0, as people turn it on, with a unique local prefix (`"ipv6": true,
# "fixed-cidr-v6": "fd00:d0c::/64"` in daemon.json) and without the experimental "ip6tables"
# option, so Docker writes no IPv6 NAT. The node reaches the IPv6 internet through a router
# (2001:db8:1::fe; the server 2001:db8:2::80 beyond it), and the LAN client 192.0.2.10 gets the
# page of web, published with -p 8080:80. Container cli (fd00:d0c::242:ac11:2) dials
# [2001:db8:2::80]:80: its SYN leaves the node's eth0 with its own ULA source, the server answers
# it, and the router has no route back to fd00:d0c::/64. Captured with synscope live --write on
# the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0 with its IPv6 prefix, the containers and Docker's rules are docker.io 20.10's own; stood in for: the router, the server and the LAN client.
# Usage: record-docker-real-ipv6-unrouted.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one nat-path-break error (high confidence) for [2001:db8:2::80]:80 naming
# fd00:d0c::242:ac11:2: its SYNs left by eth0 with the container's own unique local source, which
# nothing beyond the node routes back; Docker writes IPv6 NAT only with "ip6tables" on. The
# remedy translates it as that option would (`ip6tables -t nat -I POSTROUTING -s fd00:d0c::/64 !
# -o docker0 -j MASQUERADE`, applied in the lab as printed: cli gets the page) and keeps it by
# turning the option on in daemon.json (merged, not applied: it takes a dockerd restart). Before
# this, a medium filtered pointing at INPUT DROP rules, accept queues and rp_filter, as for IPv4
# the masquerade rule was the only one that knew this story.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns router; lab_ns server
# netns-lab.sh turns IPv6 off in every namespace; this lab is about IPv6 (no DAD: addresses at once).
for ns in host good router server; do
  lab_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
lab_lan host good router
lab_link router eth1 server eth0
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in host ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
lab_in host ip -6 route add default via 2001:db8:1::fe dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in router ip -6 addr add 2001:db8:1::fe/64 dev eth0 nodad
lab_in router ip -6 addr add 2001:db8:2::1/64 dev eth1 nodad
lab_in router sysctl -qw net.ipv6.conf.all.forwarding=1
lab_in server ip -6 addr add 2001:db8:2::80/64 dev eth0 nodad
lab_in server ip -6 route add default via 2001:db8:2::1

docker_node host '{"ipv6": true, "fixed-cidr-v6": "fd00:d0c::/64"}'
docker_lab_image host
lab_web server 80 "the server 2001:db8:2::80"
lab_wait "the node reaching the server over IPv6" 20 lab_in host busybox nc -w 2 2001:db8:2::80 80 </dev/null
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
[ "$(dk host inspect -f '{{.NetworkSettings.GlobalIPv6Address}}' cli)" = fd00:d0c::242:ac11:2 ] || { echo "cli is not fd00:d0c::242:ac11:2" >&2; exit 1; }

fetch() { lab_fetch "$@"; }

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from web" >&2; exit 1; }
page=$(fetch ctr:cli 2001:db8:2::80 80 3.5)
[ -z "$page" ] || { echo "cli got the server's page over IPv6 although nothing routes fd00:d0c::/64 back" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 2001:db8:2::80 80 "$2"; fi; }
  docker_remedies host "ctr:cli=fd00:d0c::242:ac11:2" "good"
fi
