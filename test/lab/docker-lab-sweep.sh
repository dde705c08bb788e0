#!/usr/bin/env bash
# Lists docker-lab.sh labs whose shell is gone (SIGKILLed, so its EXIT trap never ran) and,
# with --clean, tears them down the way docker_teardown does: dockerd and everything in its
# mount namespace and cgroups, the cgroup dirs, the lab's namespaces and temp dir.
# A lab is stale when the PID in its name (LAB=ss<pid>) no longer runs bash; a lab whose
# shell still runs is never touched. Processes are found by the lab's own cgroup names, and
# by its mount namespace only while the node's reaper still runs in it.
# Usage: docker-lab-sweep.sh [--clean]   (root)
source "$(dirname "$0")/netns-lab.sh"
source "$(dirname "$0")/docker-lab.sh"
trap - EXIT TERM HUP INT
clean=false
[ "${1:-}" = --clean ] && clean=true

shopt -s nullglob
found=0
for tmp in /tmp/synscope-docker-ss*.*; do
  [ -d "$tmp" ] || continue
  lab=${tmp#/tmp/synscope-docker-}; lab=${lab%%.*}
  pid=${lab#ss}
  [[ $pid =~ ^[0-9]+$ ]] || continue
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = bash ]; then continue; fi
  found=$((found + 1))
  echo "stale lab $lab: $tmp"
  $clean || continue
  LAB=$lab DOCKER_LAB_TMP=$tmp DOCKER_LAB_NODES=() DOCKER_LAB_PIDS=()
  for dir in "$tmp"/*/; do
    node=$(basename "$dir")
    [ -f "$dir/etc/daemon.json" ] || continue
    DOCKER_LAB_NODES+=("$node")
    reaper=$(cat "$dir/reaper.pid" 2>/dev/null) || reaper=""
    # The saved reaper PID counts only while it still runs in the node's mount namespace.
    if [ -n "$reaper" ] && [ "$(stat -L -c %i "/proc/$reaper/ns/mnt" 2>/dev/null)" = "$(cat "$dir/mntns" 2>/dev/null)" ]; then
      DOCKER_LAB_PIDS[$node]=$reaper
    else
      rm -f "$dir/mntns"
    fi
  done
  docker_teardown
  for ns in $(ip netns list | awk -v p="$lab-" 'index($1, p) == 1 { print $1 }'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  echo "  cleaned"
done
[ "$found" -gt 0 ] || echo "no stale docker labs"
