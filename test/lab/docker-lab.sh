#!/usr/bin/env bash
# A real Docker engine in the namespace lab: dockerd ("a node") running contained in one of
# the lab's network namespaces, so recorded scenarios get Docker's own docker0, br-<id>,
# iptables chains, docker_gwbridge and ingress_sbox instead of an imitation.
# Source it after netns-lab.sh. It replaces the EXIT trap with docker_teardown + lab_cleanup,
# so nodes are torn down on success, on failure and on Ctrl-C.
#
#   source "$(dirname "$0")/netns-lab.sh"
#   source "$(dirname "$0")/docker-lab.sh"
#   lab_ns node1; lab_ns client; lab_lan node1 client
#   lab_in node1 ip addr add 192.0.2.1/24 dev eth0
#   docker_node node1 '{"bip": "172.17.0.1/16"}'      # dockerd in $LAB-node1, ready to use
#   docker_lab_image node1                             # the offline busybox image, $DOCKER_LAB_IMAGE
#   dk node1 run -d --name web -p 8080:80 "$DOCKER_LAB_IMAGE" httpd -f -p 80 -h /www
#   docker_wait_listen node1 web 80
#
# API (NAME is the node's name: its network namespace is $LAB-NAME, created by the caller
# with lab_ns and given an uplink eth0 with an IPv4 address before docker_node):
#   docker_node NAME [DAEMON_JSON]   start dockerd in $LAB-NAME and wait until GET /_ping answers
#                                    (at most DOCKER_LAB_START_TIMEOUT s, default 60; on timeout it
#                                    fails showing the tail of dockerd's log). DAEMON_JSON is a JSON
#                                    object merged over the lab's daemon.json (e.g. bip, fixed-cidr,
#                                    default-address-pools, iptables, userland-proxy); its keys win.
#                                    The daemon runs in its own mount and UTS namespaces (hostname
#                                    NAME), with data-root, exec-root, pidfile, socket and /etc/docker
#                                    under the lab's temp dir, overlay2, the cgroupfs driver and the
#                                    relative cgroup parent synscope-$LAB-NAME. Its environment has
#                                    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (swarm services use local
#                                    images; create them with --no-resolve-image).
#   docker_restart NAME              restart the node's dockerd (as `systemctl restart docker`) on its
#                                    daemon.json, $(docker_lab_dir NAME)/etc/daemon.json, and wait for
#                                    GET /_ping; containers without a restart policy stay stopped
#   docker_lab_image NAME            import the offline image $DOCKER_LAB_IMAGE (static busybox: sh, nc,
#                                    httpd, ip, sleep, ... and /www/index.html) into the node, once.
#                                    Its default command is `httpd -f -p 80 -h /www`.
#   dk NAME ARGS...                  the docker CLI against that node (DOCKER_HOST set, own config dir)
#   docker_sock NAME                 print the node's Engine API socket (for --docker-socket)
#   docker_pid NAME                  print dockerd's PID
#   docker_exec_root NAME            print the node's exec-root (as seen inside dockerd's mount ns)
#   docker_addr NAME                 print the node's uplink (eth0) IPv4 address
#   docker_ctr_pid NAME CTR          print a running container's PID (in the root PID namespace)
#   docker_in_ctr NAME CTR CMD...    run a host command in the container's network namespace
#   docker_wait_listen NAME CTR PORT [SECONDS]
#                                    wait (default 20 s) until something in the container listens on
#                                    TCP PORT (`ss -ltn` in its netns, no traffic sent)
#   docker_sandbox_path NAME SANDBOX print a path to EXEC_ROOT/netns/SANDBOX (ingress_sbox, 1-<id>...)
#                                    that works from the root mount namespace: /proc/<dockerd>/root/...
#                                    (for nsenter --net=PATH and synscope --netns PATH; `ip netns
#                                    exec` takes names only)
#   docker_in_sandbox NAME SANDBOX CMD...
#                                    run a host command (ip, ss, iptables, node...) in that namespace
#   docker_wait_sandbox NAME SANDBOX [SECONDS]
#                                    wait until EXEC_ROOT/netns/SANDBOX exists (default 30 s)
#   docker_in_mnt NAME CMD...        run a command in dockerd's mount and network namespaces
#                                    (nsenter -t <dockerd> -m -n): its view of the exec-root
#   docker_swarm_init NAME [ARGS...] `swarm init --advertise-addr <uplink address> ARGS...`, then wait
#                                    until EXEC_ROOT/netns/ingress_sbox exists and is plugged into
#                                    docker_gwbridge (its default route via the bridge's address)
#   docker_swarm_join NAME MANAGER   join node NAME to MANAGER's swarm as a worker (advertising NAME's
#                                    uplink address), then wait for its ingress_sbox the same way
#   docker_service_ctr NAME SERVICE [SECONDS]
#                                    wait (default 30 s) for a running task of SERVICE on the node and
#                                    print its container ID (use with docker_wait_listen)
#   docker_ingress_standin NAME SERVICE [TASK_NODE]
#                                    the routing mesh's missing step for SERVICE's ingress-mode
#                                    published TCP ports (no IP_VS in this kernel, so Docker programs
#                                    neither DOCKER-INGRESS nor the IPVS service): on the node, the
#                                    nat and filter DOCKER-INGRESS chains Docker 20.10 writes (DNAT to
#                                    ingress_sbox's docker_gwbridge address, route_localnet and the
#                                    MASQUERADE for local sources); inside ingress_sbox, what IPVS in
#                                    NAT mode does: DNAT to the ingress address of the first task
#                                    running on TASK_NODE (default NAME; another node's task is
#                                    reached over the ingress overlay), same port, and Docker's SNAT to ingress_sbox's ingress address (its
#                                    `-m ipvs --ipvs` rule without the match), with ip_forward on.
#                                    A scenario that uses it must say so in its README.
#   docker_capture NAME OUT SECONDS IF...
#                                    lab_capture in the node's namespace (synscope live --write on
#                                    IF... for SECONDS into OUT), its host context read with
#                                    --docker-socket at the node's socket: the real Docker networks.
#                                    With DOCKER_LIVE_JSON=FILE the report JSON the live run printed
#                                    is kept in FILE (to compare with analyze of the written files)
#   docker_teardown                  tear every node down: leave swarm (--force), remove containers,
#                                    stop dockerd by PID (TERM, then KILL after 15 s), kill whatever is
#                                    left in its mount namespace and cgroups, remove its cgroup dirs
#                                    and the temp dir. Idempotent; runs from the EXIT trap.
# Variables: DOCKER_LAB_TMP (the lab's temp dir), DOCKER_LAB_IMAGE (image name),
# DOCKER_LAB_CLI (docker CLI; default /usr/bin/docker, the 20.10 one matching Debian's dockerd).
#
# Nothing here changes the root namespace's network: dockerd, its containerd, shims and
# containers live in $LAB-NAME (and namespaces of their own), every mount is made in the
# node's private mount namespace (propagation slave), and container cgroups nest under the
# relative parent synscope-$LAB-NAME. test/docker-lab.test.ts checks ip link, ip route and
# iptables-save of the root namespace before and after, and that nothing is left.
#
# A lab whose shell was SIGKILLed (no EXIT trap) leaves its nodes running:
# test/lab/docker-lab-sweep.sh lists such labs and, with --clean, tears them down.
#
# Timings on the project's machine kind (2 shared cores, kernel 6.18, docker.io 20.10),
# lighter load / load average 7-12: node start 1.1-1.9 / 2.3-4.9 s, swarm init 2.9 / 3.2-4.7 s,
# teardown of a node in a swarm 3.3-4.0 / 3.7-5.6 s. More, and the pitfalls behind the design
# (the subreaper, the private /run, the cgroup sweep): test/lab/DOCKER-LAB-NOTES.md.

