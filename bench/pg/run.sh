#!/usr/bin/env bash
# bench/taxii's scenarios on SQLite, on PostgreSQL with one front-end and on
# PostgreSQL with two front-ends, in one run (bench/pg/README.md).
#
#   bench/pg/run.sh BUILD_DIR [N] [SECONDS]
#
# Starts a throwaway PostgreSQL 15 cluster from Debian's packages (initdb in
# a temporary directory as user nobody when run as root, 127.0.0.1, fsync
# and synchronous_commit on: every acknowledged write durable), then for each
# store: a fresh node, N indicators (default 100000) loaded through TAXII
# POST (bench/taxii/load.py), and each scenario run with wrk for SECONDS
# (default 10). With two front-ends, wrk runs against both at once (half the
# connections each) and the rates are summed. Prints, per phase, wall time
# and the CPU seconds (user+sys) of meridian and of postgres, the load
# average, and the database size. MERIDIAN_BENCH_CONNS (default 16) and
# STORES (default "sqlite pg1 pg2") tune it. PG_STATS=1 loads
# pg_stat_statements (postgresql-contrib) and prints, after each PostgreSQL
# scenario, the statements that took the most time in it.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [N] [SECONDS]}
n=${2:-100000}
secs=${3:-10}
conns=${MERIDIAN_BENCH_CONNS:-16}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
taxii=$root/bench/taxii
bin=$(cd "$build" && pwd)/meridian
pgbin=/usr/lib/postgresql/15/bin
out=$root/bench/out/pg
rm -rf "$out"
mkdir -p "$out"
hz=$(getconf CLK_TCK)

# ---- the PostgreSQL cluster ----
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench-pg-XXXXXX")
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$pgdir"
  as_owner=(runuser -u nobody --)
fi
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pg_stop() {
  (cd "$pgdir" && "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w -t 60 stop \
    >/dev/null 2>&1) || true
  rm -rf "$pgdir"
}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
}
trap cleanup EXIT
(cd "$pgdir" && "${as_owner[@]}" "$pgbin/initdb" -D "$pgdir/data" -U meridian -A trust \
  -E UTF8 --locale C.UTF-8 >/dev/null)
(cd "$pgdir" && "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c max_connections=200 \
      -c shared_buffers=1GB -c max_wal_size=8GB \
      ${PG_STATS:+-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all}" \
  start >/dev/null)
pm=$(head -1 "$pgdir/data/postmaster.pid")
psql_() { psql -X -A -t -h 127.0.0.1 -p "$port" -U meridian -d "${2:-postgres}" -c "$1"; }

cpu_ticks() { # utime + stime of a process and of its reaped children, in ticks
  awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0
}
pg_ticks() { # the postmaster, its reaped children and its live ones
  local t
  t=$(cpu_ticks "$pm")
  for c in $(ps -o pid= --ppid "$pm"); do t=$((t + $(cpu_ticks "$c"))); done
  echo "$t"
}
mer_ticks() {
  local t=0
  for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}
secs_of() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }'; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

start_serve() { # data dir, log: appends its pid to sp and its URL to urls
  rm -f "$1/ready"
  "$bin" serve --data "$1" --listen 127.0.0.1:0 --ready-file "$1/ready" --rate 0 \
    --threads "${SERVE_THREADS:-16}" --http >/dev/null 2>"$2" &
  sp+=("$!")
  pids=("${sp[@]}")
  for _ in $(seq 300); do [ -s "$1/ready" ] && break; sleep 0.1; done
  [ -s "$1/ready" ] || { echo "serve did not start: $(tail -3 "$2")" >&2; exit 1; }
  urls+=("http://$(cat "$1/ready")")
}

