#!/usr/bin/env bash
# Scenario accept-queue-overflow: a service listens with a tiny backlog (listen(1): the
# accept queue holds two connections) and stalls without calling accept() (an
# application busy at start-up), then accepts everything. Two clients connect first and
# fill the queue; a burst of four more follows at once. Their SYNs are dropped silently
# (TcpExt.ListenOverflows / ListenDrops). Two of them give up after 2.5 s (SYN at 0 s and
# its retransmission at 1 s, both dropped): unanswered. Two wait longer: their third SYN
# (3 s) arrives after the server has drained the queue (2 s) and is answered, 3 s late.
# Writes OUT.pcapng (synscope live --write on eth0 in the server namespace) and CONTEXT.json
# (the host context synscope live --write took in the server namespace, with the kernel
# counters of the capture window, which show the overflow).
# Usage: record-accept-queue-overflow.sh OUT.pcapng CONTEXT.json   (root; about 10 s)
#
# Verdict: one `listen-overflow` error for 192.0.2.1:8080 (4 handshakes completed, 2
# attempts unanswered, 2 answered about 3 s late; TcpExt.ListenOverflows rose during the
# capture, so confidence high). The exact counter values depend on how many SYNs the
# kernel dropped and are not part of the expectation.
source "$(dirname "$0")/netns-lab.sh"
out=$(realpath -m "$1")
ctx=$(realpath -m "$2")

lab_ns host; lab_ns client
lab_link host eth0 client eth0
lab_in host ip addr add 192.0.2.1/24 dev eth0
lab_in client ip addr add 192.0.2.30/24 dev eth0

# Classic SYN retransmission times on every kernel (1 s, 3 s, 7 s): Linux 6.7+ would
# otherwise retransmit linearly (tcp_syn_linear_timeouts), older kernels have no such knob.
lab_in client sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
go=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$go"' EXIT

lab_capture host "$out" 8 eth0
# listen(1); no accept() until 2 s after the burst starts; then accept and answer everyone.
lab_in host timeout 12 python3 -c "
import os, socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 8080)); s.listen(1)
open('$go/listening', 'w').close()
while not os.path.exists('$go/burst'): time.sleep(0.01)
time.sleep(2)
while True:
    c, _ = s.accept(); c.sendall(b'hello\\n'); c.close()
" &
# The accept queue's length is the listener's Recv-Q in `ss -lnt`.
queued() { [ "$(ip netns exec "$LAB-host" ss -Hltn 'sport = :8080' | awk '{print $2}')" = "$1" ]; }
# A SYN before the socket listens would be refused with RST.
lab_wait "the listener" 30 test -e "$go/listening"
# Two connections fill the accept queue (it is full when sk_ack_backlog > backlog).
# They wait for the server (they end when it answers), however slow the machine.
lab_connect client 192.0.2.1 8080 30 &
lab_wait "the first queued connection" 30 queued 1
lab_connect client 192.0.2.1 8080 30 &
lab_wait "the second queued connection" 30 queued 2
# The burst: SYNs at 0 s and 1 s are dropped; the server drains the queue 2 s after they are
# all out; the SYNs of those still trying at 3 s are answered.
connecting() { [ "$(ip netns exec "$LAB-client" ss -Htn state syn-sent | wc -l)" = "$1" ]; }
lab_connect client 192.0.2.1 8080 2.5 &
lab_connect client 192.0.2.1 8080 2.5 &
lab_connect client 192.0.2.1 8080 5 &
lab_connect client 192.0.2.1 8080 5 &
lab_wait "the burst's four SYNs" 10 connecting 4
touch "$go/burst"
lab_capture_stop
lab_context "$out" "$ctx"
echo "wrote $out and $ctx"
