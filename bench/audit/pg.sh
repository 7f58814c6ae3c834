#!/usr/bin/env bash
# The access audit's cost on PostgreSQL (bench/audit/README.md): run.sh's
# comparison -- the same build on N indicators at TLP:GREEN (never
# recorded) and at TLP:AMBER (every object read by the own org recorded),
# OLD beside NEW in the same round -- with one `meridian serve` on a
# PostgreSQL 15 cluster of its own (bench/pg/seed.sh, bench/pg/reads.sh).
#
#   bench/audit/pg.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]
#
# Each build seeds its own GREEN and AMBER sets once (bench/out/audit/
# pg-BUILD-TLP; delete them to seed again): the two schemas differ. The
# cost counts the CPU of meridian AND of PostgreSQL (the inserts run in
# the server): req/cpu-s = requests / (meridian + postgres CPU seconds).
# The AMBER sets keep the audit rows of earlier rounds (reads.sh reads the
# seed itself): the audit table grows by round, the objects do not.
set -euo pipefail
old=${1:?usage: pg.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]}
new=${2:?usage: pg.sh OLD_BUILD NEW_BUILD [N] [SECONDS] [ROUNDS]}
n=${3:-50000}
secs=${4:-10}
rounds=${5:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/bench/out/audit
mkdir -p "$out"
results=$out/pg-results.txt
: >"$results"

for tag in old new; do
  build=$old
  [ "$tag" = new ] && build=$new
  for tlp in green amber; do
    seed=$out/pg-$tag-$tlp
    if [ ! -s "$seed/coll" ] || [ ! -d "$seed/pg1" ]; then
      echo "### seed $tag $tlp ($build)  $(date -u +%H:%M:%S)  load $(cut -d' ' -f1-3 /proc/loadavg)"
      TLP=$tlp "$root/bench/pg/seed.sh" "$build" "$n" "$seed" | grep -E 'import|bytes'
    fi
  done
done

for round in $(seq "$rounds"); do
  for tag in old new; do
    build=$old
    [ "$tag" = new ] && build=$new
    for tlp in green amber; do
      echo "### round $round $tag ($build) $tlp  $(date -u +%H:%M:%S)  load $(cut -d' ' -f1-3 /proc/loadavg)"
      STORES=pg1 ONLY='GET objects limit|by id' "$root/bench/pg/reads.sh" "$build" "$secs" \
        "$out/pg-$tag-$tlp" | grep 'req/s' | tee "$out/pg-last.txt"
      # "round tag tlp scenario req/s req/cpu-s"
      awk -v r="$round" -v t="$tag" -v l="$tlp" -v secs="$secs" '/req\/s/ {
          s = ($2 == "objects") ? "pages" : "by-id"
          for (i = 1; i <= NF; i++) {
            if ($i == "req/s") rps = $(i - 1)
            if ($i == "meridian") m = $(i + 1)
            if ($i == "postgres") p = $(i + 1) }
          print r, t, l, s, rps, (m + p > 0) ? rps * secs / (m + p) : 0 }' \
        "$out/pg-last.txt" >>"$results"
    done
  done
done

echo
echo "audit cost on PostgreSQL = 1 - AMBER/GREEN in req/cpu-s (meridian + postgres):"
awk '{ v[$1 " " $2 " " $4 " " $3] = $6; k[$1 " " $2 " " $4] = 1 }
  END { for (x in k) { g = v[x " green"]; a = v[x " amber"]
          if (g > 0) printf "  round %s %-3s %-5s green %6d  amber %6d req/cpu-s  cost %+.0f%%\n",
            substr(x, 1, index(x, " ") - 1), substr(x, index(x, " ") + 1, 3), substr(x, index(x, " ") + 5),
            g, a, 100 * (1 - a / g) } }' "$results" | sort
