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
  lab_wait_context "$out"
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

# docker_web_lab: the one-node lab of several recorders: the node "host" (192.0.2.1) and the
# clients "good" (192.0.2.10) and "remote" (192.0.2.20) on one lab LAN (its switch is the
# namespace "lan", the ports p-NAME), dockerd on host running a busybox httpd "web"
# published with -p 8080:80, listening. Defines fetch NS SECONDS [PORT]: one HTTP request from
# NS to the node's PORT (web's 8080 unless given), bounded in time; the answer on stdout; and
# docker_remedies' fetch_page: 192.0.2.10 to web, the others to docker_web_capture's port.
docker_web_lab() {
  lab_ns host; lab_ns good; lab_ns remote
  lab_lan host good remote
  lab_in host ip addr add 192.0.2.1/24 dev eth0
  lab_in good ip addr add 192.0.2.10/24 dev eth0
  lab_in remote ip addr add 192.0.2.20/24 dev eth0
  docker_node host
  docker_lab_image host
  dk host run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
  docker_wait_listen host web 80
  lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
  fetch() {
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$2" busybox nc 192.0.2.1 "${3:-8080}" 2>/dev/null || true
  }
  fetch_page() { if [ "$1" = good ]; then fetch good "$2"; else fetch "$1" "$2" "${WEB_FAILING_PORT:-8080}"; fi; }
}

# docker_web_capture PORT WHY: docker_web_lab's capture of eth0 and docker0 (into $out, the
# context into $ctx) while 192.0.2.10 gets web's page and 192.0.2.20 gets none from the node's
# PORT; WHY ("it listens on 127.0.0.1") goes into the lab's error when a page does come.
docker_web_capture() {
  WEB_FAILING_PORT=$1
  docker_live host "$out" 30 -i eth0 -i docker0
  page=$(fetch good 10)
  [ -n "$page" ] || { echo "192.0.2.10 got no page from web" >&2; exit 1; }
  page=$(fetch remote 3.5 "$1")
  [ -z "$page" ] || { echo "192.0.2.20 got a page from port $1 although $2" >&2; exit 1; }
  docker_capture_done
}

# docker_capture_done: stop the capture docker_live started and write the node's context
# beside it (the recorder's $out and $ctx).
docker_capture_done() {
  lab_capture_stop
  lab_context "$out" "$ctx"
  echo "wrote $out and $ctx"
}

# docker_remedies NODE "NS=IP ..." "GOOD ...": called when DOCKER_REMEDY_DIR is set
# (test/docker-swarm-remedies.test.ts): apply the printed remedies in this lab
# (docker-remedy-apply.sh) on NODE for the failing clients, then try them and the good ones
# again. The recorder defines fetch_page first, and remedy_hand when its remedy has a hand step.
docker_remedies() {
  source "$LAB_DIR/docker-remedy-apply.sh"
  REMEDY_NODE=$1 REMEDY_CLIENTS=$2 REMEDY_GOOD=$3
  declare -F remedy_hand >/dev/null || remedy_hand() { echo "no hand step $1 in this scenario"; return 1; }
  docker_remedy_apply
}

# lab_fetch NS|ctr:NAME ADDRESS PORT SECONDS: one HTTP request from lab namespace NS or from
# container NAME of node "host", bounded in time; the answer on stdout (nothing when none came).
lab_fetch() {
  local ns=$1; shift
  if [ "${ns#ctr:}" != "$ns" ]; then
    printf 'GET / HTTP/1.0\r\n\r\n' | docker_in_ctr host "${ns#ctr:}" timeout "$3" busybox nc "$1" "$2" 2>/dev/null || true
  else
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$ns" timeout "$3" busybox nc "$1" "$2" 2>/dev/null || true
  fi
}

# lab_web NS PORT TEXT: a machine of the lab's own serving a page (busybox httpd in lab namespace
# NS on PORT, its page TEXT in the lab's temp dir, which teardown removes), for at most 120 s;
# returns once it listens. Before docker_node, it makes the temp dir docker_node then uses.
lab_web() {
  local ns=$1 port=$2 dir
  [ -n "$DOCKER_LAB_TMP" ] || DOCKER_LAB_TMP=$(mktemp -d "/tmp/synscope-docker-$LAB.XXXXXX")
  dir="$DOCKER_LAB_TMP/www-$ns-$port"
  mkdir -p "$dir"
  echo "$3" >"$dir/index.html"
  lab_in "$ns" timeout 120 busybox httpd -f -p "$port" -h "$dir" &
  lab_wait "httpd on tcp/$port in $ns" 20 lab_listening "$ns" "$port"
}

