#!/usr/bin/env bash
# Scenario docker-real-internal-publish (a published port of a container whose only network
# is --internal, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs
# busybox httpd "web" published with -p 8080:80, and "app" created with -p 8082:80 on the
# network "backend" only, made with `docker network create --internal` (a compose file's
# `internal: true`, meant to keep a backend off the internet). Docker publishes no port of a
# container without a network that reaches outside: no DNAT rule, no docker-proxy, and
# `docker port app` is empty, while `docker ps` still shows the container up. The client
# 192.0.2.10 gets web's page; the client 192.0.2.20 dials 192.0.2.1:8082 and the node's
# kernel answers with a RST. Captured with synscope live --write on the node's eth0 and
# docker0, with the node's context at its own Docker socket.
# Real Docker: dockerd, docker0, the internal network and its bridge, the containers, `-p 8080:80` and `-p 8082:80` (Docker's DNAT, chains and docker-proxy, and their absence for app) are docker.io 20.10's own; stood in for: nothing.
# Usage: record-docker-real-internal-publish.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one rejected warning for 192.0.2.1:8082 naming 192.0.2.20: app asks for
# -p 8082:80, but its only network, backend, is internal, so Docker published nothing (the
# context's dockerPorts, from the Engine API); not "point the clients at the port the service
# listens on (8080)", which is web's. The remedy connects app to a network that reaches
# outside (docker network connect bridge app), and Docker then publishes 8082. Applied in
# the lab: 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
dk host network create --internal --subnet 172.31.0.0/24 backend >/dev/null
dk host run -d --name app --network backend -p 8082:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host app 80
[ "$(dk host inspect -f '{{json .NetworkSettings.Ports}}' app)" = '{}' ] || { echo "Docker published a port of app on an internal network" >&2; exit 1; }
docker_web_capture 8082 "nothing is published for app"

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  fetch_page() {
    if [ "$1" = good ]; then fetch good "$2"; return; fi
    # After the remedy docker-proxy takes the port; before it, nothing will (5 s at most).
    lab_wait "docker-proxy on tcp/8082" 5 lab_listening host 8082 2>/dev/null || true
    fetch "$1" "$2" 8082
  }
  docker_remedies host "remote=192.0.2.20" "good"
fi