DOCKER_LAB_CLI=${DOCKER_LAB_CLI:-$(command -v /usr/bin/docker || command -v docker || echo docker)}
DOCKER_LAB_IMAGE=synscope-lab/busybox:lab
DOCKER_LAB_TMP=""
DOCKER_LAB_NODES=()
declare -gA DOCKER_LAB_PIDS=()

docker_lab_dir() { # docker_lab_dir NAME: the node's directory under the lab's temp dir
  printf '%s/%s' "$DOCKER_LAB_TMP" "$1"
}

docker_sock() { printf '%s/docker.sock' "$(docker_lab_dir "$1")"; }
docker_exec_root() { printf '%s/exec' "$(docker_lab_dir "$1")"; }

docker_common_view() { # docker_common_view PATH NODE...: each node's own directory seen at PATH inside its mount namespace
  # A stack or a job names one socket and one sandbox directory for every node, as on real
  # hosts, where dockerd resolves a bind's source in its own mount namespace: PATH/docker.sock
  # and PATH/exec/netns are then each node's own. / is made shared first, as on a systemd host,
  # so an rslave bind of the sandboxes works (Docker refuses it on a private mount) and
  # sandboxes made later (ingress_sbox at swarm join) show through.
  local view=$1 n
  shift
  mkdir -p "$view"
  for n in "$@"; do
    docker_in_mnt "$n" mount --make-rshared /
    docker_in_mnt "$n" mount --rbind "$(docker_lab_dir "$n")" "$view"
  done
}