# lab_ufw NS ARGS...: the real ufw (Debian's package) run in lab namespace NS, on a copy of
# the machine's /etc/ufw and /etc/default/ufw in the lab's temp dir, bind-mounted over them in
# a private mount namespace: the firewall it writes lives in NS alone, and the machine's own
# ufw configuration (ENABLED=no) is never written. The copy applies no sysctls of its own.
lab_ufw() {
  local ns=$1; shift
  command -v ufw >/dev/null || { echo "lab_ufw: ufw is not installed (apt-get install ufw)" >&2; return 1; }
  [ -n "$DOCKER_LAB_TMP" ] || DOCKER_LAB_TMP=$(mktemp -d "/tmp/synscope-docker-$LAB.XXXXXX")
  local dir="$DOCKER_LAB_TMP/ufw-$ns"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    cp -a /etc/ufw "$dir/etc-ufw"
    : >"$dir/sysctl.conf"
    sed "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$dir/sysctl.conf|" /etc/default/ufw >"$dir/default-ufw"
  fi
  nsenter --net="/run/netns/$LAB-$ns" unshare -m --propagation slave \
    sh -c 'mount --bind "$1/etc-ufw" /etc/ufw && mount --bind "$1/default-ufw" /etc/default/ufw && shift && exec ufw "$@"' lab-ufw "$dir" "$@"
}

# docker_outbound_lab [WEB_ARGS...]: the lab of the outbound recorders: the node "host"
# (192.0.2.1, default route via the router 192.0.2.254) and the client "good" (192.0.2.10) on
# one LAN; the router forwards to the server 198.51.100.80 (busybox httpd) and, like the
# internet, has no route to Docker's 172.17.0.0/16. dockerd on host runs container "cli"
# (172.17.0.2) and a busybox httpd "web" published with -p 8080:80 (WEB_ARGS go before -p),
# listening. Checks that cli reaches the server while Docker masquerades. Defines fetch
# NS|ctr:NAME ADDRESS PORT SECONDS: one HTTP request, bounded in time; the answer on stdout.
docker_outbound_lab() {
  lab_ns host; lab_ns good; lab_ns router; lab_ns server
  lab_lan host good router
  lab_link router eth1 server eth0
  lab_in host ip addr add 192.0.2.1/24 dev eth0
  lab_in host ip route add default via 192.0.2.254 dev eth0
  lab_in good ip addr add 192.0.2.10/24 dev eth0
  lab_in router ip addr add 192.0.2.254/24 dev eth0
  lab_in router ip addr add 198.51.100.1/24 dev eth1
  lab_in router sysctl -qw net.ipv4.ip_forward=1
  lab_in server ip addr add 198.51.100.80/24 dev eth0
  lab_in server ip route add default via 198.51.100.1

  docker_node host
  docker_lab_image host
  lab_web server 80 "the server 198.51.100.80"
  dk host run -d --name cli "$DOCKER_LAB_IMAGE" sleep 300 >/dev/null
  dk host run -d --name web "$@" -p 8080:80 "$DOCKER_LAB_IMAGE" >/dev/null
  docker_wait_listen host web 80
  lab_wait "docker-proxy on tcp/8080 in the node" 20 lab_listening host 8080
  [ "$(dk host inspect -f '{{.NetworkSettings.IPAddress}}' cli)" = 172.17.0.2 ] || { echo "cli is not 172.17.0.2" >&2; exit 1; }

  fetch() { lab_fetch "$@"; }
  page=$(fetch ctr:cli 198.51.100.80 80 10)
  [ -n "$page" ] || { echo "cli got no answer from the server while Docker masquerades" >&2; exit 1; }
  lab_in host iptables -t nat -S POSTROUTING | grep -q -- '-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE' || { echo "Docker wrote no MASQUERADE for docker0" >&2; exit 1; }
}

# lab_two_networks: the router recorders' lab, before dockerd: the node "host" routes between
# its LAN eth0 (192.0.2.1/24: the client "good" 192.0.2.10, and the server "server" 192.0.2.30
# serving busybox httpd on port 80, with its route back to 10.20.0.0/24) and a second network
# on eth1 (10.20.0.1/24: the client "remote" 10.20.0.10, default route via the node). Forwarding
# is left as it is. Defines fetch NS ADDRESS PORT SECONDS: one HTTP request; the answer on stdout.
lab_two_networks() {
  lab_ns host; lab_ns good; lab_ns server; lab_ns remote
  lab_lan host good server
  lab_link host eth1 remote eth0
  lab_in host ip addr add 192.0.2.1/24 dev eth0
  lab_in host ip addr add 10.20.0.1/24 dev eth1
  lab_in good ip addr add 192.0.2.10/24 dev eth0
  lab_in server ip addr add 192.0.2.30/24 dev eth0
  lab_in server ip route add 10.20.0.0/24 via 192.0.2.1
  lab_in remote ip addr add 10.20.0.10/24 dev eth0
  lab_in remote ip route add default via 10.20.0.1
  lab_web server 80 "the server 192.0.2.30"
  fetch() {
    printf 'GET / HTTP/1.0\r\n\r\n' | lab_in "$1" timeout "$4" busybox nc "$2" "$3" 2>/dev/null || true
  }
}
