#!/usr/bin/env bash
# bench/pg/post.sh: TAXII POST ingest alone, CPU per object, on a fresh node
# (bench/pg/README.md, "POST ingest").
#
#   bench/pg/post.sh BUILD_DIR [ENVELOPES] [SIZE] [CONNS]
#
# For each store of STORES (default "pg1"; "sqlite pg1" for both side by
# side): a fresh node and `meridian serve`, one envelope to warm up, then
# ENVELOPES envelopes (default 20) of SIZE new indicators (default 1000)
# posted over CONNS connections (default 4; bench/pg/post.py, generated
# before the clock starts). Prints objects/s, the CPU (user+sys) of
# meridian serve and of the whole PostgreSQL cluster per object stored,
# the cluster's busiest processes, then the same for the time the node
# takes afterwards to record the new versions in its ledger (background
# work the ingest causes). The cluster is Debian's PostgreSQL 15
# (lib.sh: fsync and synchronous_commit on: every acknowledged POST is
# durable). PG_STATS=1: pg_stat_statements over the POSTs (ms per call,
# calls, rows). PERF=1: `perf record` of the cluster and serve over the
# POSTs, then the top symbols per process kind. BUILD_DIR2 set: each store
# is run once with BUILD_DIR and once with BUILD_DIR2, alternating
# (ROUNDS, default 1), for a before/after in one run.
set -euo pipefail
build=${1:?usage: post.sh BUILD_DIR [ENVELOPES] [SIZE] [CONNS]}
envs=${2:-20}
size=${3:-1000}
conns=${4:-4}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
builds=("$(cd "$build" && pwd)")
[ -n "${BUILD_DIR2:-}" ] && builds+=("$(cd "$BUILD_DIR2" && pwd)")
out=$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench-post-XXXXXX")
chmod 755 "$out" # the cluster runs as nobody when run as root (lib.sh)
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"

