#!/usr/bin/env bash
# Runs the lab and live test files RUNS times in a row and stops at the first failure;
# with --stress, run number STRESS_RUN (default 3) has both cores busy (stress-ng --cpu 2,
# bounded to that run). This is how "the lab passes five runs in a row, one under load" is
# measured (issue 11); it is not part of npm test.
# Usage: test/lab/repeat-lab-tests.sh [RUNS=5] [--stress]   (root, after npx tsc -p tsconfig.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
stress=${2:-}
files=(dist/test/lab-record.test.js dist/test/live-capture.test.js dist/test/live-hardening.test.js dist/test/any-device-lab.test.js
  dist/test/docker-lab.test.js dist/test/context-netns.test.js dist/test/native-netns.test.js dist/test/native-capture.test.js
  dist/test/kernel-trace-session.test.js dist/test/trace-leftovers.test.js)
for extra in dist/test/docker-remedies.test.js dist/test/docker-swarm-remedies.test.js; do [ -e "$extra" ] && files+=("$extra"); done
for run in $(seq "$runs"); do
  load=""
  if [ "$stress" = "--stress" ] && [ "$run" = "${STRESS_RUN:-3}" ]; then
    stress-ng --cpu 2 --timeout 1800s --quiet & load=$!
  fi
  start=$(date +%s)
  if node --test --test-concurrency=1 "${files[@]}" >"/tmp/synscope-repeat-$run.log" 2>&1; then result=pass; else result=FAIL; fi
  [ -n "$load" ] && kill "$load" 2>/dev/null && wait "$load" 2>/dev/null || true
  echo "run $run${load:+ (stress-ng --cpu 2)}: $result in $(( $(date +%s) - start )) s, $(grep -E '^# (pass|fail)' "/tmp/synscope-repeat-$run.log" | tr '\n' ' ')"
  [ "$result" = pass ] || { grep -E '^not ok' "/tmp/synscope-repeat-$run.log" >&2; exit 1; }
done
