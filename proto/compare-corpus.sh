#!/bin/sh
# Diffs the C and JS per-flow outputs on every Ethernet capture under $ROOTS
# (classic pcap as is; pcapng converted with editcap -F pcap when that works).
# Usage: ROOTS="/work/shared/corpus /work/proto/captures" sh proto/compare-corpus.sh [outdir]
OUT=${1:-proto/out/corpus}
ROOTS=${ROOTS:-/work/shared/corpus}
mkdir -p "$OUT/pcap"
files=0; same=0; differ=0; skipped=0; flows=0
for f in $(find $ROOTS -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | sort); do
  name=$(echo "$f" | sed 's#^/work/##; s#/#__#g')
  in="$f"
  case "$f" in
    *.pcapng) in="$OUT/pcap/$name.pcap"; editcap -F pcap "$f" "$in" >/dev/null 2>&1 || { skipped=$((skipped+1)); continue; } ;;
  esac
  if ! ./proto/track --flows "$in" > "$OUT/$name.c.txt" 2>"$OUT/$name.c.err"; then skipped=$((skipped+1)); rm -f "$OUT/$name.c.txt"; continue; fi
  node proto/js-flows.js --flows "$in" > "$OUT/$name.js.txt" 2>"$OUT/$name.js.err"
  files=$((files+1))
  n=$(wc -l < "$OUT/$name.js.txt"); flows=$((flows+n))
  if cmp -s "$OUT/$name.c.txt" "$OUT/$name.js.txt"; then same=$((same+1)); else differ=$((differ+1)); echo "DIFF $name"; fi
done
echo "files compared $files identical $same differ $differ skipped(not classic-pcap Ethernet) $skipped flows(js) $flows"
