#!/usr/bin/env bash
# Scenario docker-real-docker-user-replies (a DOCKER-USER rule that locks down published ports
# also drops the replies to the containers' own connections, on a real Docker engine): the
# operator restricts the node's published ports to the admin box as Docker's documentation
# shows, `iptables -I DOCKER-USER -i eth0 ! -s 192.0.2.10 -j DROP`, but without its second
# line (accept RELATED,ESTABLISHED). The admin box 192.0.2.10 still gets web's page through
# -p 8080:80. Container cli (172.17.0.3) connects out to a server on the LAN (192.0.2.30:80):
# its SYN leaves by eth0, masqueraded to 192.0.2.1, the server answers, and the SYN-ACK, de-NATed
# back to 172.17.0.3 and forwarded from eth0 to docker0, meets DOCKER-USER first and is dropped.
# Captured with synscope live --write on eth0 and docker0.
# Real Docker: dockerd, docker0, the containers, Docker's NAT and filter chains (DOCKER-USER jumped first in FORWARD) are docker.io 20.10's own; stood in for: the operator's rule and the LAN server (busybox httpd in a lab namespace).
# Usage: record-docker-real-docker-user-replies.sh OUT.pcapng CONTEXT.json   (root; 15-30 s)
#
# Verdict: one nat-path-break error for cli's attempt to 192.0.2.30:80, direction syn-ack:
# the SYN left by eth0 masqueraded, the SYN-ACKs came back there and never reached docker0, and
# the operator's DOCKER-USER rule drops them (DOCKER-USER comes before Docker's own accept of
# replies). Before this, the same finding walked the rules with the masqueraded address,
# added that the reply would be routed out of eth0 (it is not: 172.17.0.3 is on docker0), and
# its remedy deleted the rule, which would open the published ports to everyone again. The
# remedy now puts Docker's documented companion rule first, `iptables -I DOCKER-USER -m
# conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`; it is applied in the lab: cli gets the
# LAN server's page, 192.0.2.10 still gets web's, and 192.0.2.20 is still kept out.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
lab_ns server
lab_link server eth0 lan p-server
lab_in lan ip link set p-server master lan
lab_in server ip addr add 192.0.2.30/24 dev eth0
lab_web server 80 "the LAN server 192.0.2.30"
dk host run -d --name cli "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host cli 80

# out_page SECONDS: cli's request to the LAN server; the answer on stdout.
out_page() {
  printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host cli timeout "$1" busybox nc 192.0.2.30 80 2>/dev/null || true
}
page=$(out_page 10)
[ -n "$page" ] || { echo "cli got no page from the LAN server before the rule" >&2; exit 1; }
lab_in host iptables -I DOCKER-USER -i eth0 ! -s 192.0.2.10 -j DROP

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from web" >&2; exit 1; }
page=$(out_page 3.5)
[ -z "$page" ] || { echo "cli got the LAN server's page although DOCKER-USER drops the replies" >&2; exit 1; }
docker_capture_done

if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = ctr:cli ]; then out_page "$2"; else fetch "$1" "$2"; fi; }
  docker_remedies host "ctr:cli=172.17.0.3" "good"
  # The lockdown the rule is for still holds: 192.0.2.20 gets no page from the published port.
  page=$(fetch remote 3.5)
  [ -z "$page" ] || { echo "192.0.2.20 got web's page after the remedy: the published ports are open again" >&2; exit 1; }
fi
