#!/usr/bin/env bash
# Scenario docker-real-nftables-forward-drop (published ports behind the host's own nftables
# ruleset, on a real Docker engine): dockerd (docker.io 20.10, its rules through iptables-nft)
# in lab namespaces runs busybox httpd "web" published with -p 8080:80; the node also serves
# a page of its own on 192.0.2.1:8000. Before the capture the node loads a hardened
# /etc/nftables.conf (Debian's, with `policy drop` on the forward chain: "this host routes
# nothing"). Every base chain on the forward hook must accept a packet, so Docker's accept in
# `ip filter` no longer helps: the client 192.0.2.20's SYNs to 192.0.2.1:8080 are DNATed to
# 172.17.0.2:80 and dropped by `inet filter forward`'s policy, without a word. The client
# 192.0.2.10 still gets the node's own page (input is accepted). Captured with synscope live
# --write on the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the host's nftables.conf (loaded with nft -f) and its own web page (busybox httpd).
# Usage: record-docker-real-nftables-forward-drop.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one nat-path-break error for 192.0.2.1:8080 naming 192.0.2.20: its SYNs reached
# eth0 and never docker0, where Docker's DNAT sends them, because the policy DROP of nft
# chain inet filter forward drops them; docker0 saw no packet at all, and counts as captured
# because the capture's own statistics say so. The remedy inserts an accept for what Docker's
# DNAT sends to docker0, and one for the replies, in that chain. Applied in the lab:
# 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
mkdir "$DOCKER_LAB_TMP/www"
echo "the node's own page" >"$DOCKER_LAB_TMP/www/index.html"
lab_in host timeout 120 busybox httpd -f -p 8000 -h "$DOCKER_LAB_TMP/www" &
lab_wait "httpd on tcp/8000 in the node" 20 lab_listening host 8000
fetch_node() { # fetch_node NS SECONDS: one request to the node's own page
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8000 2>/dev/null || true
}
page=$(fetch remote 10)
[ -n "$page" ] || { echo "192.0.2.20 got no page from web before the nftables ruleset" >&2; exit 1; }
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
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch_node good "$2"; else fetch "$1" "$2"; fi; }
  docker_remedies host "remote=192.0.2.20" "good"
fi
