#!/usr/bin/env bash
# bench/pg/seed.sh: N indicators in one collection, on SQLite and on
# PostgreSQL, at the binary's current schema, for bench/pg/reads.sh
# (bench/pg/README.md, "Seeding").
#
#   bench/pg/seed.sh BUILD_DIR N DIR
#
# Loading through TAXII POST runs at ~500 objects/s on PostgreSQL (hours for
# a million), so: bench/taxii/gen.py writes the indicators as envelopes,
# `meridian import` stores them in a SQLite node (DIR/sqlite; the ledger
# records them as it goes), and at the same time into a node on a
# PostgreSQL database `bench` of a cluster kept in DIR/pg (started, then
# stopped at the end: reads.sh starts it again). The PostgreSQL node
# (DIR/pg1, DIR/pg1/store.dsn) starts as a `meridian store copy` of the
# fresh SQLite node (same org, token, collection); DIR/pg2, the second
# front-end, is a copy of its directory (keys and ledger) after the import.
# (`store copy` of the loaded SQLite node would do too: bench/pg/copy.sh.)
# DIR/token, DIR/coll and DIR/ids (every 1000th id) are what reads.sh
# needs. An existing DIR/gen (gen.py's output) is reused. Prints the wall
# time and CPU seconds of each step and the database sizes.
#
# Keep DIR on a disk (/var/tmp), not on a tmpfs: a million objects are
# ~1.5 GB in each store.
set -euo pipefail
build=${1:?usage: seed.sh BUILD_DIR N DIR}
n=${2:?usage: seed.sh BUILD_DIR N DIR}
dir=${3:?usage: seed.sh BUILD_DIR N DIR}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/meridian
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap pg_stop EXIT

step() { # name, command...: runs it, prints wall and CPU (its own and the cluster's)
  local name=$1 me=$BASHPID t0 p0 c0 c1
  shift
  t0=$(date +%s.%N); p0=$(pg_ticks)
  c0=$(awk '{print $16 + $17}' /proc/$me/stat)
  "$@"
  c1=$(awk '{print $16 + $17}' /proc/$me/stat)
  printf '   %-34s wall %7.1f s  cpu meridian+gen %7s s  postgres %7s s  load %s\n' "$name" \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$(secs_of $((c1 - c0)))" \
    "$(secs_of $(($(pg_ticks) - p0)))" "$(load_avg)"
}

if [ ! -e "$dir/gen/done" ]; then
  step "gen.py $n" /usr/bin/python3 "$here/../taxii/gen.py" "$n" "$dir/gen" "$dir/ids"
  touch "$dir/gen/done"
fi
[ -s "$dir/ids" ] || { echo "no $dir/ids: delete $dir/gen and run again" >&2; exit 1; }

rm -rf "$dir/sqlite" "$dir/pg1" "$dir/pg2" "$dir/pg"
pg_start "$dir/pg"
psql_ "CREATE DATABASE bench" >/dev/null
uri="postgresql://meridian@127.0.0.1:$port/bench"
"$bin" init --data "$dir/sqlite" --org bench >"$dir/token" 2>/dev/null
"$bin" collection create --data "$dir/sqlite" --api-root bench --title bench >"$dir/coll" \
  2>/dev/null
# the same org, token and collection on PostgreSQL: meta, orgs, tokens,
# roots and collections copied (a few rows), then the objects imported
"$bin" store copy --from "$dir/sqlite" --to "$uri" >/dev/null
cp -a "$dir/sqlite" "$dir/pg1"
rm -f "$dir/pg1"/meridian.db*
install -m 0600 /dev/null "$dir/pg1/store.dsn"
echo "$uri" >"$dir/pg1/store.dsn" # reads.sh rewrites the port at each start
import_all() { # node directory
  local f
  for f in "$dir"/gen/part-*.json; do
    "$bin" import --data "$1" --collection "$(cat "$dir/coll")" "$f" 2>>"$1.import.log"
  done
}
# both at once: each store's import is a client waiting on its engine's commits
echo "== $n indicators: meridian import into SQLite ($dir/sqlite) and PostgreSQL ($dir/pg1)"
step "meridian import (SQLite)" import_all "$dir/sqlite" >"$dir/sqlite.seed.log" &
step "meridian import (PostgreSQL)" import_all "$dir/pg1"
wait
cat "$dir/sqlite.seed.log"
step "VACUUM ANALYZE (PostgreSQL)" psql_ "VACUUM ANALYZE" bench
cp -a "$dir/pg1" "$dir/pg2" # the second front-end: the same keys and ledger
echo "   SQLite: $(du -cb "$dir/sqlite"/meridian.db* | tail -1 | cut -f1) bytes;" \
  "PostgreSQL: $(psql_ "SELECT pg_database_size('bench')") bytes" \
  "($(psql_ 'SELECT count(*) FROM objects' bench) objects)"
