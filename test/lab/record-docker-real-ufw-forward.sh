#!/usr/bin/env bash
# Scenario docker-real-ufw-forward (a router with ufw whose forwarded traffic ufw's routed
# policy drops, on a real Docker engine; the FORWARD policy DROP is ufw's, not Docker's): the
# node routes between its LAN eth0 (192.0.2.1/24, the server 192.0.2.30 runs busybox httpd)
# and a second network on eth1 (10.20.0.1/24, the client 10.20.0.10 behind it). Forwarding is
# on before anything starts (the node is a router), and ufw (Debian's package, its defaults:
# deny incoming, deny routed) is enabled before dockerd, as at boot. So Docker leaves
# FORWARD's policy alone; ufw set it to DROP, and nothing in ufw's chains accepts routing from
# eth1 to eth0. The client's SYNs die there without a word; the LAN client 192.0.2.10 gets the
# page of a busybox httpd "web" published with -p 8080:80 (Docker's own FORWARD rules come
# before ufw's). Captured with synscope live --write on the node's eth0 and eth1.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` are docker.io 20.10's own; ufw is Debian's ufw 0.36 (its rules in the lab namespace only, lab_ufw); stood in for: the second network and the server (lab namespaces).
# Usage: record-docker-real-ufw-forward.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one filtered error for 192.0.2.30:80 naming 10.20.0.10: the SYNs came in by eth1 to
# be routed out of eth0, and FORWARD's policy DROP, ufw's (its chains are in FORWARD), drops
# them. Before this, the same finding called the policy Docker's and said turning forwarding
# on at boot would keep Docker from setting it, which does nothing here. The remedy is ufw's
# own: `ufw route allow in on eth1 out on eth0` (kept by ufw across restarts; the replies are
# accepted by ufw's before-forward rules). It is applied in the lab with ufw, and the client
# gets the server's page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_two_networks
lab_in host sysctl -qw net.ipv4.ip_forward=1

page=$(fetch remote 192.0.2.30 80 10)
[ -n "$page" ] || { echo "10.20.0.10 got no page from the server before ufw" >&2; exit 1; }

lab_ufw host --force enable >/dev/null
[ "$(lab_in host iptables -S FORWARD | head -1)" = '-P FORWARD DROP' ] || { echo "ufw did not set FORWARD's policy to DROP" >&2; exit 1; }

docker_node host
docker_lab_image host
dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host web 80
lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
lab_in host iptables -S FORWARD | grep -q -- '-j DOCKER-USER' || { echo "dockerd wrote no FORWARD rules" >&2; exit 1; }

docker_live host "$out" 30 -i eth0 -i eth1
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch remote 192.0.2.30 80 3.5)
[ -z "$page" ] || { echo "10.20.0.10 got a page although ufw drops routed traffic" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 192.0.2.30 80 "$2"; fi; }
  docker_remedies host "remote=10.20.0.10" "good"
fi
