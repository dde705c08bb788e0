#!/usr/bin/env bash
# Scenario docker-real-nftables-flush (Debian's nftables service wipes a running Docker's rules,
# on a real Docker engine): dockerd (docker.io 20.10, its rules through iptables-nft) in lab
# namespaces runs a busybox httpd "web" published with `-p 8080:80` (restart policy unless-stopped) and a container "cli"
# (172.17.0.2 behind docker0). The node (192.0.2.1) reaches the server 198.51.100.80 through
# the router 192.0.2.254, which, like the internet, has no route to Docker's 172.17.0.0/16.
# Before the capture, the node loads Debian's default /etc/nftables.conf (`nft -f`, what
# `systemctl restart nftables` does), which begins with `flush ruleset`: every table goes,
# Docker's `ip nat` and `ip filter` with it, and only an empty accepting `inet filter` stays.
# cli's SYNs to the server leave eth0 with the source 172.17.0.2 and the answers never come
# back. The client 192.0.2.10 still gets web's page: docker-proxy listens on 8080 and carries
# it without the DNAT. Captured with synscope live --write on the node's eth0 and docker0,
# with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the containers, `-p 8080:80` (Docker's rules and docker-proxy) are docker.io 20.10's own; the nftables file is Debian 12's /etc/nftables.conf as shipped (the lab's own copy, loaded in the node only); stood in for: the internet (a lab router and server).
# Usage: record-docker-real-nftables-flush.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one nat-path-break error for 198.51.100.80:80 naming 172.17.0.2: its SYNs left
# eth0 untranslated because nothing masquerades docker0's subnet, and none of Docker's chains
# is in the snapshot at all: its whole ruleset was flushed. The remedy restarts dockerd, which
# writes every rule again, and keeps the nftables file from flushing other tables. It is
# applied in the lab: cli gets the server's page again.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_outbound_lab --restart unless-stopped
# Debian 12's /etc/nftables.conf as shipped, loaded in the node as nftables.service does.
cat >"$DOCKER_LAB_TMP/nftables.conf" <<'NFT'
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
NFT
lab_in host nft -f "$DOCKER_LAB_TMP/nftables.conf"
! lab_in host iptables -t nat -S DOCKER >/dev/null 2>&1 || { echo "Docker's nat chains survived the flush" >&2; exit 1; }

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch ctr:cli 198.51.100.80 80 3.5)
[ -z "$page" ] || { echo "cli reached the server although Docker's rules are gone" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 198.51.100.80 80 "$2"; fi; }
  docker_remedies host "ctr:cli=172.17.0.2" "good"
  # The remedy's second step: dockerd, restarted, writes its rules again (web, restarted by its
  # policy, gets its DNAT back).
  docker_restart host
  web_dnat() { lab_in host iptables -t nat -S DOCKER 2>/dev/null | grep -q -- '--dport 8080 -j DNAT'; }
  lab_wait "Docker's DNAT for web after dockerd restarted" 60 web_dnat
  lab_in host iptables -t nat -S >"$DOCKER_REMEDY_DIR/nat-after-restart.txt"
fi
