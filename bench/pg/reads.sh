#!/usr/bin/env bash
# bench/pg/reads.sh: bench/taxii's read scenarios (wrk: get.lua, get_id.lua;
# 16 connections in all) against a seed made by bench/pg/seed.sh, on SQLite,
# on PostgreSQL with one front-end and with two, one store after the other
# in one run, with the CPU seconds of meridian and of PostgreSQL and the
# load average beside each rate (bench/pg/README.md).
#
#   bench/pg/reads.sh BUILD_DIR SECS SEED_DIR
#
# STORES (default "sqlite pg1 pg2"; "pg1 pg2" for a seed without a SQLite
# node, seed.sh VIA=pg) picks the stores, ONLY=regex the scenarios;
# PG_SOCKET=1 connects the front-ends through the cluster's Unix socket
# instead of 127.0.0.1. With two front-ends wrk runs against both at once, half the
# connections each, and the rates are added. The seed's cluster
# (SEED_DIR/pg) is started for the run and stopped at the end.
set -euo pipefail
build=${1:?usage: reads.sh BUILD_DIR SECS SEED_DIR}
secs=${2:?usage: reads.sh BUILD_DIR SECS SEED_DIR}
seed=$(cd "${3:?usage: reads.sh BUILD_DIR SECS SEED_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
taxii=$here/../taxii
bin=$(cd "$build" && pwd)/meridian
conns=${MERIDIAN_BENCH_CONNS:-16}
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
sp=()
cleanup() {
  local p
  for p in "${sp[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
}
trap cleanup EXIT

stores=${STORES:-sqlite pg1 pg2}
[ -n "${STORES:-}" ] || [ -d "$seed/sqlite" ] || stores="pg1 pg2"
token=$(cat "$seed/token")
coll=$(cat "$seed/coll")
export TOKEN=$token BASE=/bench/collections/$coll/objects/ IDS_FILE=$seed/ids
case " $stores " in *" pg"*)
  pg_start "$seed/pg"
  for fe in pg1 pg2; do
    if [ -n "${PG_SOCKET:-}" ]; then # the cluster's Unix socket, not TCP
      echo "postgresql://meridian@/bench?host=$seed/pg&port=$port" >"$seed/$fe/store.dsn"
    else
      echo "postgresql://meridian@127.0.0.1:$port/bench" >"$seed/$fe/store.dsn"
    fi
  done
  ;;
esac

start_serve() { # data dir: appends its pid to sp and its URL to urls
  rm -f "$1/ready"
  "$bin" serve --data "$1" --listen 127.0.0.1:0 --ready-file "$1/ready" --rate 0 \
    --threads "${SERVE_THREADS:-16}" --http >/dev/null 2>"$1/bench-serve.log" &
  sp+=("$!")
  for _ in $(seq 600); do [ -s "$1/ready" ] && break; sleep 0.1; done
  [ -s "$1/ready" ] || { echo "serve did not start: $(tail -3 "$1/bench-serve.log")" >&2; exit 1; }
  urls+=("http://$(cat "$1/ready")")
}

scenario() { # name, lua, path (after the URL)
  local name=$1 lua=$2 path=$3 k=${#urls[@]} w=() i m0 p0 m1 p1 total
  [[ $name =~ ${ONLY:-.} ]] || return 0
  m0=$(mer_ticks "${sp[@]}"); p0=$(pg_ticks)
  for i in $(seq 0 $((k - 1))); do
    wrk -t1 -c$((conns / k)) -d"${secs}s" --timeout 30s --latency -s "$taxii/$lua" \
      "${urls[$i]}$path" >"$out.wrk.$i" 2>"$out.wrk.err.$i" &
    w+=("$!")
  done
  for i in "${w[@]}"; do wait "$i" || true; done
  m1=$(mer_ticks "${sp[@]}"); p1=$(pg_ticks)
  total=$(cat "$out".wrk.[0-9]* | awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}')
  reqs=$(cat "$out".wrk.[0-9]* | awk '/requests in/ {s += $1} END {print s + 0}')
  printf '   %-24s %7s req/s  p99 %8s  cpu meridian %5s s  postgres %5s s  %s ms/req  load %s\n' \
    "$name" "$total" "$(awk '$1=="99%" {print $2}' "$out.wrk.0")" "$(secs_of $((m1 - m0)))" \
    "$([ -z "${pm:-}" ] && echo - || secs_of $((p1 - p0)))" \
    "$(awk -v t=$((m1 - m0 + p1 - p0)) -v n="$reqs" -v hz="$hz" \
      'BEGIN { if (n > 0) printf "%.3f", 1000 * t / hz / n; else printf "-" }')" "$(load_avg)"
  if [ -s "$out.wrk.err.0" ]; then sort "$out.wrk.err.0" | uniq -c | head -3; fi
  rm -f "$out".wrk.*
}

out=$seed/reads
for store in $stores; do
  urls=()
  sp=()
  case $store in
  sqlite) start_serve "$seed/sqlite" ;;
  pg1) start_serve "$seed/pg1" ;;
  pg2) start_serve "$seed/pg1" && start_serve "$seed/pg2" ;;
  *) echo "unknown store $store (sqlite, pg1, pg2)" >&2; exit 2 ;;
  esac
  # the date_added of the middle sample id (a deep page for added_after)
  /usr/bin/python3 "$taxii/load.py" "${urls[0]}" "$BASE" "$TOKEN" 0 "$IDS_FILE" "$out.mid" \
    >/dev/null
  mid=$(cat "$out.mid")
  echo "== $store ($bin, ${#urls[@]} front-end(s), added_after=$mid)"
  scenario "GET objects limit=100" get.lua "${BASE}?limit=100"
  scenario "GET object by id" get_id.lua ""
  scenario "GET manifest limit=100" get.lua "${BASE%objects/}manifest/?limit=100"
  scenario "GET filtered limit=100" get.lua \
    "${BASE}?match%5Btype%5D=indicator&added_after=$mid&limit=100"
  for p in "${sp[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" || true; done
  sp=()
done
if [ -n "${pm:-}" ]; then
  echo "   PostgreSQL: $(psql_ "SELECT pg_database_size('bench')") bytes"
fi
if [ -e "$seed/sqlite/meridian.db" ]; then
  echo "   SQLite: $(du -cb "$seed/sqlite"/meridian.db* | tail -1 | cut -f1) bytes"
fi
