#!/usr/bin/env bash
# Scenario docker-real-masquerade-missing (containers' outbound connections after Docker's
# MASQUERADE was flushed, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces
# runs a busybox httpd "web" published with `-p 8080:80` and a container "cli" (172.17.0.2
# behind docker0). The node (192.0.2.1) reaches the server 198.51.100.80 through the router
# 192.0.2.254, which, like the internet, has no route to Docker's 172.17.0.0/16. Before the
# capture, nat POSTROUTING is flushed (`iptables -t nat -F POSTROUTING`, as a firewall script
# or a reload that rewrites the nat table does under a running Docker): Docker's
# `-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE` is gone. cli's SYNs to the
# server leave the node's eth0 with the source 172.17.0.2, the server answers toward it, and
# the router drops the answer; nothing comes back. The client 192.0.2.10 still gets the page
# through the published port (DNAT is in PREROUTING, untouched). Captured with synscope live
# --write on the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the containers, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the flush (the operator's command) and the internet (a lab router and server).
# Usage: record-docker-real-masquerade-missing.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one nat-path-break error for 198.51.100.80:80 naming 172.17.0.2: its SYNs left
# eth0 untranslated, with docker0's private source, because no nat POSTROUTING rule
# masquerades 172.17.0.0/16 in the snapshot; the remedy puts Docker's rule back and says to
# restart dockerd to restore the rest of its rules. It is applied in the lab: cli gets the
# server's page again.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_outbound_lab
lab_in host iptables -t nat -F POSTROUTING

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 192.0.2.1 8080 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page through the published port" >&2; exit 1; }
page=$(fetch ctr:cli 198.51.100.80 80 3.5)
[ -z "$page" ] || { echo "cli reached the server although nothing masquerades it" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() { if [ "$1" = good ]; then fetch good 192.0.2.1 8080 "$2"; else fetch "$1" 198.51.100.80 80 "$2"; fi; }
  docker_remedies host "ctr:cli=172.17.0.2" "good"
fi
