#!/usr/bin/env bash
# Backup benchmark (bench/backup/README.md): a node holding N objects.
#
#   [SEED=DIR] [ROUNDS=3] [MAX_RATE=128M] bench/backup/run.sh BUILD_DIR [N] [SECONDS]
#
# 1. seeds a data directory with N indicators (bench/taxii/gen.py +
#    `meridian import`; SEED=DIR keeps and reuses it), signs a checkpoint;
# 2. starts `meridian serve` (plain HTTP, --rate 0) and measures TAXII read
#    throughput with wrk (GET objects?limit=100) for SECONDS alone, then
#    for SECONDS while `meridian backup` runs back to back, ROUNDS times
#    (with MAX_RATE, also while `backup --max-rate MAX_RATE` runs);
#    prints each backup's wall and CPU time;
# 3. stops the server and times what people use today on the stopped
#    node: `sqlite3 .backup` of meridian.db and `cp -a` of the directory,
#    and `meridian backup` of the stopped node, then `meridian restore`;
# 4. times `meridian migrate` from schema 7 (before the lifecycle columns)
#    and from schema 1 (every migration).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [N] [SECONDS]}
n=${2:-1000000}
secs=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "$build" && pwd)/meridian
out=${OUT:-$root/bench/out/backup}
rm -rf "$out"
mkdir -p "$out"
data=$out/data
seed=${SEED:-}

if [ -n "$seed" ] && [ -s "$seed/coll" ]; then
  echo "== copy seed $seed"
  cp -a "$seed/data" "$data"
  cp "$seed/token" "$seed/coll" "$out/"
else
  echo "== seed $n objects"
  "$bin" init --data "$data" --org bench >"$out/token" 2>/dev/null
  "$bin" collection create --data "$data" --api-root bench --title bench >"$out/coll" 2>/dev/null
  /usr/bin/python3 "$root/bench/taxii/gen.py" "$n" "$out/gen" "$out/ids"
  t0=$(date +%s.%N)
  for f in "$out"/gen/part-*.json; do
    "$bin" import --data "$data" --collection "$(cat "$out/coll")" "$f" 2>>"$out/import.log"
  done
  echo "   imported in $(echo "$(date +%s.%N) - $t0" | bc) s"
  rm -rf "$out/gen"
  "$bin" ledger checkpoint --data "$data" >/dev/null
  if [ -n "$seed" ]; then
    mkdir -p "$seed"
    cp -a "$data" "$seed/data"
    cp "$out/token" "$out/coll" "$seed/"
  fi
fi
TOKEN=$(cat "$out/token")
export TOKEN
coll=$(cat "$out/coll")
du -sh "$data" "$data/meridian.db" "$data/ledger" | sed 's/^/   size: /'

"$bin" serve --data "$data" --listen 127.0.0.1:0 --ready-file "$out/ready" --rate 0 --http \
  2>"$out/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do [ -s "$out/ready" ] && break; sleep 0.1; done
url=http://$(cat "$out/ready")/bench/collections/$coll/objects/?limit=100

reads() { # label: wrk for $secs, prints req/s
  wrk -t2 -c16 -d"${secs}s" -s "$root/bench/taxii/get.lua" "$url" 2>/dev/null |
    awk -v l="$1" '/Requests\/sec/ {printf "   %-28s %10s req/s\n", l, $2}'
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# label, command...: wall time, user+sys CPU seconds (which the other
# engineers' load inflates much less than wall time), the load average.
timeit() {
  local l=$1
  shift
  if /usr/bin/time -f "%e %U %S" -o "$out/time.txt" "$@" >/dev/null 2>"$out/timeit.log"; then
    read -r e u s <"$out/time.txt"
    printf "   %-40s %6.1f s wall %6.1f s cpu (user %.1f sys %.1f)  load %s\n" "$l" "$e" \
      "$(echo "$u + $s" | bc)" "$u" "$s" "$(load)"
  else
    echo "   $l: FAILED"
    cat "$out/timeit.log"
  fi
}

# Reads alone and while backups run back to back, alternated ROUNDS
# times: the machine's load moves a lot between minutes, so compare each
# "during" with the "alone" right before it.
echo "== TAXII reads (wrk -t2 -c16, GET objects limit=100, ${secs} s each, ${ROUNDS:=3} rounds)"
: >"$out/backups.txt"
# during(label, backup options...): reads while backups run back to back.
during() {
  local l=$1
  shift
  (
    end=$(($(date +%s) + secs))
    while [ "$(date +%s)" -lt "$end" ]; do
      timeit "backup $* while serving (round $r)" "$bin" backup --data "$data" "$@" \
        -o "$out/online.backup" >>"$out/backups.txt"
    done
  ) &
  bpid=$!
  sleep 0.2
  reads "round $r $l"
  wait $bpid
}
for r in $(seq "$ROUNDS"); do
  reads "round $r alone"
  during "during backups"
  # MAX_RATE=128M: the same with `backup --max-rate`, right after
  [ -z "${MAX_RATE:-}" ] || during "during --max-rate $MAX_RATE" --max-rate "$MAX_RATE"
done
cat "$out/backups.txt"
echo "   backup file: $(stat -c %s "$out/online.backup") bytes"
kill -TERM $pid
wait $pid || true
trap - EXIT

echo "== the stopped node (what people use today, then meridian)"
rm -rf "$out/cp" "$out/sq.db" "$out/stopped.backup" "$out/restored"
sync
timeit "sqlite3 meridian.db .backup" sqlite3 "$data/meridian.db" ".backup $out/sq.db"
timeit "cp -a DIR" cp -a "$data" "$out/cp"
timeit "meridian backup (stopped node)" "$bin" backup --data "$data" -o "$out/stopped.backup"
timeit "meridian backup verify" "$bin" backup verify "$out/stopped.backup"
timeit "meridian restore (checks everything)" "$bin" restore "$out/stopped.backup" --data "$out/restored"
rm -rf "$out/cp" "$out/sq.db" "$out/stopped.backup" "$out/restored"

echo "== meridian migrate"
for v in 7 1; do
  rm -rf "$out/mig"
  cp -a "$data" "$out/mig"
  /usr/bin/python3 "$here/downgrade.py" "$out/mig/meridian.db" "$v"
  timeit "migrate from schema $v" "$bin" migrate --data "$out/mig"
done
rm -rf "$out/mig"
