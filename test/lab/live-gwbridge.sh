#!/usr/bin/env bash
# `synscope live` against the docker_gwbridge ingress lab (gwbridge-topology.sh), while
# the lab's bounded traffic runs. MODE picks where synscope captures:
#   bridge     the node's uplink and docker_gwbridge (--netns host:eth0, host:docker_gwbridge),
#              also writing OUTDIR/capture.pcapng and its context
#   container  inside ingress_sbox, by namespace name (--netns sbox:eth1)
#   pid        inside ingress_sbox, by the PID of the service running there (--netns PID:eth1)
# Writes OUTDIR/report.json (stdout, --json), OUTDIR/stderr.txt and OUTDIR/exit-code.
# Usage: live-gwbridge.sh OUTDIR MODE [BACKEND]   (root; about 12 s)
source "$(dirname "$0")/netns-lab.sh"
source "$LAB_DIR/gwbridge-topology.sh"
outdir=$(realpath -m "$1")
mode=$2
backend=${3:-auto}

gwbridge_topology
lab_serve sbox 8080

case "$mode" in
  bridge) targets=(--netns "$LAB-host:eth0" --netns "$LAB-host:docker_gwbridge" --write "$outdir/capture.pcapng") ;;
  container) targets=(--netns "$LAB-sbox:eth1") ;;
  pid)
    pid=$(ip netns pids "$LAB-sbox" | head -n1)
    targets=(--netns "$pid:eth1") ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

# --duration only bounds the run; it is stopped with SIGTERM once the traffic has settled.
# No Docker socket: a dockerd on the machine running the tests must not lend its networks to the lab's context.
node "$LAB_REPO/bin/synscope.js" live "${targets[@]}" --backend "$backend" --duration 60s --json --docker-socket /nonexistent/docker.sock \
  >"$outdir/report.json" 2>"$outdir/stderr.txt" &
live=$!
capturing() { grep -q 'capturing on' "$outdir/stderr.txt" || ! kill -0 "$live" 2>/dev/null; }
lab_wait "synscope live to open its handles" 30 capturing
gwbridge_traffic
lab_wait "the lab's connections to settle" 15 lab_settled || true
kill -TERM "$live" 2>/dev/null || true
code=0
wait "$live" || code=$?
echo "$code" >"$outdir/exit-code"
