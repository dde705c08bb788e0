#!/usr/bin/env bash
# Scenario docker-real-listen-overflow (a published container whose accept queue overflows,
# on a real Docker engine): dockerd (docker.io 20.10) in lab namespaces runs a container
# `app` published with `-p 8080:8080`. The application is stood in for by a listener in the
# container's network namespace that calls listen(1) and does not accept() until a burst has
# arrived (a server stuck in slow work before accept): two connections from 192.0.2.10 fill
# its accept queue, then 192.0.2.30 sends four SYNs that the container's kernel drops without
# a word. Two seconds later the application starts accepting; the two attempts that keep
# retrying get their SYN-ACK on a retransmission, the two that give up after 2.5 s are never
# answered. Captured with synscope live --write on the node's eth0 and docker0, with the
# node's context at its own Docker socket: the counters that rise (TcpExt.ListenOverflows)
# are the container's namespace's, not the node's.
# Real Docker: dockerd, docker0, the container, `-p 8080:8080` (Docker's DNAT, chains and docker-proxy) are docker.io 20.10's own; stood in for: the application (a python3 listener in the container's network namespace).
# Usage: record-docker-real-listen-overflow.sh OUT.pcapng CONTEXT.json   (root; 25-40 s)
#
# Verdict: one listen-overflow error for 192.0.2.1:8080 naming 192.0.2.30, with the late
# answers as evidence and, high, the rise of TcpExt.ListenOverflows that synscope read in the
# container's namespace (through a process in it); the remedy is applied in the lab: the application accept()s promptly
# with a backlog of 4096, and 192.0.2.30 connects.
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/docker-real-helpers.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns good; lab_ns burst
lab_lan host good burst
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in good ip addr add 192.0.2.10/24 dev eth0
lab_in burst ip addr add 192.0.2.30/24 dev eth0
lab_in burst sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
docker_node host
docker_lab_image host
dk host run -d --name app -p 8080:8080 "$DOCKER_LAB_IMAGE" sleep 600 >/dev/null
go=$(mktemp -d)
# docker-lab.sh's EXIT trap tears dockerd down (its cgroups, its directory): keep it in this one.
trap 'docker_teardown || true; lab_cleanup; rm -rf "$go"' EXIT

# app BACKLOG WAIT: the stand-in application in the container's namespace, answering each
# connection with a page; with WAIT it accept()s only two seconds after $go/burst exists
# (never, when nothing creates it). Marked with the lab's name, so that stop_app finds it.
app() {
  docker_in_ctr host app timeout 60 python3 -c "
import os, socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 8080)); s.listen($1)
open('$go/listening', 'w').close()
if $2:
    while not os.path.exists('$go/burst'): time.sleep(0.01)
    time.sleep(2)
while True:
    c, _ = s.accept(); c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n'); c.close()
" "app-$LAB" &
  lab_wait "the application's listener" 30 test -e "$go/listening"
}
not_listening() { [ -z "$(docker_in_ctr host app ss -Hltn 'sport = :8080')" ]; }
stop_app() {
  pkill -f "app-$LAB" || true
  lab_wait "the application to stop listening" 10 not_listening
  rm -f "$go/listening"
}
# Polled every 20 ms: through the container's pid read once, not a docker inspect per poll.
queued() { [ "$(nsenter -t "$app_pid" -n ss -Hltn 'sport = :8080' | awk '{print $2}')" = "$1" ]; }
connecting() { [ "$(lab_in burst ss -Htn state syn-sent | wc -l)" = "$1" ]; }

app_pid=$(docker_ctr_pid host app)
app 1 True
docker_live host "$out" 30 -i eth0 -i docker0
# The queue fillers wait for the application (they end when it answers), however slow the lab.
lab_connect good 192.0.2.1 8080 30 &
lab_wait "the first queued connection" 30 queued 1
lab_connect good 192.0.2.1 8080 30 &
lab_wait "the second queued connection" 30 queued 2
# The burst's first SYNs are out before the application's two seconds start: their 1 s
# retransmission meets the full queue, the 3 s one (of the clients that wait 5 s) an accepting one.
lab_connect burst 192.0.2.1 8080 2.5 &
lab_connect burst 192.0.2.1 8080 2.5 &
lab_connect burst 192.0.2.1 8080 5 &
lab_connect burst 192.0.2.1 8080 5 &
lab_wait "the burst's four SYNs" 10 connecting 4
touch "$go/burst"
docker_capture_done

# test/docker-swarm-remedies.test.ts applies the printed remedies in this lab.
if [ -n "${DOCKER_REMEDY_DIR:-}" ]; then
  # The application stuck again, as during the burst: listen(1), nothing accept()ed, two
  # connections of 192.0.2.10 filling its queue.
  stop_app
  rm -f "$go/burst"
  app 1 True
  lab_connect good 192.0.2.1 8080 60 &
  lab_wait "the first queued connection" 30 queued 1
  lab_connect good 192.0.2.1 8080 60 &
  lab_wait "the second queued connection" 30 queued 2
  fetch_page() { printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 8080 2>/dev/null || true; }
  # "Make the application accept() faster ... and give it a larger backlog": the stand-in
  # application started again with listen(4096), accept()ing at once.
  remedy_hand() {
    [ "$1" = accept-faster ] || { echo "no hand step $1 in this scenario"; return 1; }
    stop_app
    app 4096 False
    echo "the application restarted with listen(4096), accept()ing at once"
  }
  docker_remedies host "burst=192.0.2.30" "good"
fi
