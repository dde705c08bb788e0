#!/usr/bin/env bash
# Scenario docker-real-conntrack-full (the node's connection-tracking table is full, on a real
# Docker engine): dockerd (docker.io 20.10) in lab namespaces runs a busybox httpd "web"
# published with -p 8080:80. The client 192.0.2.10 gets web's page. Then the node's conntrack
# table fills up with connections nobody closes: 262,144 ESTABLISHED entries (the kernel's
# default nf_conntrack_max here; the count is per network namespace, the limit global) from
# web's address to a database's five replicas 192.0.2.30-34:5432, as a container leaking its pool's connections
# leaves them for the five days of nf_conntrack_tcp_timeout_established (the lab writes them
# with `conntrack -R` rather than opening a quarter of a million sockets). Every entry is
# ASSURED, so the kernel cannot evict one for a new connection: the SYNs of 192.0.2.20 to
# 192.0.2.1:8080 reach eth0 and conntrack drops them before Docker's DNAT ("nf_conntrack:
# table full, dropping packet" in the kernel log, the namespace's drop counter rising),
# without a word to the client. Captured with synscope live --write on the node's eth0 and
# docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the container, Docker's NAT and docker-proxy are docker.io 20.10's own; stood in for: the leaked connections (conntrack entries written by hand, as the kernel keeps real ones).
# Usage: record-docker-real-conntrack-full.sh OUT.pcapng CONTEXT.json   (root; 30-60 s)
#
# Verdict: one filtered error (high confidence) for 192.0.2.1:8080 naming 192.0.2.20: the
# node's conntrack table was full (262144 of 262144 entries, all but the live ones ESTABLISHED
# TCP connections to port 5432 from 172.17.0.2, container web) and the namespace's
# Conntrack.Drop counter (/proc/net/stat/nf_conntrack) rose by the SYNs' number while they came
# in. Before this, the same capture gave a medium nat-path-break blaming the forward path after
# the DNAT (a FORWARD, DOCKER-USER or DOCKER rule), whose remedies were rule listings. The
# remedy raises nf_conntrack_max (one limit for the whole machine, which no network namespace
# may change: the lab logs the step and does not apply it), deletes the stale entries of the
# holder (`conntrack -D -p tcp -s 172.17.0.2 --dport 5432 --state ESTABLISHED`, applied in the
# lab as printed: 192.0.2.20 gets the page) and shortens nf_conntrack_tcp_timeout_established
# (applied: the namespace's own setting).
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

command -v conntrack >/dev/null || { echo "conntrack (Debian package conntrack) is not installed" >&2; exit 1; }
docker_web_lab

# fill_conntrack: the node's table filled to the kernel's limit with ASSURED ESTABLISHED
# entries from web (172.17.0.2) to 192.0.2.30-34:5432, five days to live, loaded in one netlink
# batch; returns once the count has reached the limit. The table is emptied first: an entry
# of the good client's closed connection expiring later would free a slot, and the failing
# client's SYN could take it.
fill_conntrack() {
  local max batch
  max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
  batch="$DOCKER_LAB_TMP/conntrack-fill.txt"
  awk -v max="$max" 'BEGIN {
    for (n = 0; n < max; n++)
      printf "-I -p tcp -s 172.17.0.2 -d 192.0.2.%d --sport %d --dport 5432 --state ESTABLISHED -t 432000 -u SEEN_REPLY,ASSURED\n",
        30 + int(n / 60000), 1024 + n % 60000
  }' >"$batch"
  lab_in host conntrack -F >/dev/null 2>&1 || true
  lab_in host conntrack -R "$batch" >/dev/null 2>&1 || true
  lab_wait "the node's conntrack table full ($max entries)" 20 \
    bash -c "[ \"\$(ip netns exec $LAB-host cat /proc/sys/net/netfilter/nf_conntrack_count)\" -ge $max ]"
}

docker_live host "$out" 30 -i eth0 -i docker0
page=$(fetch good 10)
[ -n "$page" ] || { echo "192.0.2.10 got no page from web" >&2; exit 1; }
fill_conntrack
page=$(fetch remote 3.5)
[ -z "$page" ] || { echo "192.0.2.20 got a page although the node's conntrack table is full" >&2; exit 1; }
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  docker_remedies host "remote=192.0.2.20" "good"
fi
