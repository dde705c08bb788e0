#!/usr/bin/env bash
# The swarm stack on two real nodes, scraped by a real Prometheus. Two dockerd "nodes"
# contained by docker-lab.sh (node1 192.0.2.1, the manager; node2 192.0.2.2; each with its
# own hostname) on one lab LAN join one swarm; the image is built offline on node1 and copied
# to node2; deploy/synscope-stack.yml is deployed from node1 and runs a task on each node.
# Debian's prometheus, run by this script in a "monitor" namespace on the LAN (192.0.2.20)
# with a config written here and its data under the lab's temp dir, scrapes both agents'
# :9464/metrics every second. Each node runs a busybox httpd published on 8080; node2's INPUT
# chain drops 8081. A client (192.0.2.10) tries node1:8080, node2:8080 and node2:8081 until
# Prometheus' HTTP API shows both targets up, completed handshakes on both instances and the
# open finding on node2. Then the task's container run without SYS_ADMIN on node1 says why it
# has no tracefs and no ingress_sbox.
# Usage: deploy-watch-swarm.sh OUT_DIR   (root; about 70 s, 2 min under load). Writes into OUT_DIR:
#   lab.env          LAB and DOCKER_LAB_TMP (for the test's leftover checks)
#   nodes.txt        `docker node ls` on the manager: hostname and status of each node
#   tasks.txt        `docker service ps`: the node and state of each running task
#   prometheus.yml   the config Prometheus ran with
#   targets.json     GET /api/v1/targets
#   q-*.json         GET /api/v1/query for: packets (synscope_packets_total), handshakes
#                    (synscope_handshakes_total), findings (synscope_findings_open), kernel
#                    (synscope_kernel_evidence_available), windows (synscope_windows_total)
#   service.log      `docker service logs --raw` from the manager (both nodes' events)
#   no-sys-admin.log the log of watch run without CAP_SYS_ADMIN on node1
#   prometheus-gone.txt  after teardown's first step: a Prometheus process left (none)
#   timings.txt      seconds for each step
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
source "$(dirname "$0")/synscope-image.sh"
out=$(realpath -m "$1")
mkdir -p "$out"
IMAGE=$SYNSCOPE_LAB_IMAGE
STACK=synscope
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROM_ADDR=192.0.2.20:9090
lab_timings "$out/timings.txt"
[ -x "$PROMETHEUS" ] || { echo "deploy-watch-swarm: no $PROMETHEUS (apt-get install prometheus)" >&2; exit 1; }

prom_pid=""
prom_stop() {
  [ -n "$prom_pid" ] || return 0
  kill "$prom_pid" 2>/dev/null || true
  wait "$prom_pid" 2>/dev/null || true  # its exit status is the signal's
  prom_pid=""
}
trap 'prom_stop || true; docker_teardown || true; lab_cleanup' EXIT

lab_ns node1; lab_ns node2; lab_ns client; lab_ns monitor
lab_lan node1 node2 client monitor
for n in 1 2; do
  lab_in "node$n" ip addr add "192.0.2.$n/24" dev eth0
  # A default route makes eth0 the node's uplink, which watch finds by itself.
  lab_in "node$n" ip route add default via 192.0.2.254 dev eth0
done
lab_in client ip addr add 192.0.2.10/24 dev eth0
lab_in monitor ip addr add 192.0.2.20/24 dev eth0
docker_node node1
docker_node node2
printf 'LAB=%s\nDOCKER_LAB_TMP=%s\n' "$LAB" "$DOCKER_LAB_TMP" >"$out/lab.env"
lab_step nodes

synscope_image_build node1
synscope_image_copy node1 node2
lab_step image

# The stack names one socket and one sandbox directory for every node: each node's own at
# $view/docker.sock and $view/exec/netns.
view="$DOCKER_LAB_TMP/view"
docker_common_view "$view" node1 node2
for n in node1 node2; do
  mkdir -p "$(docker_exec_root "$n")/netns"
  docker_lab_image "$n"
  dk "$n" run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
  docker_wait_listen "$n" web 80
done
lab_in node2 iptables -I INPUT -p tcp --dport 8081 -j DROP
docker_swarm_init node1
docker_swarm_join node2 node1
dk node1 node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' >"$out/nodes.txt"
lab_step swarm

SYNSCOPE_IMAGE=$IMAGE SYNSCOPE_WINDOW=3s DOCKER_SOCKET="$view/docker.sock" DOCKER_NETNS_DIR="$view/exec/netns" \
  dk node1 stack deploy --resolve-image never -c "$LAB_REPO/deploy/synscope-stack.yml" "$STACK" >/dev/null
for n in node1 node2; do
  docker_service_ctr "$n" "${STACK}_watch" 90 >/dev/null
done
dk node1 service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "${STACK}_watch" >"$out/tasks.txt"
lab_step deploy

