#!/usr/bin/env bash
# bench/pg/profile.sh: where PostgreSQL's time goes during one read
# scenario on a seed made by bench/pg/seed.sh: pg_stat_statements (with
# planning time) over SECS of wrk against one `meridian serve` (DIR/pg1),
# the 12 costliest statements, then the full text of the slow ones (over
# 50 ms a call).
#
#   bench/pg/profile.sh BUILD_DIR SEED_DIR SECS get_id.lua
#   bench/pg/profile.sh BUILD_DIR SEED_DIR SECS get.lua '?limit=100'
#
# The second argument of get.lua is what follows the collection's objects/
# URL. The seed's cluster is started for the run (with pg_stat_statements
# loaded) and stopped at the end.
set -euo pipefail
usage="usage: profile.sh BUILD_DIR SEED_DIR SECS LUA [QUERY]"
bin=$(cd "${1:?$usage}" && pwd)/meridian
seed=$(cd "${2:?$usage}" && pwd)
secs=${3:?$usage}
lua=${4:?$usage}
query=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
sp=""
cleanup() {
  [ -z "$sp" ] || { kill -TERM "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true; }
  pg_stop
}
trap cleanup EXIT
PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
PG_OPTS+=" -c pg_stat_statements.track_planning=on"
pg_start "$seed/pg"
echo "postgresql://meridian@127.0.0.1:$port/bench" >"$seed/pg1/store.dsn"
psql_ "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" bench >/dev/null 2>&1
rm -f "$seed/pg1/ready"
"$bin" serve --data "$seed/pg1" --listen 127.0.0.1:0 --ready-file "$seed/pg1/ready" --rate 0 \
  --threads 16 --http >/dev/null 2>"$seed/pg1/profile-serve.log" &
sp=$!
for _ in $(seq 600); do [ -s "$seed/pg1/ready" ] && break; sleep 0.1; done
[ -s "$seed/pg1/ready" ] || { echo "serve did not start" >&2; exit 1; }
url=http://$(cat "$seed/pg1/ready")
export TOKEN IDS_FILE=$seed/ids BASE
TOKEN=$(cat "$seed/token")
BASE=/bench/collections/$(cat "$seed/coll")/objects/
psql_ "SELECT pg_stat_statements_reset()" bench >/dev/null
wrk -t1 -c16 -d"${secs}s" -s "$here/../taxii/$lua" "$url$BASE$query" |
  grep -E "Requests/sec|requests in"
psql -X -h 127.0.0.1 -p "$port" -U meridian -d bench -c "SELECT calls,
  round(total_plan_time::numeric, 1) AS plan_ms, round(total_exec_time::numeric, 1) AS exec_ms,
  round(mean_exec_time::numeric, 3) AS mean_ms, rows,
  left(regexp_replace(query, '\s+', ' ', 'g'), 120) AS statement
  FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 12"
psql -X -A -t -h 127.0.0.1 -p "$port" -U meridian -d bench -c "SELECT query
  FROM pg_stat_statements WHERE mean_exec_time > 50 AND query NOT LIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT 3"
