#!/usr/bin/env bash
# Helpers of the docker-real-* recorders. Source after netns-lab.sh and docker-lab.sh.
#
# docker_live NAME OUT SECONDS ARGS...: like docker_capture (synscope live --write OUT in node
# NAME's namespace, its context read at the node's Docker socket), but ARGS go to synscope live
# as given, so a recorder can mix `-i IFACE` and `--netns PATH:IFACE` (ingress_sbox's legs).
# The report JSON the live run prints goes to $DOCKER_LIVE_JSON when that is set (tests compare
# it with `synscope analyze` of the written files), else nowhere. Returns once synscope says
# its handles are open; lab_capture_stop ends it.
docker_live() {
  local name=$1 out=$2 secs=$3; shift 3
  local log
  log=$(mktemp)
  ip netns exec "$LAB-$name" node "$LAB_REPO/bin/synscope.js" live "$@" --duration "$(( ${secs%.*} + 60 ))s" --write "$out" --no-trace --json \
    --docker-socket "$(docker_sock "$name")" >"${DOCKER_LIVE_JSON:-/dev/null}" 2>"$log" &
  LAB_CAPTURE_PID=$!
  lab_wait_log "$log" 'capturing on' "$LAB_CAPTURE_PID" "synscope live in $LAB-$name"
}

# docker_ingress_standin_reset NAME: remove what docker_ingress_standin wrote on node NAME (the
# DOCKER-INGRESS chains, their jumps and the MASQUERADE), as Docker's programIngress removes its
# rules when the services go (here: `docker swarm leave --force`), so a new swarm's service gets
# the stand-in afresh. Whatever it wrote inside ingress_sbox went with the old sandbox.
docker_ingress_standin_reset() {
  local name=$1
  lab_in "$name" iptables -t nat -S DOCKER-INGRESS >/dev/null 2>&1 || return 0
  lab_in "$name" iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
  lab_in "$name" iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
  lab_in "$name" iptables -t nat -D POSTROUTING -m addrtype --src-type LOCAL -o docker_gwbridge -j MASQUERADE
  lab_in "$name" iptables -t nat -F DOCKER-INGRESS
  lab_in "$name" iptables -t nat -X DOCKER-INGRESS
  lab_in "$name" iptables -t filter -D FORWARD -j DOCKER-INGRESS
  lab_in "$name" iptables -t filter -F DOCKER-INGRESS
  lab_in "$name" iptables -t filter -X DOCKER-INGRESS
}
