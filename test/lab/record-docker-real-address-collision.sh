#!/usr/bin/env bash
# Scenario docker-real-address-collision (incident 004, the Redis cluster report, on a real
# Docker engine): node-a and node-b are Docker hosts on one LAN (10.100.1.100 and .101), each
# running dockerd (docker.io 20.10, contained by docker-lab.sh) with the default docker0
# (`"bip": "172.17.0.1/16"`) and `"fixed-cidr": "172.17.0.55/32"`, so that each node's first
# container gets 172.17.0.55, as happened by chance in the incident. On node-a, redis #a runs
# with host networking (`--network host`, port 6379) and container redis-c (172.17.0.55) meets
# it at node-a's own address 10.100.1.100:6379: that is local delivery through docker0, no
# NAT, so #a knows its peer as 172.17.0.55 and, as Redis Cluster does, gossips that address.
# On node-b, redis #b (host networking) talks to #a over the LAN (the cluster bus: that
# handshake is seen at both hosts) and, told to meet 172.17.0.55, dials 172.17.0.55:6379:
# node-b routes it into its own docker0, where its own container redis-d answers. Every
# handshake completes: the failure is a connection to the wrong machine, not a silent SYN.
# Each "redis" is a busybox httpd on 6379 whose page names it, so the lab can tell who answered.
# Captured with synscope live --write on eth0 and docker0 of each node, each node's context
# read at its own Docker socket.
# Args: --host node-a=node-a.pcapng --host node-b=node-b.pcapng --context node-a=node-a.context.json --context node-b=node-b.context.json
# Real Docker: both dockerd, docker0, the containers and their addresses (and Docker's MACs, derived from the address: the same on both nodes), the host-network containers and Docker's iptables chains are docker.io 20.10's own; stood in for: Redis (a busybox httpd per node, its page naming it) and its gossip (the lab dials the address #a learned).
# Usage: record-docker-real-address-collision.sh OUT-DIR   (root; 20-40 s)
#
# Verdict: one cross-host `address-collision` error for 172.17.0.55: node-a's service
# 10.100.1.100:6379 saw it as a client arriving on docker0 untranslated, and node-b reached
# it as a server on its own docker0. Both containers carry the MAC Docker derives from the
# address (02:42:ac:11:00:37), so the MACs cannot tell the two machines apart: the finding
# says so; each host's Docker names the container that holds it there (redis-c on node-a,
# redis-d on node-b), which makes them two machines. The remedy's first step names redis-c,
# node-a's address and the port to publish; it is applied in this lab after the capture as
# printed: redis-c recreated with `-p 6380:6379` (6379 on node-a is #a's), announcing
# 10.100.1.100:6380; #b dials that and gets redis-c's page, not redis-d's.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
outdir=$(realpath -m "$1")
mkdir -p "$outdir"

lab_ns node-a; lab_ns node-b
lab_lan node-a node-b
lab_in node-a ip addr add 10.100.1.100/24 dev eth0
lab_in node-b ip addr add 10.100.1.101/24 dev eth0
for n in node-a node-b; do
  docker_node "$n" '{"bip": "172.17.0.1/16", "fixed-cidr": "172.17.0.55/32"}'
  docker_lab_image "$n"
done

# redis NODE NAME [DOCKER-RUN-ARGS...]: a stand-in for a Redis node: httpd on 6379 whose page names it.
redis() {
  local node=$1 name=$2; shift 2
  dk "$node" run -d --name "$name" "$@" "$DOCKER_LAB_IMAGE" \
    sh -c "mkdir -p /page && echo '$name on $node' >/page/index.html && exec httpd -f -p 6379 -h /page" >/dev/null
}
# ask NS ADDRESS PORT: one request from lab namespace NS (a node: host networking) to ADDRESS:PORT; the page on stdout.
ask() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout 5 busybox nc "$2" "$3" 2>/dev/null || true
}

redis node-a redis-a --network host
lab_wait "redis-a listening on node-a" 20 lab_listening node-a 6379
redis node-a redis-c
docker_wait_listen node-a redis-c 6379
redis node-b redis-d
docker_wait_listen node-b redis-d 6379
for pair in node-a:redis-c node-b:redis-d; do
  ip=$(dk "${pair%%:*}" inspect -f '{{.NetworkSettings.IPAddress}}' "${pair#*:}")
  [ "$ip" = 172.17.0.55 ] || { echo "${pair#*:} got $ip, not 172.17.0.55 (fixed-cidr)" >&2; exit 1; }
done

DOCKER_LIVE_JSON= docker_live node-a "$outdir/node-a.pcapng" 30 -i eth0 -i docker0
capture_a=$LAB_CAPTURE_PID
DOCKER_LIVE_JSON= docker_live node-b "$outdir/node-b.pcapng" 30 -i eth0 -i docker0
capture_b=$LAB_CAPTURE_PID

# redis-c meets #a at node-a's own address: #a sees 172.17.0.55.
page=$(printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr node-a redis-c timeout 5 busybox nc 10.100.1.100 6379 2>/dev/null || true)
case $page in *"redis-a on node-a"*) ;; *) echo "redis-c did not reach redis-a: $page" >&2; exit 1 ;; esac
# The cluster bus between #b and #a, seen at both hosts.
page=$(ask node-b 10.100.1.100 6379)
case $page in *"redis-a on node-a"*) ;; *) echo "node-b did not reach redis-a: $page" >&2; exit 1 ;; esac
# #b meets the address #a gossiped, and reaches node-b's own container.
page=$(ask node-b 172.17.0.55 6379)
case $page in *"redis-d on node-b"*) ;; *) echo "node-b dialling 172.17.0.55 did not reach its own redis-d: $page" >&2; exit 1 ;; esac

lab_capture_stop "$capture_a" "$capture_b"
lab_context "$outdir/node-a.pcapng" "$outdir/node-a.context.json"
lab_context "$outdir/node-b.pcapng" "$outdir/node-b.context.json"

# The remedy's first step, as the report prints it, applied (after the capture): redis-c
# publishes the port its peers dial on a free host port of node-a (6380: 6379 there is #a's)
# and announces node-a's address with it; #b meets that address and reaches redis-c.
remedy=$(node "$LAB_REPO/bin/synscope.js" analyze --json --host "node-a=$outdir/node-a.pcapng" --host "node-b=$outdir/node-b.pcapng" \
  --context "node-a=$outdir/node-a.context.json" --context "node-b=$outdir/node-b.context.json" |
  node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(r.findings.find((f) => f.code === "address-collision")?.remedy[0] ?? "")')
for want in 'Make redis-c on node-a' 'docker run -p HOSTPORT:6379' 'cluster-announce-ip 10.100.1.100' 'cluster-announce-port HOSTPORT'; do
  case $remedy in *"$want"*) ;; *) echo "the remedy does not say \"$want\": $remedy" >&2; exit 1 ;; esac
done
! lab_listening node-a 6380 || { echo "port 6380 is taken on node-a" >&2; exit 1; }
dk node-a rm -f redis-c >/dev/null
redis node-a redis-c -p 6380:6379
docker_wait_listen node-a redis-c 6379
lab_wait "docker-proxy on tcp/6380 in node-a" 20 lab_listening node-a 6380
page=$(ask node-b 10.100.1.100 6380)
case $page in *"redis-c on node-a"*) ;; *) echo "with redis-c announcing 10.100.1.100:6380, node-b did not reach it: $page" >&2; exit 1 ;; esac
echo "wrote $outdir/node-a.pcapng, node-b.pcapng and their contexts; announcing 10.100.1.100:6380, node-b reaches redis-c"
