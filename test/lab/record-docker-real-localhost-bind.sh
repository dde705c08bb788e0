#!/usr/bin/env bash
# Scenario docker-real-localhost-bind (a published container whose server listens on
# 127.0.0.1 inside it, on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces
# runs busybox httpd "web" published with -p 8080:80, listening on all addresses, and "app"
# published with -p 8081:80 whose httpd listens on 127.0.0.1:80 only (a development server's
# default: Flask, Rails, a Node app bound to localhost). The client 192.0.2.10 gets web's
# page; the client 192.0.2.20 dials app's published port: Docker's DNAT sends its SYN to
# 172.17.0.3:80, where nothing listens, and the container's kernel answers with a RST.
# Captured with synscope live --write on the node's eth0 and docker0, with the node's context
# at its own Docker socket.
# Real Docker: dockerd, docker0, the containers, `-p 8080:80` and `-p 8081:80` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the application (busybox httpd bound to 127.0.0.1).
# Usage: record-docker-real-localhost-bind.sh OUT.pcapng CONTEXT.json   (root; 20-40 s)
#
# Verdict: one rejected warning for 192.0.2.1:8081 naming 192.0.2.20, the RST from container
# app, which listens on 127.0.0.1:80 only (its listeners read live through a process in its
# namespace); the remedy makes the application listen on all addresses. It is applied in the
# lab (app recreated with httpd on 0.0.0.0:80): 192.0.2.20 gets the page.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

docker_web_lab
dk host run -d --name app -p 8081:80 "$DOCKER_LAB_IMAGE" httpd -f -p 127.0.0.1:80 -h /www >/dev/null
docker_wait_listen host app 80
lab_wait "docker-proxy on tcp/8081 in the node" 20 lab_listening host 8081
[ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' app)" = 172.17.0.3 ] || { echo "app is not 172.17.0.3" >&2; exit 1; }
docker_web_capture 8081 "app listens on 127.0.0.1"

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  # The application's own setting: the lab recreates app with its server on all addresses.
  remedy_hand() {
    [ "$1" = listen-all ] || { echo "no hand step $1 in this scenario"; return 1; }
    dk host rm -f app >/dev/null
    dk host run -d --name app -p 8081:80 "$DOCKER_LAB_IMAGE" httpd -f -p 80 -h /www >/dev/null
    docker_wait_listen host app 80
    echo "app recreated with httpd -f -p 80 (all addresses)"
  }
  docker_remedies host "remote=192.0.2.20" "good"
fi
