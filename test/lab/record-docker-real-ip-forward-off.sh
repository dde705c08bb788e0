#!/usr/bin/env bash
# Scenario docker-real-ip-forward-off (IPv4 forwarding turned off under a running Docker, on a
# real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs a busybox httpd
# published with `-p 8080:80`; dockerd turned net.ipv4.ip_forward on when it started. The
# client 192.0.2.10 gets the page. Then forwarding is turned off in the node's namespace
# (`sysctl -w net.ipv4.ip_forward=0`, as a hardening script, `sysctl --system` over a file
# saying 0, or a network restart does on real hosts): Docker's DNAT still rewrites the next
# client's SYN (192.0.2.20) to the container, but a host that does not forward drops it
# without a word (the kernel counts IpInAddrErrors; no ICMP). Captured with synscope live
# --write on the node's eth0 and docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the container, `-p 8080:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: nothing (the sysctl is the kernel's).
# Usage: record-docker-real-ip-forward-off.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one error for 192.0.2.20's attempts to 192.0.2.1:8080: they reached eth0, were
# translated to the container and never reached docker0, because the node does not forward
# (net.ipv4.ip_forward = 0 in the snapshot); the remedy turns forwarding on and says how to
# keep it on. It is applied in the lab: with forwarding on again, 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
[ "$(lab_in host sysctl -n net.ipv4.ip_forward)" = 1 ] || { echo "dockerd did not turn forwarding on" >&2; exit 1; }


docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page while the node forwards" >&2; exit 1; }
# docker_live returned once synscope held the node's context of the start (forwarding on): the
# change falls inside the window every time, and the verdict rests on the sysctls read at its end.
lab_in host sysctl -qw net.ipv4.ip_forward=0
page=$(fetch remote 3.5)
[ -z "$page" ] || { echo "192.0.2.20 got a page although the node does not forward" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  docker_remedies host "remote=192.0.2.20" "good"
fi
