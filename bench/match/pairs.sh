#!/bin/bash
# Interleaved before/after pairs of whole `meridian match` runs (1m indicators,
# the three generated logs), the steadier comparison on a shared machine.
#   bench/match/pairs.sh BEFORE_BIN AFTER_BIN CORPUS_DIR [PAIRS]
# CORPUS_DIR is what match-gen wrote (see README.md). Prints, per run: the
# load phase, the scan phase (meridian's own figures), wall, CPU, peak RSS
# and the load average; the hits of the last runs stay in CORPUS_DIR.
set -euo pipefail
before=$1 after=$2 d=$3 pairs=${4:-5}
files="$d/access.log $d/dns.log $d/fw.csv"
cat $files > /dev/null # warm the page cache
for _ in $(seq 1 "$pairs"); do
  for which in before after; do
    bin=$before
    [ $which = after ] && bin=$after
    /usr/bin/time -f "%e wall %U user %S sys %M KB" "$bin" match --subdomains \
      --indicators "$d/ind-1m.json" --hits "$d/hits-$which.jsonl" $files \
      > "$d/sum-$which.txt" 2> "$d/err-$which.txt"
    echo "$which load $(grep -o 'in [0-9.]* s;' "$d/err-$which.txt") scan" \
      "$(grep -o 'in [0-9.]* s (' "$d/sum-$which.txt") $(tail -1 "$d/err-$which.txt")" \
      "loadavg=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