run_store() { # sqlite | pg1 | pg2
  local kind=$1 d=$out/$1 db="" token coll
  urls=()
  sp=()
  mkdir -p "$d"
  if [ "$kind" = sqlite ]; then
    token=$("$bin" init --data "$d/data" --org bench 2>/dev/null)
  else
    db=bench_$kind
    psql_ "CREATE DATABASE $db" >/dev/null
    [ -n "${PG_STATS:-}" ] && psql_ "CREATE EXTENSION pg_stat_statements" "$db" >/dev/null
    token=$("$bin" init --data "$d/data" --org bench \
      --store "postgresql://meridian@127.0.0.1:$port/$db" 2>/dev/null)
  fi
  coll=$("$bin" collection create --data "$d/data" --api-root bench --title bench 2>/dev/null)
  [ "$kind" = pg2 ] && cp -a "$d/data" "$d/data2"
  export TOKEN=$token BASE=/bench/collections/$coll/objects/ IDS_FILE=$d/ids
  start_serve "$d/data" "$d/serve.log"
  [ "$kind" = pg2 ] && start_serve "$d/data2" "$d/serve2.log"
  echo "== $kind: load $n indicators through TAXII POST (front-end 1)"
  local m0 p0 t0 m1 p1 t1
  m0=$(mer_ticks "${sp[@]}"); p0=$(pg_ticks); t0=$(date +%s.%N)
  /usr/bin/python3 "$taxii/load.py" "${urls[0]}" "$BASE" "$TOKEN" "$n" "$IDS_FILE" "$d/mid" \
    | sed 's/^/   /'
  m1=$(mer_ticks "${sp[@]}"); p1=$(pg_ticks); t1=$(date +%s.%N)
  printf '   wall %.1f s, cpu meridian %s s, postgres %s s, load %s\n' \
    "$(echo "$t1 - $t0" | bc)" "$(secs_of $((m1 - m0)))" \
    "$([ "$kind" = sqlite ] && echo - || secs_of $((p1 - p0)))" "$(load_avg)"
  local mid
  mid=$(cat "$d/mid")
  bench() { # name, lua, path
    local name=$1 lua=$2 path=$3 k=${#urls[@]} total=0 w=() i
    [[ $name =~ ${ONLY:-.} ]] || return 0
    [ -n "${PG_STATS:-}" ] && [ -n "$db" ] && psql_ "SELECT pg_stat_statements_reset()" "$db" >/dev/null
    m0=$(mer_ticks "${sp[@]}"); p0=$(pg_ticks)
    for i in $(seq 0 $((k - 1))); do
      wrk -t1 -c$((conns / k)) -d"${secs}s" --timeout 30s --latency -s "$taxii/$lua" "${urls[$i]}$path" \
        >"$d/wrk.$i" 2>"$d/wrk.err.$i" &
      w+=("$!")
    done
    for i in "${w[@]}"; do wait "$i" || true; done
    m1=$(mer_ticks "${sp[@]}"); p1=$(pg_ticks)
    total=$(cat "$d"/wrk.[0-9]* | awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}')
    printf '   %-26s %8s req/s  p99 %8s  cpu meridian %6s s  postgres %6s s  load %s\n' \
      "$name" "$total" "$(awk '$1=="99%" {print $2}' "$d/wrk.0")" \
      "$(secs_of $((m1 - m0)))" "$([ "$kind" = sqlite ] && echo - || secs_of $((p1 - p0)))" \
      "$(load_avg)"
    rm -f "$d"/wrk.[0-9]*
    if [ -n "${PG_STATS:-}" ] && [ -n "$db" ]; then # the costliest statements, ms per call
      psql_ "SELECT round(total_exec_time)::text || ' ms', calls,
               round((total_exec_time / calls)::numeric, 2), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
             FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12" "$db" | sed 's/^/      /'
    fi
  }
  bench "GET objects limit=100" get.lua "${BASE}?limit=100"
  bench "GET object by id" get_id.lua ""
  bench "GET manifest limit=100" get.lua "${BASE%objects/}manifest/?limit=100"
  bench "GET filtered limit=100" get.lua "${BASE}?match%5Btype%5D=indicator&added_after=$mid&limit=100"
  bench "POST 100-object envelopes" post.lua "$BASE"
  echo "   (POST objects/s = req/s x 100)"
  for p in "${sp[@]}"; do kill -TERM "$p"; wait "$p" || true; done
  pids=()
  if [ "$kind" = sqlite ]; then
    echo "   db: $(du -cb "$d/data"/meridian.db* | tail -1 | cut -f1) bytes," \
      "$(sqlite3 "$d/data/meridian.db" 'SELECT count(*) FROM objects' 2>/dev/null || echo '?') objects"
  else
    echo "   db: $(psql_ "SELECT pg_database_size('$db')") bytes," \
      "$(psql_ 'SELECT count(*) FROM objects' "$db") objects"
  fi
}

for s in ${STORES:-sqlite pg1 pg2}; do run_store "$s"; done
