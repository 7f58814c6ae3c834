#!/usr/bin/env bash
# The cost of the access audit on the read scenarios (bench/audit/README.md).
#
#   bench/audit/run.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]
#
# For ROUNDS rounds (default 2), for each build (OLD, then NEW), runs
# bench/taxii's "GET objects limit=100" and "GET object by id" scenarios
# (plain HTTP, wrk -t2 -c16, SECONDS each, default 10) on N indicators
# (default 50000) marked TLP:GREEN -- never recorded: the baseline -- and on
# the same N marked TLP:AMBER, read by the own org: every object returned
# is recorded. The audit's cost is 1 - AMBER / GREEN of the same build in the
# same round. The machine is shared: compare req/cpu-s (requests per second
# of the server's own CPU, user + system), printed beside req/s and the
# 1-minute load average. Each build loads its own seeds once (`meridian
# import`, bench/out/audit/seed-BUILD-TLP); every run starts from a copy.
set -euo pipefail
old=${1:?usage: run.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]}
new=${2:?usage: run.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]}
n=${3:-50000}
secs=${4:-10}
rounds=${5:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/bench/out/audit
mkdir -p "$out"
results=$out/results.txt
: >"$results"

for round in $(seq "$rounds"); do
  for tag in old new; do
    build=$old
    [ "$tag" = new ] && build=$new
    for tlp in green amber; do
      echo "### round $round $tag ($build) $tlp  $(date -u +%H:%M:%S)  load $(cut -d' ' -f1-3 /proc/loadavg)"
      TLP=$tlp LOADER=import SEED=$out/seed-$tag-$tlp SCHEMES=http \
        ONLY='GET objects limit|by id' "$root/bench/taxii/run.sh" "$build" "$n" "$secs" 2>&1 |
        grep -E 'req/s|imported|db:' | tee "$out/last.txt"
      # "round tag tlp scenario req/s req/cpu-s"
      awk -v r="$round" -v t="$tag" -v l="$tlp" '/req\/cpu-s/ {
          s = ($2 == "objects") ? "pages" : "by-id"
          for (i = 1; i <= NF; i++) { if ($i == "req/s") rps = $(i - 1); if ($i == "req/cpu-s") cpu = $(i - 1) }
          print r, t, l, s, rps, cpu }' "$out/last.txt" >>"$results"
    done
  done
done

echo
echo "audit cost = 1 - AMBER/GREEN in req/cpu-s, same build, same round:"
awk '{ v[$1 " " $2 " " $4 " " $3] = $6; k[$1 " " $2 " " $4] = 1 }
  END { for (x in k) { g = v[x " green"]; a = v[x " amber"]
          if (g > 0) printf "  round %s %-3s %-5s green %6d  amber %6d req/cpu-s  cost %+.0f%%\n",
            substr(x, 1, index(x, " ") - 1), substr(x, index(x, " ") + 1, 3), substr(x, index(x, " ") + 5),
            g, a, 100 * (1 - a / g) } }' "$results" | sort
