#!/usr/bin/env bash
# Scenario docker-real-syn-ack-lost (a published container's SYN-ACKs lost beyond the host, on
# a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs a busybox httpd
# published with `-p 8080:80`. The client 192.0.2.10 gets the page. The lab switch between
# the node and the client 192.0.2.20 drops what the node sends to it from port 8080 (an
# ebtables rule on its port to that client, standing in for a stateful firewall or security
# group on the way back that did not see the SYN): the SYNs reach the container, its SYN-ACKs
# leave the node by eth0, and the client keeps retransmitting its SYN. Captured with synscope
# live --write on the node's eth0 and docker0, with the node's context at its own Docker
# socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the firewall beyond the node (the lab switch's rule).
# Usage: record-docker-real-syn-ack-lost.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one syn-ack-lost error for 192.0.2.1:8080 naming 192.0.2.20 (the container's leg on
# docker0 goes with it): the SYN-ACKs left the node by eth0, the way the SYNs came in, so
# they are lost beyond the node, and the remedy looks there, not at the node's routes. The
# lab then removes the switch's drop, as a person fixing that firewall would, and
# 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab

# The firewall beyond the node: the switch drops what the node sends 192.0.2.20 from port 8080.
drop_replies=(FORWARD -p IPv4 --ip-src 192.0.2.1 --ip-proto tcp --ip-sport 8080 -o p-remote -j DROP)
lab_in lan ebtables-nft -A "${drop_replies[@]}"

docker_web_capture 8080 "the switch drops the replies"

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  # The remedy only says where to look (beyond the node): the person fixes the firewall there.
  remedy_hand() {
    [ "$1" = filtered ] || { echo "no hand step $1 in this scenario"; return 1; }
    lab_in lan ebtables-nft -L FORWARD --Lc | grep -q -- '--ip-sport 8080 -j DROP , pcnt = [1-9]' || { echo "the switch's drop counted nothing"; return 1; }
    echo "ebtables-nft -D ${drop_replies[*]} (on the switch between the node and 192.0.2.20)"
    lab_in lan ebtables-nft -D "${drop_replies[@]}"
  }
  docker_remedies host "remote=192.0.2.20" "good"
fi
