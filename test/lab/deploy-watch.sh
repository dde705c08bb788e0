#!/usr/bin/env bash
# The container image and the swarm stack deployed for real on a lab node: a dockerd
# contained by docker-lab.sh (node1, 192.0.2.1 on the lab LAN) builds deploy/Dockerfile
# offline, on a base made from this machine (node-base-rootfs.sh: the host's Node 20,
# libpcap, static busybox) and an app dir installed from the packed tarball with the native
# addon built here, then `docker stack deploy`s deploy/synscope-stack.yml on a one-node
# swarm, where watch finds its interfaces itself (the uplink, Docker's bridges, ingress_sbox).
# A busybox httpd published on 8080 answers the client (192.0.2.10); the node's
# INPUT chain drops 8081. The client tries both until `docker service logs` shows a
# finding-opened event; the metrics are read from inside the node's namespace.
# Usage: deploy-watch.sh OUT_DIR   (root; about 40 s, 60 s under load). Writes into OUT_DIR:
#   lab.env         LAB and DOCKER_LAB_TMP (for the test's leftover checks)
#   image.txt       `docker image inspect` of the built image: its entrypoint and command
#   service.json    `docker service inspect` of the deployed service
#   service.log     `docker service logs --raw` of the service (events and stderr lines)
#   metrics.txt     GET /metrics from inside the node's namespace
#   live-in-task.json  `synscope live --json` run inside the task (docker exec): its kernel
#                   evidence, or why there is none, with the service's capabilities
#   status.txt      the task's status line(s) from `docker service ps`
#   removed.txt     the containers of the service left after `docker stack rm` (none)
#   timings.txt     seconds for each step
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/synscope-image.sh"
out=$(realpath -m "$1")
mkdir -p "$out"
IMAGE=$SYNSCOPE_LAB_IMAGE
STACK=synscope
lab_timings "$out/timings.txt"

lab_ns node1; lab_ns client
lab_lan node1 client
lab_in node1 ip addr add 192.0.2.1/24 dev eth0
lab_in client ip addr add 192.0.2.10/24 dev eth0
# A default route makes eth0 the node's uplink, which watch finds by itself (nothing needs
# to answer at the gateway's address).
lab_in node1 ip route add default via 192.0.2.254 dev eth0
docker_node node1
printf 'LAB=%s\nDOCKER_LAB_TMP=%s\n' "$LAB" "$DOCKER_LAB_TMP" >"$out/lab.env"
docker_lab_image node1
lab_step node

synscope_image_build node1
dk node1 image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMAGE" >"$out/image.txt"
lab_step build

# As on a systemd host, where / is a shared mount: the stack binds the sandboxes' directory
# rslave (a sandbox made after the task started shows up in it), which Docker refuses on a
# private mount. Only the node's own mount namespace changes.
docker_in_mnt node1 mount --make-rshared /
docker_swarm_init node1
dk node1 run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen node1 web 80
lab_in node1 iptables -I INPUT -p tcp --dport 8081 -j DROP
lab_step swarm

node_dir=$(docker_lab_dir node1)
SYNSCOPE_IMAGE=$IMAGE SYNSCOPE_WINDOW=5s DOCKER_SOCKET="$node_dir/docker.sock" DOCKER_NETNS_DIR="$(docker_exec_root node1)/netns" \
  dk node1 stack deploy --resolve-image never -c "$LAB_REPO/deploy/synscope-stack.yml" "$STACK" >/dev/null
docker_service_ctr node1 "${STACK}_watch" 60 >/dev/null
dk node1 service inspect "${STACK}_watch" >"$out/service.json"
# Ready once the metrics answer: the capture is open by then.
deadline=$((SECONDS + 30))
until lab_in node1 curl -sf --max-time 2 http://127.0.0.1:9464/metrics >/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy-watch: no metrics on 127.0.0.1:9464 in node1 after 30 s; the service's log:" >&2
    dk node1 service logs --raw "${STACK}_watch" >&2 || true
    dk node1 service ps --no-trunc "${STACK}_watch" >&2 || true
    exit 1
  fi
  sleep 0.2
done
lab_step deploy

# attempt PORT: one HTTP request from the client to the node, bounded in time.
attempt() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in client timeout 1 busybox nc 192.0.2.1 "$1" >/dev/null 2>&1 || true
}
deadline=$((SECONDS + 60))
attempts=()
until dk node1 service logs --raw "${STACK}_watch" 2>/dev/null | grep '"type":"finding-opened"' >/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy-watch: no finding-opened in the service's log after 60 s of traffic" >&2
    break
  fi
  attempt 8080
  attempt 8081 &
  attempts+=($!)
  sleep 0.2
done
# Only the attempts: a bare `wait` would wait for dockerd too.
wait "${attempts[@]}"
lab_in node1 curl -sf --max-time 5 http://127.0.0.1:9464/metrics >"$out/metrics.txt" || true
dk node1 service logs --raw "${STACK}_watch" >"$out/service.log" 2>&1 || true
dk node1 service ps --no-trunc --format '{{.CurrentState}} {{.Error}}' "${STACK}_watch" >"$out/status.txt"
lab_step traffic

# Kernel evidence with the service's capabilities (and, where there is one, its AppArmor
# profile): the same capture as a short `synscope live` inside the running task.
ctr=$(docker_service_ctr node1 "${STACK}_watch")
dk node1 exec "$ctr" synscope live -i eth0 --duration 2s --json -q >"$out/live-in-task.json"
lab_step live-in-task

dk node1 stack rm "$STACK" >/dev/null
deadline=$((SECONDS + 30))
while [ -n "$(dk node1 ps -aq --filter "label=com.docker.swarm.service.name=${STACK}_watch")" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
dk node1 ps -aq --filter "label=com.docker.swarm.service.name=${STACK}_watch" >"$out/removed.txt"
lab_step remove
