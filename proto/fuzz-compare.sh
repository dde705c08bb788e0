#!/bin/sh
# Random captures from fuzz-pcap.py, C vs JS per-flow output under several tracker options.
# Usage: sh proto/fuzz-compare.sh [seeds] [packets]
SEEDS=${1:-"1 2 3 4 5"}
N=${2:-100000}
D=proto/out/fuzz
mkdir -p $D
total=0; same=0
for s in $SEEDS; do
  for gen in "" "--long" "--nano --big-endian" "--long --nano"; do
    tag=$(echo "s$s$gen" | tr -d ' -')
    python3 proto/fuzz-pcap.py $s $N $D/$tag.pcap $gen
    for opt in "" "--max-live 20" "--zeek-timers"; do
      ./proto/track --flows $opt $D/$tag.pcap > $D/c.txt 2>/dev/null
      node proto/js-flows.js --flows $opt $D/$tag.pcap > $D/js.txt 2>$D/js.err || { echo "JS FAILED rc=$? $tag [$opt]"; cat $D/js.err; }
      total=$((total+1)); n=$(wc -l < $D/js.txt)
      if cmp -s $D/c.txt $D/js.txt; then same=$((same+1)); else echo "DIFF $tag [$opt]"; cp $D/c.txt $D/$tag.c.diff.txt; cp $D/js.txt $D/$tag.js.diff.txt; fi
      echo "$tag [$opt] flows $n"
    done
  done
done
echo "runs $total identical $same"
