#!/usr/bin/env bash
# Scenario docker-real-nftables-forward-drop (published ports behind the host's own nftables
# ruleset, on a real Docker engine): dockerd (docker.io 20.10, its rules through iptables-nft)
# in lab namespaces runs busybox httpd "web" published with -p 8080:80 and a container "cli"
# (172.17.0.3); the node also serves a page of its own on 192.0.2.1:8000, and a server on the
# LAN, 192.0.2.30, one on port 80. Before the capture the node loads a hardened
# /etc/nftables.conf (Debian's, with `policy drop` on the forward chain: "this host routes
# nothing"). Every base chain on the forward hook must accept a packet, so Docker's accept in
# `ip filter` no longer helps: the client 192.0.2.20's SYNs to 192.0.2.1:8080 are DNATed to
# 172.17.0.2:80 and dropped by `inet filter forward`'s policy, without a word; so are cli's
# SYNs to 192.0.2.30:80, on their way out of docker0. The client 192.0.2.10 still gets the
# node's own page (input is accepted). Captured with synscope live
# --write on the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the host's nftables.conf (loaded with nft -f) and its own web page (busybox httpd).
# Usage: record-docker-real-nftables-forward-drop.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one nat-path-break error for 192.0.2.1:8080 naming 192.0.2.20: its SYNs reached
# eth0 and never docker0, where Docker's DNAT sends them, because the policy DROP of nft
# chain inet filter forward drops them; docker0 saw no packet of it, and counts as captured
# because the capture's own statistics and filter say so. The remedy inserts an accept for
# what Docker's DNAT sends to docker0, and one for the replies, in that chain. One
# nat-path-break error for 192.0.2.30:80 naming 172.17.0.3: its SYNs reached docker0 and
# never eth0, the same policy named; the remedy accepts what docker0's containers send out.
# Applied in the lab: 192.0.2.20 gets web's page and cli gets 192.0.2.30's.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
lab_web host 8000 "the node's own page"
# A server on the LAN, plugged into docker_web_lab's switch.
lab_ns server
lab_link server eth0 lan p-server
lab_in lan ip link set p-server master lan
lab_in server ip addr add 192.0.2.30/24 dev eth0
lab_web server 80 "the server 192.0.2.30"
dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.3 ] || { echo "cli is not 172.17.0.3" >&2; exit 1; }
fetch_node() { # fetch_node NS SECONDS: one request to the node's own page
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8000 2>/dev/null || true
}
fetch_out() { # fetch_out SECONDS: cli's request to 192.0.2.30:80
  printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host cli timeout "$1" busybox nc 192.0.2.30 80 2>/dev/null || true
}
page=$(fetch remote 10)
[ -n "$page" ] || { echo "192.0.2.20 got no page from web before the nftables ruleset" >&2; exit 1; }
page=$(fetch_out 10)
[ -n "$page" ] || { echo "cli got no page from 192.0.2.30 before the nftables ruleset" >&2; exit 1; }
lab_in host nft -f - <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
NFT

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch_node good 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from the node itself" >&2; exit 1; }
page=$(fetch remote 3.5)
[ -z "$page" ] || { echo "192.0.2.20 got a page from web through the forward drop" >&2; exit 1; }
page=$(fetch_out 3.5)
[ -z "$page" ] || { echo "cli got a page from 192.0.2.30 through the forward drop" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() {
    case $1 in
      good) fetch_node good "$2" ;;
      ctr:cli) fetch_out "$2" ;;
      *) fetch "$1" "$2" ;;
    esac
  }
  docker_remedies host "remote=192.0.2.20 ctr:cli=172.17.0.3" "good"
fi
