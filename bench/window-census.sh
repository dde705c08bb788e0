#!/usr/bin/env bash
# What a live window's reading of the host's other network namespaces costs: N namespaces
# (default 200), each with one process and an address (as containers are), then three windows
# of synscope's KernelWindow begin() and end() timed. Root; builds and removes its own
# namespaces only. Usage: bench/window-census.sh [N]   (after npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; for i in $(seq 1 "$N"); do ip netns del "wc$$-$i" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in $(seq 1 "$N"); do
  ip netns add "wc$$-$i"
  ip -n "wc$$-$i" link set lo up
  ip -n "wc$$-$i" addr add "10.77.$((i / 250)).$((i % 250 + 1))/32" dev lo
  ip netns exec "wc$$-$i" timeout 300 sleep 300 &
  pids+=($!)
done
# Ready when every process is in its namespace (same nsfs inode as the pinned one).
entered() {
  local i
  for i in $(seq 1 "$N"); do
    [ "$(stat -Lc %i "/proc/${pids[$((i - 1))]}/ns/net" 2>/dev/null)" = "$(stat -Lc %i "/run/netns/wc$$-$i")" ] || return 1
  done
}
for _ in $(seq 1 600); do entered && break; sleep 0.05; done
entered || { echo "window-census: the processes did not enter their namespaces" >&2; exit 1; }
node -e "
const { KernelWindow } = require('./dist/src/live/kernel-window.js');
for (let round = 0; round < 3; round++) {
  const w = new KernelWindow([null], false);
  const t0 = process.hrtime.bigint(); w.begin(); const t1 = process.hrtime.bigint(); const e = w.end(); const t2 = process.hrtime.bigint();
  console.log('other namespaces read', (e.otherNamespaces ?? []).length, 'begin ms', (Number(t1 - t0) / 1e6).toFixed(1), 'end ms', (Number(t2 - t1) / 1e6).toFixed(1));
}"
