# The two-node swarm of the cross-node scenarios (sourced by their recorders, after
# netns-lab.sh, docker-lab.sh and docker-real-helpers.sh): two dockerd nodes (node1
# 192.0.2.1, the manager; node2 192.0.2.2) and a client 192.0.2.10 on one lab LAN (its switch
# is the lab namespace "lan"), a busybox httpd service `web` constrained to node2 and
# published through the routing mesh on 8080, the IPVS step stood in for
# (docker_ingress_standin), and the task's namespace named web.1.
#
# swarm_cross_node_lab OUT-DIR: builds it and starts synscope live --write on each node
# (node1: eth0, docker_gwbridge, ingress_sbox's eth1 and eth0; node2 the same plus the task's
# ingress leg) into OUT-DIR/node1.pcapng and node2.pcapng. Defines fetch SECONDS (one request
# from the client to node1:8080; the answer on stdout) and swarm_cross_node_stop OUT-DIR (stops
# both captures once the client's connections settled, and moves each context beside its file).
swarm_cross_node_lab() {
  local outdir=$1
  lab_ns node1; lab_ns node2; lab_ns client
  lab_lan node1 node2 client
  lab_in node1 ip addr add 192.0.2.1/24 dev eth0
  lab_in node2 ip addr add 192.0.2.2/24 dev eth0
  lab_in client ip addr add 192.0.2.10/24 dev eth0
  for n in node1 node2; do
    lab_in "$n" ip route add default dev eth0
    lab_in "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
  done

  docker_node node1
  docker_node node2
  docker_lab_image node1
  docker_lab_image node2
  docker_swarm_init node1
  docker_swarm_join node2 node1
  dk node1 service create -d --name web --no-resolve-image --constraint node.hostname==node2 --publish 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
  ctr=$(docker_service_ctr node2 web 90)
  docker_wait_listen node2 "$ctr" 80
  docker_ingress_standin node1 web node2

  # The task's ingress leg: the interface holding its ingress address, in its namespace named web.1.
  task_ip=$(dk node2 inspect -f '{{(index .NetworkSettings.Networks "ingress").IPAddress}}' "$ctr")
  task_if=$(docker_in_ctr node2 "$ctr" ip -o -4 addr show | awk -v a="$task_ip" '{ split($4, p, "/"); if (p[1] == a) print $2 }')
  [ -n "$task_if" ] || { echo "no interface with the task's ingress address $task_ip" >&2; exit 1; }
  mkdir -p "$DOCKER_LAB_TMP/ns"
  ln -s "/proc/$(docker_ctr_pid node2 "$ctr")/ns/net" "$DOCKER_LAB_TMP/ns/web.1"

  # fetch SECONDS: one HTTP request from the client to node1's published port, bounded in time; the answer on stdout.
  fetch() {
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in client timeout "$1" busybox nc 192.0.2.1 8080 2>/dev/null || true
  }

  # node1 learns where the task lives over the swarm's gossip: the captured requests start once
  # one has gone through (this one is before the captures), so the first is not a retransmitted SYN.
  answered() { [ -n "$(fetch 3)" ]; }
  lab_wait "the routing mesh from node1 to the task on node2" 90 answered

  # The swarm's own connections between the nodes (2377, 7946) stay established: only the
  # client's connections have to settle before the captures stop.
  stop_captures() {
    local LAB_NAMESPACES=("$LAB-client")
    lab_capture_stop "$@"
  }

  # The live runs' own reports are one node's each; the recorders compare multi-host scenarios through analyze only.
  sbox1=$(docker_sandbox_path node1 ingress_sbox)
  sbox2=$(docker_sandbox_path node2 ingress_sbox)
  filter='(tcp and not port 2377 and not port 7946) or icmp or icmp6 or arp or (udp port 4789)'
  DOCKER_LIVE_JSON= docker_live node1 "$outdir/node1.pcapng" 40 -f "$filter" -i eth0 -i docker_gwbridge --netns "$sbox1:eth1" --netns "$sbox1:eth0"
  capture1=$LAB_CAPTURE_PID
  DOCKER_LIVE_JSON= docker_live node2 "$outdir/node2.pcapng" 40 -f "$filter" -i eth0 -i docker_gwbridge --netns "$sbox2:eth1" --netns "$sbox2:eth0" --netns "$DOCKER_LAB_TMP/ns/web.1:$task_if"
  capture2=$LAB_CAPTURE_PID
}

swarm_cross_node_stop() {
  stop_captures "$capture1" "$capture2"
  lab_context "$1/node1.pcapng" "$1/node1.context.json"
  lab_context "$1/node2.pcapng" "$1/node2.context.json"
}
