#!/usr/bin/env bash
# synscope fleet on a real three-node swarm, with incident 004 reproduced across two nodes.
# node1 (manager, 192.0.2.1), node2 and node3 (workers, .2 and .3) are dockerds contained by
# docker-lab.sh, each in its own network, mount and UTS namespaces, on one lab LAN. node1 and
# node2 run docker0 as 172.17.0.1/16 with a fixed-cidr of 172.17.0.55/32, so their one
# container each gets 172.17.0.55 (different machines, one address). The synscope image is
# built on node1 and copied to node2 only: node3 cannot run the job (no image, no registry).
# As in the Redis report: node1's container c connects to node1's host-network service
# (192.0.2.1:6379) through docker0, untranslated, so that service knows it as 172.17.0.55;
# node2 talks to the same service over the LAN (the cluster bus, seen at both nodes: the
# clock offsets) and dials 172.17.0.55:6379, reaching node2's own container d.
# Each node's dockerd sees its own directory at one path ($DOCKER_LAB_TMP/view, bound in its
# mount namespace), so the job's binds (socket, sandboxes) name one path for every node, as
# /var/run/docker.sock does on real hosts.
# Usage: fleet-lab.sh OUT_DIR   (root; about 2-3 minutes). Writes into OUT_DIR:
#   lab.env            LAB and DOCKER_LAB_TMP (for the test's leftover checks)
#   nodes.txt          `docker node ls` on node1: hostname and status of each node
#   fleet.json         `synscope fleet --duration 20s --json` run in node1's namespace
#                      (FLEET_REPORT_FLAGS="--format text" for the text report instead)
#   fleet.err          its stderr (steps, per-node event counts, warnings); fleet.rc its exit code
#   services-after.txt fleet services left after it (none)
#   killed.err, killed.rc  a second fleet run sent SIGTERM while its tasks capture
#   services-after-kill.txt  fleet services left after that (none)
#   leftover.txt    the service a third run killed with -9 left behind
#   swept.json, swept.err, swept.rc  the next run, which removes it
#   services-after-sweep.txt  fleet services left after that (none)
#   split.log          `docker service logs --raw` of a job printing one 20000-byte line
#   split-entries.txt  the entries json-file stored that line in on its node
#   timings.txt        seconds for each step
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/synscope-image.sh"
out=$(realpath -m "$1")
mkdir -p "$out"
lab_timings "$out/timings.txt"
SYNSCOPE="$LAB_REPO/bin/synscope.js"

lab_ns node1; lab_ns node2; lab_ns node3
lab_lan node1 node2 node3
for i in 1 2 3; do lab_in "node$i" ip addr add "192.0.2.$i/24" dev eth0; done
# An uplink for the nodes' own interface discovery (the gateway is never reached).
for i in 1 2; do lab_in "node$i" ip route add default via 192.0.2.254 dev eth0; done
collide='{"bip": "172.17.0.1/16", "fixed-cidr": "172.17.0.55/32"}'
docker_node node1 "$collide"
printf 'LAB=%s\nDOCKER_LAB_TMP=%s\n' "$LAB" "$DOCKER_LAB_TMP" >"$out/lab.env"
docker_node node2 "$collide"
docker_node node3
view="$DOCKER_LAB_TMP/view"
docker_common_view "$view" node1 node2 node3
lab_step nodes

docker_lab_image node1; docker_lab_image node2; docker_lab_image node3
synscope_image_build node1
synscope_image_copy node1 node2
lab_step image

docker_swarm_init node1
docker_swarm_join node2 node1
docker_swarm_join node3 node1
dk node1 node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' >"$out/nodes.txt"
lab_step swarm

# Incident 004: the same container address on node1 and node2.
dk node1 run -d --name redis-c "$DOCKER_LAB_IMAGE" sleep 3600 >/dev/null
dk node2 run -d --name redis-d "$DOCKER_LAB_IMAGE" httpd -f -p 6379 -h /www >/dev/null
docker_wait_listen node2 redis-d 6379
lab_serve node1 6379 600   # the host-network service on node1
for n in node1 node2; do
  got=$(dk "$n" inspect -f '{{.NetworkSettings.IPAddress}}' "$([ "$n" = node1 ] && echo redis-c || echo redis-d)")
  [ "$got" = 172.17.0.55 ] || { echo "fleet-lab: the container on $n got $got, not 172.17.0.55" >&2; exit 1; }
done
lab_step incident

