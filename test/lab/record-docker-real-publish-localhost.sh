#!/usr/bin/env bash
# Scenario docker-real-publish-localhost (a port published on 127.0.0.1 only, dialled from
# another host, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs
# busybox httpd "web" published with -p 8080:80 and "app" published with
# -p 127.0.0.1:8081:80 (a compose file's "127.0.0.1:8081:80", written to keep a database or
# an admin page off the network, or copied from a tutorial). The client 192.0.2.10 gets
# web's page; the client 192.0.2.20 dials 192.0.2.1:8081: Docker's DNAT for 8081 matches
# only -d 127.0.0.1 and docker-proxy listens on 127.0.0.1:8081 only, so nothing on the
# node takes a SYN to 192.0.2.1:8081 and its kernel answers with a RST. Captured with
# synscope live --write on the node's eth0 and docker0, with the node's context at its own
# Docker socket.
# Real Docker: dockerd, docker0, the containers, `-p 8080:80` and `-p 127.0.0.1:8081:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: nothing.
# Usage: record-docker-real-publish-localhost.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one rejected warning for 192.0.2.1:8081 naming 192.0.2.20: the port is published
# on 127.0.0.1 only (Docker's DNAT rule for it quoted, container app named), not "make the
# service listen on all addresses" (it is docker-proxy, and Docker's own setting). The remedy
# publishes it on all addresses (app recreated with -p 8081:80), or, if it is kept on
# 127.0.0.1 on purpose, reaches it through the host. Applied in the lab: 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
dk host run -d --name app -p 127.0.0.1:8081:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen host app 80
lab_wait "docker-proxy on tcp/8081 in the node" 20 lab_listening host 8081
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' app)" = 172.17.0.3 ] || { echo "app is not 172.17.0.3" >&2; exit 1; }
docker_web_capture 8081 "app is published on 127.0.0.1 only"

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  # Publishing is part of how the container was created: the lab recreates app with -p 8081:80.
  remedy_hand() {
    [ "$1" = publish-all ] || { echo "no hand step $1 in this scenario"; return 1; }
    dk host rm -f app >/dev/null
    dk host run -d --name app -p 8081:80 "$DOCKER_LAB_IMAGE" >/dev/null
    docker_wait_listen host app 80
    lab_wait "docker-proxy on tcp/8081 on all addresses" 20 lab_listening host 8081
    echo "app recreated with -p 8081:80"
  }
  docker_remedies host "remote=192.0.2.20" "good"
fi