docker_pid() { # docker_pid NAME: dockerd's PID (from its pidfile)
  local pid
  pid=$(cat "$(docker_lab_dir "$1")/docker.pid" 2>/dev/null) && [ -n "$pid" ] ||
    { echo "docker-lab: no dockerd running for node $1" >&2; return 1; }
  printf '%s' "$pid"
}

docker_addr() { # docker_addr NAME: the node's eth0 IPv4 address
  ip -n "$LAB-$1" -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1]; exit }'
}

dk() { # dk NAME ARGS...: the docker CLI against node NAME
  local dir
  dir=$(docker_lab_dir "$1"); shift
  DOCKER_HOST="unix://$dir/docker.sock" DOCKER_CONFIG="$dir/cli" "$DOCKER_LAB_CLI" "$@"
}

docker_ping() { # docker_ping NAME: does the node's socket answer GET /_ping with OK?
  [ "$(curl -s --max-time 2 --unix-socket "$(docker_sock "$1")" http://docker/_ping 2>/dev/null)" = OK ]
}

# The program run as the node: in the node's netns, a new mount namespace (propagation slave:
# nothing mounted here reaches the root namespace) and a new UTS namespace. A sysfs of the
# node's netns replaces /sys (dockerd reads /sys/class/net), with the cgroup hierarchies
# carried over; /etc/docker (dockerd 20.10 writes key.json there) and /run are private.
# LIBMOUNT_UTAB keeps mount(8)'s bookkeeping out of the root namespace's /run/mount.
# The process first moves into a cgroup of its own in every v1 hierarchy, so everything it
# starts (containerd, shims, containers: relative --cgroup-parent) can be found and killed.
DOCKER_LAB_WRAPPER='
set -eu
dir=$1 node=$2 cg=$3 python=$4 reaper=$5
export LIBMOUNT_UTAB=$dir/utab
mount -t tmpfs -o mode=755 tmpfs /run
own_cgroups=$(cat /proc/self/cgroup)
while IFS=: read -r _ ctrls own; do
  [ -n "$ctrls" ] || continue
  h=/sys/fs/cgroup/${ctrls#name=}
  [ -f "$h/cgroup.procs" ] || continue
  mkdir -p "$h$own/$cg" && echo $$ >"$h$own/$cg/cgroup.procs" 2>/dev/null || true
done <<<"$own_cgroups"
hostname "$node"
mkdir -p "$dir/cgroup-stash"
mount --rbind /sys/fs/cgroup "$dir/cgroup-stash"
mount -t sysfs sysfs /sys
mount --rbind "$dir/cgroup-stash" /sys/fs/cgroup
umount -l "$dir/cgroup-stash"
mount --bind "$dir/etc" /etc/docker
exec env DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 "$python" -c "$reaper" dockerd --config-file "$dir/etc/daemon.json"
'

# The node's first process after the wrapper: a child subreaper that runs dockerd and reaps
# every process orphaned below it (containerd-shim daemonizes, and its zombie would otherwise
# go to PID 1, which need not reap it soon; an unreaped zombie keeps its cgroup busy). It
# passes TERM and INT on to dockerd and exits once it has no children left.
DOCKER_LAB_REAPER='
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = os.fork()
if child == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
def forward(signum, frame):
    try:
        os.kill(child, signum)
    except ProcessLookupError:
        pass
signal.signal(signal.SIGTERM, forward)
signal.signal(signal.SIGINT, forward)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
'
DOCKER_LAB_PYTHON=${DOCKER_LAB_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

docker_lab_log_tail() { # docker_lab_log_tail NAME WHAT: say WHAT, then the end of dockerd's log
  local log
  log="$(docker_lab_dir "$1")/dockerd.log"
  {
    echo "docker-lab: $2; the end of $log:"
    tail -n 15 "$log" | cut -c1-400
  } >&2
}

# What the lab needs on the machine (Debian: docker.io containerd runc busybox-static curl python3).
docker_lab_require() {
  local tool missing=()
  for tool in dockerd containerd runc curl nsenter unshare "$DOCKER_LAB_CLI" "$DOCKER_LAB_PYTHON"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=("a static /bin/busybox (busybox-static)")
  [ -d /etc/docker ] || missing+=("/etc/docker (docker.io)")
  [ "${#missing[@]}" -eq 0 ] || { echo "docker-lab: missing ${missing[*]}; apt-get install docker.io containerd runc busybox-static curl python3" >&2; return 1; }
}

docker_node() { # docker_node NAME [DAEMON_JSON]
  local name=$1 fragment=${2:-'{}'} dir ns="$LAB-$1"
  docker_lab_require
  [ -e "/run/netns/$ns" ] || { echo "docker-lab: create the node's namespace first (lab_ns $name)" >&2; return 1; }
  if [ -z "$DOCKER_LAB_TMP" ]; then
    DOCKER_LAB_TMP=$(mktemp -d "/tmp/synscope-docker-$LAB.XXXXXX")
  fi
  dir=$(docker_lab_dir "$name")
  mkdir -p "$dir/etc" "$dir/data" "$dir/exec" "$dir/cli"
  DOCKER_LAB_NODES+=("$name")
  node -e '
    const [dir, cg, fragment] = process.argv.slice(1);
    const base = {
      "data-root": dir + "/data", "exec-root": dir + "/exec", pidfile: dir + "/docker.pid",
      hosts: ["unix://" + dir + "/docker.sock"], "storage-driver": "overlay2",
      "exec-opts": ["native.cgroupdriver=cgroupfs"], "cgroup-parent": cg,
    };
    let extra;
    try { extra = JSON.parse(fragment); } catch (e) { console.error("docker-lab: DAEMON_JSON is not JSON: " + e.message); process.exit(1); }
    require("fs").writeFileSync(dir + "/etc/daemon.json", JSON.stringify({ ...base, ...extra }, null, 2) + "\n");
  ' "$dir" "synscope-$ns" "$fragment"
  docker_node_start "$name"
}

# Start the node's dockerd on the daemon.json in its directory and wait for GET /_ping.
docker_node_start() { # docker_node_start NAME
  local name=$1 dir ns="$LAB-$1" pid deadline
  dir=$(docker_lab_dir "$name")
  nsenter --net="/run/netns/$ns" unshare -m -u --propagation slave \
    bash -c "$DOCKER_LAB_WRAPPER" docker-lab-node "$dir" "$name" "synscope-$ns-daemon" "$DOCKER_LAB_PYTHON" "$DOCKER_LAB_REAPER" \
    >>"$dir/dockerd.log" 2>&1 </dev/null &
  pid=$!  # the reaper (after the wrapper's exec); dockerd is its child
  DOCKER_LAB_PIDS[$name]=$pid
  echo "$pid" >"$dir/reaper.pid"  # for docker-lab-sweep.sh, should this shell be SIGKILLed
  deadline=$((SECONDS + ${DOCKER_LAB_START_TIMEOUT:-60}))
  until docker_ping "$name"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      docker_lab_log_tail "$name" "dockerd for $name exited before answering GET /_ping"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      docker_lab_log_tail "$name" "dockerd for $name did not answer GET /_ping on $(docker_sock "$name") within ${DOCKER_LAB_START_TIMEOUT:-60} s"
      return 1
    fi
    sleep 0.1
  done
  stat -L -c %i "/proc/$pid/ns/mnt" >"$dir/mntns"
}

# What `systemctl restart docker` does to a node: dockerd stopped by its PID (TERM, then KILL
# after 40 s: it stops the containers first, 10 s for one that ignores TERM, as busybox httpd as
# PID 1 does; they keep their restart policies), what is left in its
# mount namespace and cgroups ended by PID, then dockerd started again on the node's
# daemon.json (edit it first: $(docker_lab_dir NAME)/etc/daemon.json) and waited for.
docker_restart() { # docker_restart NAME
  local name=$1 reaper pid deadline pids
  reaper=${DOCKER_LAB_PIDS[$name]:-}
  pid=$(docker_pid "$name")
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 40))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in 1 2 3 4 5; do
    pids=$( { docker_lab_mntns_pids "$name"; docker_lab_cgroup_pids "$name"; } | sort -u | grep -vx "${reaper:-0}") || true
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  if [ -n "$reaper" ]; then
    deadline=$((SECONDS + 10))
    while kill -0 "$reaper" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$reaper" 2>/dev/null || true
    wait "$reaper" 2>/dev/null || true
  fi
  rm -f "$(docker_lab_dir "$name")/docker.pid"
  docker_node_start "$name"
}