fleet_services() { dk node1 service ls --format '{{.Name}}' | grep '^synscope-fleet-' || true; }
# wait_capturing SECONDS: until the fleet task on node1 and on node2 says it captures (its container's own log).
wait_capturing() {
  local deadline=$((SECONDS + $1)) svc n ctr
  for n in node1 node2; do
    until svc=$(fleet_services) && [ -n "$svc" ] && ctr=$(dk "$n" ps -aq --filter "label=com.docker.swarm.service.name=$svc" | head -n1) \
      && [ -n "$ctr" ] && dk "$n" logs "$ctr" 2>&1 | grep -q 'capturing on'; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "fleet-lab: the fleet task on $n not capturing after $1 s" >&2
        [ -n "$svc" ] && { dk node1 service ps --no-trunc "$svc" >&2; [ -n "${ctr:-}" ] && dk "$n" logs "$ctr" >&2; }
        return 1
      fi
      sleep 0.3
    done
  done
}
fleet() { # fleet OUT ERR ARGS...: synscope fleet in node1's namespace, in the background
  local o=$1 e=$2; shift 2
  ip netns exec "$LAB-node1" node "$SYNSCOPE" fleet --docker-socket "$(docker_sock node1)" --image "$SYNSCOPE_LAB_IMAGE" \
    --node-docker-socket "$view/docker.sock" --node-netns-dir "$view/exec/netns" "$@" >"$o" 2>"$e" &
  FLEET_PID=$!
}

# c's connections go from its namespace through its pid (read once): a docker exec per round
# could take seconds on a busy machine and push the rounds past the tasks' 20 s windows.
c_pid=$(docker_ctr_pid node1 redis-c)
fleet "$out/fleet.json" "$out/fleet.err" --duration 20s --timeout 60s ${FLEET_REPORT_FLAGS:---json}
wait_capturing 120
lab_step fleet-start
# Bounded traffic while the tasks capture: 8 rounds, each attempt at most 1 s; the cluster bus
# three times a round, so that each node's evidence is over 16 KiB.
for _ in 1 2 3 4 5 6 7 8; do
  printf 'x\n' | nsenter -t "$c_pid" -n timeout 1 busybox nc -w 1 192.0.2.1 6379 >/dev/null 2>&1 || true  # c meets the host service
  for _ in 1 2 3; do
    printf 'x\n' | lab_in node2 timeout 1 busybox nc -w 1 192.0.2.1 6379 >/dev/null 2>&1 || true  # cluster bus, seen at both
  done
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in node2 timeout 1 busybox nc -w 1 172.17.0.55 6379 >/dev/null 2>&1 || true  # the leaked address: node2's d
done
rc=0; wait "$FLEET_PID" || rc=$?
echo "$rc" >"$out/fleet.rc"
fleet_services >"$out/services-after.txt"
lab_step fleet

# Ctrl-C/SIGTERM: the service is removed before fleet exits.
fleet "$out/killed.json" "$out/killed.err" --duration 120s
wait_capturing 120
kill -TERM "$FLEET_PID"
rc=0; wait "$FLEET_PID" || rc=$?
echo "$rc" >"$out/killed.rc"
fleet_services >"$out/services-after-kill.txt"
lab_step kill

# kill -9: nothing of fleet runs to clean up. The next run removes the service once the
# deadline the killed run wrote in its labels has passed.
fleet "$out/killed9.json" "$out/killed9.err" --duration 2s --timeout 3s
deadline=$((SECONDS + 60))
until [ -n "$(fleet_services)" ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "fleet-lab: no fleet service 60 s after the start" >&2; exit 1; }
  sleep 0.2
done
kill -KILL "$FLEET_PID"
wait "$FLEET_PID" || true
fleet_services >"$out/leftover.txt"
until=$(dk node1 service inspect -f '{{index .Spec.Labels "io.synscope.fleet.until"}}' "$(head -n1 "$out/leftover.txt")")
while [ "$(date +%s)" -le "$(date -d "$until" +%s)" ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "fleet-lab: the killed run's deadline $until not passed" >&2; exit 1; }
  sleep 0.2
done
fleet "$out/swept.json" "$out/swept.err" --duration 2s --timeout 60s --json
rc=0; wait "$FLEET_PID" || rc=$?
echo "$rc" >"$out/swept.rc"
fleet_services >"$out/services-after-sweep.txt"
lab_step sweep

# What Docker does to a line over 16 KiB on its way through `docker service logs` (on node3:
# node1's docker0 has one address, taken).
dk node1 service create -q --detach --name split --mode replicated-job --no-resolve-image --constraint node.hostname==node3 \
  "$DOCKER_LAB_IMAGE" sh -c 'i=0; while [ $i -lt 2000 ]; do printf 0123456789; i=$((i+1)); done; echo' >/dev/null
deadline=$((SECONDS + 60))
until [ "$(dk node1 service ps --format '{{.CurrentState}}' split 2>/dev/null | grep -c Complete)" -ge 1 ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.3; done
dk node1 service ps --no-trunc --format '{{.CurrentState}} {{.Error}}' split >"$out/split-status.txt" 2>&1 || true
dk node1 service logs --raw split >"$out/split.log" 2>&1 || true
# How the node's log driver (json-file) stored it: one entry per piece.
ctr=$(dk node3 ps -aq --filter label=com.docker.swarm.service.name=split | head -n1)
[ -n "$ctr" ] && wc -l <"$(dk node3 inspect -f '{{.LogPath}}' "$ctr")" >"$out/split-entries.txt"
dk node1 service rm split >/dev/null
lab_step split