cat >"$out/prometheus.yml" <<YAML
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: synscope
    # The nodes from the manager's Engine API, as the README advises for many nodes: each
    # node's address with the metrics port is its target (and its instance label).
    dockerswarm_sd_configs:
      - host: unix://$(docker_sock node1)
        role: nodes
        port: 9464
        refresh_interval: 1s
YAML
mkdir -p "$DOCKER_LAB_TMP/prometheus"
# Started as a simple command, so $! is Prometheus itself (ip netns exec execs it).
ip netns exec "$LAB-monitor" "$PROMETHEUS" --config.file="$out/prometheus.yml" --storage.tsdb.path="$DOCKER_LAB_TMP/prometheus" \
  --web.listen-address="$PROM_ADDR" >"$DOCKER_LAB_TMP/prometheus.log" 2>&1 &
prom_pid=$!
api() { lab_in monitor curl -sf --max-time 3 -G "http://$PROM_ADDR/api/v1/$1" "${@:2}"; }
deadline=$((SECONDS + 60))
until api status/buildinfo >/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$prom_pid" 2>/dev/null; then
    echo "deploy-watch-swarm: Prometheus did not answer on $PROM_ADDR; its log:" >&2
    tail -20 "$DOCKER_LAB_TMP/prometheus.log" >&2
    exit 1
  fi
  sleep 0.2
done
lab_step prometheus

# attempt HOST PORT: one HTTP request from the client, bounded in time.
attempt() {
  printf 'GET / HTTP/1.0\r\n\r\n' | lab_in client timeout 1 busybox nc "$1" "$2" >/dev/null 2>&1 || true
}
# seen: true once Prometheus has both targets up, completed handshakes from both instances
# and node2's open filtered finding.
seen() {
  local targets completed findings
  targets=$(api targets) || return 1
  completed=$(api query --data-urlencode 'query=synscope_handshakes_total{outcome="completed"} > 0') || return 1
  findings=$(api query --data-urlencode 'query=synscope_findings_open{code="filtered"} > 0') || return 1
  node -e '
    const [targets, completed, findings] = process.argv.slice(1).map((t) => JSON.parse(t).data);
    const up = targets.activeTargets.filter((t) => t.health === "up").map((t) => t.labels.instance).sort();
    const instances = (r) => r.result.map((s) => s.metric.instance).sort().join(" ");
    process.exit(up.join(" ") === "192.0.2.1:9464 192.0.2.2:9464" && instances(completed) === up.join(" ") && instances(findings) === "192.0.2.2:9464" ? 0 : 1);
  ' "$targets" "$completed" "$findings" || return 1
  # The targets as they were when all of it held (a later scrape of a busy node may be slow).
  printf '%s\n' "$targets" >"$out/targets.json"
}
deadline=$((SECONDS + 90))
attempts=()
until seen; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy-watch-swarm: Prometheus did not show both nodes' counters after 90 s of traffic" >&2
    api targets >"$out/targets.json" || true
    break
  fi
  attempt 192.0.2.1 8080
  attempt 192.0.2.2 8080
  attempt 192.0.2.2 8081 &
  attempts+=($!)
  sleep 0.2
done
# Only the attempts: a bare `wait` would wait for dockerd and Prometheus too.
wait "${attempts[@]}"
save_query() { api query --data-urlencode "query=$1" >"$2"; }
for q in packets:synscope_packets_total handshakes:synscope_handshakes_total findings:synscope_findings_open \
  kernel:synscope_kernel_evidence_available windows:synscope_windows_total; do
  lab_wait "Prometheus's answer to ${q#*:}" 15 save_query "${q#*:}" "$out/q-${q%%:*}.json" || true
done
dk node1 service logs --raw "${STACK}_watch" >"$out/service.log" 2>&1 || true
lab_step scrape

# The stack's task without CAP_SYS_ADMIN (the same image, mounts and command): ingress_sbox
# cannot be entered and tracefs cannot be mounted; watch captures on the rest and says why.
dk node1 run -d --name no-sys-admin --network host --cap-drop ALL --cap-add NET_RAW \
  -v "$view/docker.sock:/var/run/docker.sock:ro" -v "$view/exec/netns:/var/run/docker/netns:ro,rslave" \
  "$IMAGE" watch --window 1s >/dev/null
deadline=$((SECONDS + 30))
until dk node1 logs no-sys-admin 2>&1 | grep '"type":"kernel-evidence"' >/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy-watch-swarm: no kernel-evidence event from watch without SYS_ADMIN after 30 s" >&2
    break
  fi
  sleep 0.2
done
dk node1 logs no-sys-admin >"$out/no-sys-admin.log" 2>&1 || true
dk node1 rm -f no-sys-admin >/dev/null
lab_step no-sys-admin

prom_stop
pgrep -af -- "$DOCKER_LAB_TMP/prometheus" >"$out/prometheus-gone.txt" || true
dk node1 stack rm "$STACK" >/dev/null
lab_step remove
