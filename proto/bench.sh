#!/bin/sh
# Timing of the per-packet path on the bench file: C vs JS, 3 runs each, warm page cache.
# Usage: sh proto/bench.sh [file]   (run from /work/proto after `make -C proto`)
F=${1:-/work/main/bench/out/bench-2000000.pcap}
T="/usr/bin/time -f %M_KB_%e_s_%U_user_%S_sys"
cat "$F" > /dev/null; cat "$F" > /dev/null   # warm the page cache
run() { label=$1; shift; for i in 1 2 3; do printf '%-28s ' "$label"; $T "$@" 2>&1 >/dev/null | tail -1 | tr _ ' '; done; }
run "cat > /dev/null"       sh -c "cat '$F' > /dev/null"
run "C --read-only"         ./proto/track --read-only "$F"
run "C --decode-only"       ./proto/track --decode-only "$F"
run "C --count"             ./proto/track --count "$F"
run "C --flows > /dev/null" ./proto/track --flows "$F"
run "JS --read-only"        node proto/js-flows.js --read-only "$F"
run "JS --decode-only"      node proto/js-flows.js --decode-only "$F"
run "JS --count"            node proto/js-flows.js --count "$F"
