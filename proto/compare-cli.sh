#!/bin/sh
# synscope analyze with the JS tracker vs SYNSCOPE_NATIVE_TRACKER=1, byte-compared, per capture and format.
# usage: sh proto/compare-cli.sh FILE... (from the repo root, after npx tsc and the addon build)
same=0; differ=0
for f in "$@"; do
  for fmt in "--json" "--json --all-flows" "--format text"; do
    node bin/synscope.js analyze "$f" $fmt > /tmp/cmp-js.out 2>/tmp/cmp-js.err; a=$?
    SYNSCOPE_NATIVE_TRACKER=1 node bin/synscope.js analyze "$f" $fmt > /tmp/cmp-c.out 2>/tmp/cmp-c.err; b=$?
    if [ $a = $b ] && cmp -s /tmp/cmp-js.out /tmp/cmp-c.out && cmp -s /tmp/cmp-js.err /tmp/cmp-c.err; then same=$((same+1)); else differ=$((differ+1)); echo "DIFFER $f $fmt (rc $a/$b)"; fi
  done
done
echo "same $same differ $differ"