# The offline image's root: static busybox and the applets the labs use, plus a page for httpd.
docker_lab_image_tar() {
  local tar="$DOCKER_LAB_TMP/busybox-rootfs.tar" root="$DOCKER_LAB_TMP/busybox-rootfs" applet
  [ -f "$tar" ] && { printf '%s' "$tar"; return; }
  mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh ash nc httpd ip ifconfig route sleep cat echo ls ps sed grep wc head netstat hostname true false kill printf env; do
    ln -sf busybox "$root/bin/$applet"
  done
  echo 'synscope docker lab' >"$root/www/index.html"
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  tar -C "$root" -cf "$tar" .
  printf '%s' "$tar"
}

docker_lab_image() { # docker_lab_image NAME: import $DOCKER_LAB_IMAGE into the node once
  local tar
  dk "$1" image inspect "$DOCKER_LAB_IMAGE" >/dev/null 2>&1 && return 0
  tar=$(docker_lab_image_tar)
  dk "$1" import --change 'ENV PATH=/bin' --change 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]' "$tar" "$DOCKER_LAB_IMAGE" >/dev/null
}

docker_ctr_pid() { # docker_ctr_pid NAME CTR
  local pid
  pid=$(dk "$1" inspect -f '{{.State.Pid}}' "$2")
  [ -n "$pid" ] && [ "$pid" != 0 ] || { echo "docker-lab: container $2 on $1 is not running" >&2; return 1; }
  printf '%s' "$pid"
}

