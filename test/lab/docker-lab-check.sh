#!/usr/bin/env bash
# The docker-lab.sh smoke run behind test/docker-lab.test.ts: one real dockerd ("node1") in
# the lab, a container publishing -p 8080:80 (busybox httpd), a client on the node's uplink
# fetching the page through Docker's DNAT, `synscope context` inside the node namespace with
# --docker-socket at the node's socket, then `swarm init` (docker_gwbridge, ingress_sbox), a
# service published on 8081 reached by the client through the routing mesh's stand-in
# (docker_ingress_standin), and an explicit, timed teardown. Writes into OUT-DIR:
#   lab.env        LAB=... and DOCKER_LAB_TMP=... (what the test checks is gone afterwards)
#   engine-name.txt   the Engine's name (`docker info`): the node's own hostname, node1
#   page.txt       the HTTP answer the client got through 192.0.2.1:8080
#   context.json   synscope context of the node namespace (real Engine API networks)
#   gwbridge.txt   `ip -o addr show docker_gwbridge` in the node after swarm init
#   ingress-sbox.txt  `ip -o addr` inside EXEC_ROOT/netns/ingress_sbox (reached with nsenter)
#   sandboxes.txt  ls EXEC_ROOT/netns in dockerd's mount namespace
#   ingress-page.txt  the HTTP answer through 192.0.2.1:8081 (node DNAT, ingress_sbox, overlay, task)
#   timings.txt    seconds for: start, image, run, swarm-init, service, teardown
# Usage: docker-lab-check.sh OUT-DIR   (root; about 20 s)
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
out=$(realpath -m "$1")
mkdir -p "$out"

now() { date +%s.%N; }
took() { awk -v a="$2" -v b="$(now)" -v what="$1" 'BEGIN { printf "%s %.2f\n", what, b - a }' >>"$out/timings.txt"; }
: >"$out/timings.txt"

lab_ns node1; lab_ns client
lab_lan node1 client
lab_in node1 ip addr add 192.0.2.1/24 dev eth0
lab_in client ip addr add 192.0.2.10/24 dev eth0

t=$(now); docker_node node1; took start "$t"
printf 'LAB=%s\nDOCKER_LAB_TMP=%s\n' "$LAB" "$DOCKER_LAB_TMP" >"$out/lab.env"
t=$(now); docker_lab_image node1; took image "$t"
dk node1 info -f '{{.Name}}' >"$out/engine-name.txt"

t=$(now)
dk node1 run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen node1 web 80
took run "$t"
printf 'GET / HTTP/1.0\r\n\r\n' | lab_in client timeout 5 busybox nc 192.0.2.1 8080 >"$out/page.txt"

lab_in node1 node "$LAB_REPO/bin/synscope.js" context --docker-socket "$(docker_sock node1)" --output "$out/context.json" 2>/dev/null

t=$(now); docker_swarm_init node1; took swarm-init "$t"
ip -n "$LAB-node1" -o addr show dev docker_gwbridge >"$out/gwbridge.txt"
docker_in_sandbox node1 ingress_sbox ip -o addr >"$out/ingress-sbox.txt"
docker_in_mnt node1 ls "$(docker_exec_root node1)/netns" >"$out/sandboxes.txt"

t=$(now)
dk node1 service create -d --name mesh --no-resolve-image --publish 8081:80 "$DOCKER_LAB_IMAGE" >/dev/null
docker_wait_listen node1 "$(docker_service_ctr node1 mesh)" 80
took service "$t"
docker_ingress_standin node1 mesh
printf 'GET / HTTP/1.0\r\n\r\n' | lab_in client timeout 5 busybox nc 192.0.2.1 8081 >"$out/ingress-page.txt"

t=$(now); docker_teardown; took teardown "$t"
echo "docker lab check done in $out"
