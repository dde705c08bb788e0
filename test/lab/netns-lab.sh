#!/usr/bin/env bash
# Small helpers to build throw-away network namespaces for recorded scenarios.
# Every namespace name starts with $LAB (unique per run) and is removed by lab_cleanup,
# which sourcing this file installs as the EXIT trap (strict mode is on too).
# Nothing here touches the namespace the script runs in, except creating the namespaces.
set -euo pipefail

LAB="ss$$"
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
LAB_NAMESPACES=()

lab_ns() { # lab_ns NAME: create namespace $LAB-NAME with loopback up
  local ns="$LAB-$1"
  ip netns add "$ns"
  LAB_NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  # IPv6 router/neighbour chatter would only add noise to the recorded captures.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

lab_in() { # lab_in NAME CMD...: run a command inside $LAB-NAME
  local ns="$LAB-$1"; shift
  ip netns exec "$ns" "$@"
}

lab_link() { # lab_link NS1 IF1 NS2 IF2: a veth pair between two namespaces
  ip link add "$LAB-tmp1" type veth peer name "$LAB-tmp2"
  ip link set "$LAB-tmp1" netns "$LAB-$1"
  ip link set "$LAB-tmp2" netns "$LAB-$3"
  ip -n "$LAB-$1" link set "$LAB-tmp1" name "$2"
  ip -n "$LAB-$3" link set "$LAB-tmp2" name "$4"
  ip -n "$LAB-$1" link set "$2" up
  ip -n "$LAB-$3" link set "$4" up
}

lab_lan() { # lab_lan NS...: a switch namespace "lan" with a bridge, each NS's eth0 plugged into it
  lab_ns lan
  lab_in lan ip link add lan type bridge
  lab_in lan ip link set lan up
  local ns
  for ns in "$@"; do
    lab_link "$ns" eth0 lan "p-$ns"
    lab_in lan ip link set "p-$ns" master lan
  done
}

lab_docker0() { # lab_docker0 HOST CTR VETH ADDR: docker0 172.17.0.1/16 in HOST, forwarding on, and
  # a container namespace CTR plugged in by VETH with ADDR/16 and its default route via the bridge
  lab_in "$1" ip link add docker0 type bridge
  lab_in "$1" ip addr add 172.17.0.1/16 dev docker0
  lab_in "$1" ip link set docker0 up
  lab_in "$1" sysctl -qw net.ipv4.ip_forward=1
  lab_link "$1" "$3" "$2" eth0
  lab_in "$1" ip link set "$3" master docker0
  lab_in "$2" ip addr add "$4/16" dev eth0
  lab_in "$2" ip route add default via 172.17.0.1
}

lab_cleanup() {
  disown -a 2>/dev/null || true # the lab's servers end here; no "Terminated" job notices
  local ns
  for ns in "${LAB_NAMESPACES[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    # Until they are gone (5 s at most): a server still exiting holds the lab's files and would be a leftover.
    for _ in $(seq 50); do
      [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
      sleep 0.1
    done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# lab_connect NS HOST PORT SECONDS: one TCP connection attempt, bounded in time.
# Linux retransmits an unanswered SYN after 1 s and 3 s, so 4 s gives three SYNs.
lab_connect() {
  lab_in "$1" timeout "$4" bash -c "exec 3<>/dev/tcp/$2/$3 && head -c 64 <&3 >/dev/null" 2>/dev/null || true
  # A failed connection is the scenario; a namespace gone from under the lab is not.
  [ -e "/run/netns/$LAB-$1" ] || { echo "lab: namespace $LAB-$1 disappeared during the recording" >&2; exit 1; }
}

# lab_wait WHAT SECONDS CMD...: run CMD until it succeeds, at most SECONDS; on time-out say
# what was awaited and fail. Every lab step that starts something waits here for it to be
# ready (a listener, an open capture handle), never on a fixed sleep.
lab_wait() {
  local what="$1" secs="$2"; shift 2
  local until=$(( $(date +%s%N) + ${secs%.*} * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s%N)" -gt "$until" ]; then
      echo "lab: timed out after ${secs} s waiting for $what" >&2
      return 1
    fi
    sleep 0.02
  done
}

# lab_listening NS PORT: true once a TCP socket listens on PORT inside $LAB-NS (no traffic sent).
lab_listening() {
  [ -n "$(ip netns exec "$LAB-$1" ss -Hltn "sport = :$2")" ]
}

# lab_serve NS PORT [SECONDS]: a TCP server answering "hello" to every connection, for at
# most SECONDS (default 60; cleanup ends it sooner). Returns once it accepts connections.
lab_serve() {
  lab_in "$1" timeout "${3:-60}" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $2)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b'hello\\n'); c.close()
" &
  lab_wait "a listener on port $2 in $LAB-$1" 30 lab_listening "$1" "$2"
}

# lab_capture NS OUT SECONDS IF...: `synscope live --write` on several interfaces into one
# pcapng (interface names kept in the IDBs; OUT's host context is written beside it).
# Returns once synscope says its handles are open; lab_capture_stop ends it. SECONDS only
# bounds the capture should the recorder never stop it. LAB_DOCKER_SOCKET, when set, is the
# Docker socket the context is read from (docker-lab.sh's docker_capture sets it to a node's);
# LAB_LIVE_JSON, when set, the file the live run's report JSON goes to (else nowhere).
lab_capture() {
  local ns="$1" out="$2" secs="$3"; shift 3
  local args=() log
  for i in "$@"; do args+=(-i "$i"); done
  log=$(mktemp)
  # Not through lab_in: a function run in the background is a subshell, and $! must be the
  # capture itself for lab_capture_stop's SIGTERM to reach it.
  ip netns exec "$LAB-$ns" node "$LAB_REPO/bin/synscope.js" live "${args[@]}" --duration "$(( ${secs%.*} + 60 ))s" --write "$out" --no-trace --json \
    --docker-socket "${LAB_DOCKER_SOCKET:-/nonexistent/docker.sock}" >"${LAB_LIVE_JSON:-/dev/null}" 2>"$log" &
  LAB_CAPTURE_PID=$!
  lab_wait_log "$log" 'capturing on' "$LAB_CAPTURE_PID" "synscope live in $LAB-$ns"
  lab_wait_context "$out"
}

# lab_wait_context OUT: wait until `synscope live --write OUT` holds the host context of the
# capture's start (collected in a child after "capturing on"), so that whatever the recorder
# changes next on the host falls after that snapshot every time, however busy the machine.
lab_wait_context() {
  lab_wait "synscope's host context of the capture's start" 30 lab_context_collected "${1%.pcapng}.context.json"
}
# True once collected; also (so lab_wait ends at once) when the capture has exited: its wait says why.
lab_context_collected() { { [ -s "$1" ] && ! grep -q 'before the host context was collected' "$1"; } || ! kill -0 "$LAB_CAPTURE_PID" 2>/dev/null; }

# lab_wait_log LOG TEXT PID WHAT: wait until LOG holds TEXT; fail (showing LOG) if PID exits first.
lab_wait_log() {
  local log="$1" text="$2" pid="$3" what="$4"
  local until=$(( $(date +%s) + 30 ))
  until grep -q "$text" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -gt "$until" ]; then
      echo "lab: $what did not start:" >&2; cat "$log" >&2; rm -f "$log"
      return 1
    fi
    sleep 0.02
  done
  rm -f "$log"
}

# lab_capture_stop [PID...]: once the recorder's traffic is over and the lab's connections
# have settled (no socket left mid-handshake or mid-close), stop the captures (default: the
# last one started) with SIGTERM, which flushes and closes the file, and wait for them.
lab_capture_stop() {
  local pids=("$@")
  [ ${#pids[@]} -gt 0 ] || pids=("$LAB_CAPTURE_PID")
  lab_wait "the lab's connections to settle" 15 lab_settled || true
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
}

# lab_settled: true when no lab namespace holds a TCP socket that is connecting,
# established or closing (SYN-RECV is left out: a server whose SYN-ACKs are lost keeps
# retransmitting them for a minute, and TIME-WAIT lasts a minute after every close).
lab_settled() {
  local ns
  for ns in "${LAB_NAMESPACES[@]}"; do
    [ -z "$(ip netns exec "$ns" ss -Htn state syn-sent state established state fin-wait-1 state fin-wait-2 state closing state last-ack state close-wait 2>/dev/null)" ] || return 1
  done
}

# lab_context OUT CONTEXT: keep the host context `synscope live --write OUT` wrote beside the
# capture (the capturing namespace's snapshot plus the window's kernel counters) as CONTEXT.
lab_context() {
  local written="${1%.pcapng}.context.json"
  [ "$written" -ef "$2" ] || mv "$written" "$2"
}

# lab_tcpdump NS OUT SECONDS TCPDUMP-ARGS...: tcpdump writing classic pcap (for the link types
# and timestamp resolutions dumpcap's pcapng does not give). Returns once tcpdump listens;
# lab_capture_stop ends it (SECONDS + 60 bounds it otherwise).
lab_tcpdump() {
  local ns="$1" out="$2" secs="$3"; shift 3
  local log
  log=$(mktemp)
  ip netns exec "$LAB-$ns" timeout "$(( ${secs%.*} + 60 ))" tcpdump -q -s 256 "$@" -w "$out" 2>"$log" &
  LAB_CAPTURE_PID=$!
  lab_wait_log "$log" 'listening on' "$LAB_CAPTURE_PID" "tcpdump in $LAB-$ns"
}

trap lab_cleanup EXIT

lab_timings() { # lab_timings FILE: lab_step appends "NAME SECONDS" lines to FILE (emptied now)
  LAB_TIMINGS=$1
  : >"$LAB_TIMINGS"
  lab_step_start=$SECONDS
}

lab_step() { # lab_step NAME: the seconds since the last step (or lab_timings), into the timings file
  echo "$1 $((SECONDS - lab_step_start))" >>"$LAB_TIMINGS"
  lab_step_start=$SECONDS
}