docker_in_ctr() { # docker_in_ctr NAME CTR CMD...
  local pid
  pid=$(docker_ctr_pid "$1" "$2"); shift 2
  nsenter -t "$pid" -n "$@"
}

docker_wait_listen() { # docker_wait_listen NAME CTR PORT [SECONDS]
  local pid deadline=$((SECONDS + ${4:-20}))
  pid=$(docker_ctr_pid "$1" "$2")
  until nsenter -t "$pid" -n ss -Hltn "sport = :$3" | grep -q .; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker-lab: nothing listens on tcp/$3 in container $2 on $1 after ${4:-20} s; its log:" >&2
      dk "$1" logs --tail 20 "$2" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

docker_sandbox_path() { # docker_sandbox_path NAME SANDBOX
  printf '/proc/%s/root%s/netns/%s' "$(docker_pid "$1")" "$(docker_exec_root "$1")" "$2"
}

docker_in_sandbox() { # docker_in_sandbox NAME SANDBOX CMD...
  local path
  path=$(docker_sandbox_path "$1" "$2"); shift 2
  nsenter --net="$path" "$@"
}

docker_wait_sandbox() { # docker_wait_sandbox NAME SANDBOX [SECONDS]
  local deadline=$((SECONDS + ${3:-30}))
  until docker_in_mnt "$1" test -e "$(docker_exec_root "$1")/netns/$2"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker-lab: no $(docker_exec_root "$1")/netns/$2 on $1 after ${3:-30} s" >&2
      return 1
    fi
    sleep 0.1
  done
}

docker_in_mnt() { # docker_in_mnt NAME CMD...
  local pid
  pid=$(docker_pid "$1"); shift
  nsenter -t "$pid" -m -n "$@"
}

docker_swarm_init() { # docker_swarm_init NAME [ARGS...]
  local name=$1; shift
  dk "$name" swarm init --advertise-addr "$(docker_addr "$name")" "$@" >/dev/null
  docker_wait_swarm_sandbox "$name"
}

# Ready once ingress_sbox exists and is plugged into docker_gwbridge: its default route goes
# via the bridge's address (the sandbox file and the bridge appear a little before that).
docker_wait_swarm_sandbox() {
  local name=$1 deadline gw=""
  docker_wait_sandbox "$name" ingress_sbox 30
  deadline=$((SECONDS + 30))
  until [ -n "$gw" ] && docker_in_sandbox "$name" ingress_sbox ip -4 route show default | grep -q "via $gw "; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker-lab: ingress_sbox on $name not on docker_gwbridge ${gw:-(no address yet)} after 30 s" >&2
      return 1
    fi
    sleep 0.1
    gw=$(ip -n "$LAB-$name" -4 -o addr show dev docker_gwbridge 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }') || true
  done
}

docker_swarm_join() { # docker_swarm_join NAME MANAGER
  local name=$1 manager=$2 token
  token=$(dk "$manager" swarm join-token -q worker)
  dk "$name" swarm join --token "$token" --advertise-addr "$(docker_addr "$name")" "$(docker_addr "$manager"):2377" >/dev/null
  docker_wait_swarm_sandbox "$name"
}

docker_service_ctr() { # docker_service_ctr NAME SERVICE [SECONDS]
  local ctr deadline=$((SECONDS + ${3:-30}))
  until ctr=$(dk "$1" ps -q --filter "label=com.docker.swarm.service.name=$2" --filter status=running | head -n1) && [ -n "$ctr" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker-lab: no running task of service $2 on $1 after ${3:-30} s:" >&2
      dk "$1" service ps --no-trunc "$2" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  printf '%s' "$ctr"
}

docker_ingress_standin() { # docker_ingress_standin NAME SERVICE [TASK_NODE]
  local name=$1 svc=$2 task_node=${3:-$1} ctr task sbox_ingress sbox_gw subnet proto port mode
  ctr=$(docker_service_ctr "$task_node" "$svc")
  task=$(dk "$task_node" inspect -f '{{(index .NetworkSettings.Networks "ingress").IPAddress}}' "$ctr")
  sbox_ingress=$(dk "$name" network inspect ingress -f '{{(index .Containers "ingress-sbox").IPv4Address}}')
  sbox_gw=$(dk "$name" network inspect docker_gwbridge -f '{{(index .Containers "ingress-sbox").IPv4Address}}')
  subnet=$(dk "$name" network inspect ingress -f '{{(index .IPAM.Config 0).Subnet}}')
  [ -n "$task" ] && [ -n "$sbox_ingress" ] && [ -n "$sbox_gw" ] && [ -n "$subnet" ] ||
    { echo "docker-lab: service $svc on $name: no ingress addresses (task '$task', ingress_sbox '$sbox_ingress' / '$sbox_gw')" >&2; return 1; }
  sbox_ingress=${sbox_ingress%/*} sbox_gw=${sbox_gw%/*}
  # The node: Docker's DOCKER-INGRESS chains (libnetwork programIngress), once per node.
  if lab_in "$name" iptables -t nat -N DOCKER-INGRESS 2>/dev/null; then
    lab_in "$name" iptables -t nat -A DOCKER-INGRESS -j RETURN
    lab_in "$name" iptables -t nat -I PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
    lab_in "$name" iptables -t nat -I OUTPUT -m addrtype --dst-type LOCAL -j DOCKER-INGRESS
    lab_in "$name" iptables -t nat -I POSTROUTING -m addrtype --src-type LOCAL -o docker_gwbridge -j MASQUERADE
    lab_in "$name" sysctl -qw net.ipv4.conf.docker_gwbridge.route_localnet=1
    lab_in "$name" iptables -t filter -N DOCKER-INGRESS
    lab_in "$name" iptables -t filter -A DOCKER-INGRESS -j RETURN
    lab_in "$name" iptables -t filter -I FORWARD -j DOCKER-INGRESS
    # Docker keeps the DOCKER-USER jump first in FORWARD.
    lab_in "$name" iptables -t filter -D FORWARD -j DOCKER-USER
    lab_in "$name" iptables -t filter -I FORWARD -j DOCKER-USER
    docker_in_sandbox "$name" ingress_sbox sysctl -qw net.ipv4.ip_forward=1
  fi
  while read -r proto port mode; do
    [ "$proto" = tcp ] && [ "$mode" = ingress ] || continue
    lab_in "$name" iptables -t nat -I DOCKER-INGRESS -p tcp --dport "$port" -j DNAT --to-destination "$sbox_gw:$port"
    lab_in "$name" iptables -t filter -I DOCKER-INGRESS -m state -p tcp --sport "$port" --state ESTABLISHED,RELATED -j ACCEPT
    lab_in "$name" iptables -t filter -I DOCKER-INGRESS -p tcp --dport "$port" -j ACCEPT
    docker_in_sandbox "$name" ingress_sbox iptables -t nat -A PREROUTING -p tcp --dport "$port" -j DNAT --to-destination "$task:$port"
    docker_in_sandbox "$name" ingress_sbox iptables -t nat -A POSTROUTING -d "$subnet" -p tcp --dport "$port" -j SNAT --to-source "$sbox_ingress"
  done < <(dk "$name" service inspect -f '{{range .Endpoint.Ports}}{{.Protocol}} {{.PublishedPort}} {{.PublishMode}}{{"\n"}}{{end}}' "$svc")
}

docker_capture() { # docker_capture NAME OUT SECONDS IF...
  local name=$1; shift
  LAB_DOCKER_SOCKET=$(docker_sock "$name") LAB_LIVE_JSON=${DOCKER_LIVE_JSON:-/dev/null} lab_capture "$name" "$@"
}

# The node's cgroup dirs (the daemon's own and the containers' parent) in every hierarchy,
# deepest first.
docker_lab_cgroups() {
  find /sys/fs/cgroup -depth -type d \( -name "synscope-$LAB-$1" -o -name "synscope-$LAB-$1-daemon" \) 2>/dev/null
}

# Every PID in the node's cgroups, at any depth.
docker_lab_cgroup_pids() {
  local cgs
  mapfile -t cgs < <(docker_lab_cgroups "$1")
  [ "${#cgs[@]}" -eq 0 ] || find "${cgs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

# Every PID in the node's private mount namespace (dockerd, containerd, shims, docker-proxy).
docker_lab_mntns_pids() {
  local mntns
  mntns=$(cat "$(docker_lab_dir "$1")/mntns" 2>/dev/null) || return 0
  # Never the namespace this shell runs in (the root's): that would take every process along.
  [ -n "$mntns" ] && [ "$mntns" != "$(stat -L -c %i /proc/self/ns/mnt)" ] && [ "$mntns" != "$(stat -L -c %i /proc/1/ns/mnt 2>/dev/null)" ] || return 0
  stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null | awk -v want="$mntns" '$1 == want { split($2, p, "/"); print p[3] }'
  return 0
}

docker_teardown_node() {
  local name=$1 reaper pid dir deadline pids cgs
  local -; set +e +o pipefail
  dir=$(docker_lab_dir "$name")
  reaper=${DOCKER_LAB_PIDS[$name]:-}
  if [ -n "$reaper" ] && kill -0 "$reaper" 2>/dev/null && docker_ping "$name"; then
    if [ "$(dk "$name" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; then
      timeout 30 env DOCKER_HOST="unix://$dir/docker.sock" DOCKER_CONFIG="$dir/cli" "$DOCKER_LAB_CLI" swarm leave --force >/dev/null 2>&1 || true
    fi
    pids=$(dk "$name" ps -aq 2>/dev/null) || true
    # shellcheck disable=SC2086
    [ -z "$pids" ] || timeout 30 env DOCKER_HOST="unix://$dir/docker.sock" DOCKER_CONFIG="$dir/cli" "$DOCKER_LAB_CLI" rm -f $pids >/dev/null 2>&1 || true
  fi
  pid=$(cat "$dir/docker.pid" 2>/dev/null)
  if [ -n "$pid" ] && [ -n "$reaper" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  # Whatever is left but the reaper (containerd, a shim, a container process, docker-proxy),
  # by PID; again while some remain, as a killed process's children may show up late.
  for _ in 1 2 3 4 5; do
    pids=$( { docker_lab_mntns_pids "$name"; docker_lab_cgroup_pids "$name"; } | sort -u | grep -vx "${reaper:-0}")
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.2
  done
  # The reaper exits once it has reaped its last child.
  if [ -n "$reaper" ]; then
    deadline=$((SECONDS + 10))
    while kill -0 "$reaper" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$reaper" 2>/dev/null
    wait "$reaper" 2>/dev/null
  fi
  # The cgroup dirs, deepest first (a cgroup can go once its last process is reaped).
  deadline=$((SECONDS + 10))
  while :; do
    mapfile -t cgs < <(docker_lab_cgroups "$name")
    [ "${#cgs[@]}" -eq 0 ] && break
    find "${cgs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null
    mapfile -t cgs < <(docker_lab_cgroups "$name")
    [ "${#cgs[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker-lab: cgroups of $name left behind:" >&2
      docker_lab_cgroups "$name" >&2
      break
    fi
    sleep 0.2
  done
  unset "DOCKER_LAB_PIDS[$name]"
}

docker_teardown() {
  local name
  local -; set +e +o pipefail
  for name in "${DOCKER_LAB_NODES[@]}"; do
    docker_teardown_node "$name"
  done
  DOCKER_LAB_NODES=()
  if [ -n "$DOCKER_LAB_TMP" ] && [ -d "$DOCKER_LAB_TMP" ]; then
    rm -rf "$DOCKER_LAB_TMP"
  fi
  DOCKER_LAB_TMP=""
}

trap 'docker_teardown || true; lab_cleanup' EXIT
# A non-interactive bash dies of TERM and HUP without running its EXIT trap, which would leave
# dockerd running (record-scenario.js's timeout sends TERM): turn them into an exit.
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 130' INT