pgdir=$out/pg
sp=""
cleanup() {
  [ -z "$sp" ] || { kill -TERM "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true; }
  pg_stop
  rm -rf "$out"
}
trap cleanup EXIT
if [ -n "${PG_STATS:-}" ]; then
  PG_OPTS="${PG_OPTS:-} -c shared_preload_libraries=pg_stat_statements"
  PG_OPTS+=" -c pg_stat_statements.track=all"
fi
pg_start "$pgdir"

proc_ticks() { # "pid ticks comm" of the cluster's processes
  local c
  for c in $pm $(ps -o pid= --ppid "$pm"); do
    printf '%s %s %s\n' "$c" "$(cpu_ticks "$c")" "$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | cut -c1-60)"
  done
}

# the cluster's processes that used the most CPU between two proc_ticks
busiest() { # before after
  awk 'NR == FNR { t[$1] = $2; next } { d = $2 - t[$1]; $2 = ""; if (d > 0) printf "%6d %s\n", d, $0 }' \
    "$1" "$2" | sort -rn | head -5 |
    awk -v hz="$hz" '{ printf "      %6.2f s  %s\n", $1 / hz, substr($0, index($0, $2)) }'
}

caught_up() { # db: the ledger holds every stored version
  [ "$(psql_ "SELECT coalesce(max(seq), 0) = coalesce((SELECT max(seq) FROM object_leaves), 0)
               FROM objects" "$1")" = t ]
}

run_one() { # store build
  local kind=$1 bin=$2/meridian d db="" token coll url m0 p0 m1 p1 m2 p2 t0 t1 t2 n0 n1
  d=$out/$kind.$RANDOM
  mkdir -p "$d"
  if [ "$kind" = sqlite ]; then
    token=$("$bin" init --data "$d/data" --org bench 2>/dev/null)
  else
    db=bench_$RANDOM$RANDOM
    psql_ "CREATE DATABASE $db" >/dev/null
    [ -n "${PG_STATS:-}" ] && psql_ "CREATE EXTENSION pg_stat_statements" "$db" >/dev/null
    token=$("$bin" init --data "$d/data" --org bench \
      --store "postgresql://meridian@127.0.0.1:$port/$db" 2>/dev/null)
  fi
  coll=$("$bin" collection create --data "$d/data" --api-root bench --title bench 2>/dev/null)
  "$bin" serve --data "$d/data" --listen 127.0.0.1:0 --ready-file "$d/ready" --rate 0 \
    --threads "${SERVE_THREADS:-16}" --http >/dev/null 2>"$d/serve.log" &
  sp=$!
  for _ in $(seq 300); do [ -s "$d/ready" ] && break; sleep 0.1; done
  [ -s "$d/ready" ] || { echo "serve did not start: $(tail -3 "$d/serve.log")" >&2; exit 1; }
  url=http://$(cat "$d/ready")
  local path=/bench/collections/$coll/objects/
  /usr/bin/python3 "$here/post.py" "$url" "$path" "$token" 1 "$size" 1 "ffff0000" >/dev/null
  if [ -n "$db" ]; then
    for _ in $(seq 600); do caught_up "$db" && break; sleep 0.1; done
    [ -n "${PG_STATS:-}" ] && psql_ "SELECT pg_stat_statements_reset()" "$db" >/dev/null
  fi
  echo "== $kind ($2): $envs envelopes of $size indicators, $conns connections"
  proc_ticks >"$d/t0"
  m0=$(cpu_ticks "$sp"); p0=$(pg_ticks); t0=$(date +%s.%N)
  if [ -n "${PERF:-}" ]; then
    perf record -q -F 499 -o "$d/perf.data" \
      -p "$(echo "$sp" "$pm" $(ps -o pid= --ppid "$pm") | tr -s ' \n' ',' | sed 's/,$//')" \
      2>/dev/null &
    local perf=$!
  fi
  /usr/bin/python3 "$here/post.py" "$url" "$path" "$token" "$envs" "$size" "$conns" | sed 's/^/   /'
  [ -n "${PERF:-}" ] && { kill -INT "$perf"; wait "$perf" || true; }
  m1=$(cpu_ticks "$sp"); p1=$(pg_ticks); t1=$(date +%s.%N)
  proc_ticks >"$d/t1"
  n0=$((envs * size))
  printf '   POSTs: wall %.2f s, cpu meridian %s s, postgres %s s; per object: meridian %.1f us, postgres %s us; load %s\n' \
    "$(echo "$t1 - $t0" | bc)" "$(secs_of $((m1 - m0)))" \
    "$([ -n "$db" ] && secs_of $((p1 - p0)) || echo -)" \
    "$(echo "($m1 - $m0) * 1000000 / $hz / $n0" | bc -l)" \
    "$([ -n "$db" ] && printf %.1f "$(echo "($p1 - $p0) * 1000000 / $hz / $n0" | bc -l)" || echo -)" "$(load_avg)"
  if [ -n "$db" ]; then
    echo "   busiest PostgreSQL processes during the POSTs (CPU s):"
    busiest "$d/t0" "$d/t1"
    for _ in $(seq 1200); do caught_up "$db" && break; sleep 0.1; done
    m2=$(cpu_ticks "$sp"); p2=$(pg_ticks); t2=$(date +%s.%N)
    printf '   then the ledger catching up: wall %.2f s, cpu meridian %s s, postgres %s s\n' \
      "$(echo "$t2 - $t1" | bc)" "$(secs_of $((m2 - m1)))" "$(secs_of $((p2 - p1)))"
    n1=$(psql_ "SELECT count(*) FROM objects" "$db")
    echo "   objects stored: $n1"
  fi
  if [ -n "${PG_STATS:-}" ] && [ -n "$db" ]; then
    psql_ "SELECT round(total_exec_time)::text || ' ms', calls, rows,
             round((total_exec_time / calls)::numeric, 2), left(regexp_replace(query, '\s+', ' ', 'g'), 100)
           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15" "$db" | sed 's/^/      /'
  fi
  kill -TERM "$sp"
  wait "$sp" || true
  sp=""
  if [ -n "${PERF:-}" ]; then
    echo "   perf (self, by process and symbol; top 40):"
    perf report -q -i "$d/perf.data" --no-children --sort comm,dso,sym 2>/dev/null |
      grep -v '^$' | grep -v '^ *|' | grep -v -- '---' | head -40 | cut -c1-150 | sed 's/^/      /'
  fi
}

for _ in $(seq "${ROUNDS:-1}"); do
  for s in ${STORES:-pg1}; do
    for b in "${builds[@]}"; do run_one "$s" "$b"; done
  done
done
