#!/usr/bin/env bash
# bench/pg/copy.sh: `meridian store copy` of a node of N indicators,
# SQLite -> PostgreSQL and back, objects/s with wall and CPU seconds
# (bench/pg/README.md, "store copy").
#
#   bench/pg/copy.sh BUILD_DIR N DIR [OTHER_BUILD_DIR]
#
# DIR/gen (bench/taxii/gen.py's envelopes) and DIR/sqlite (a SQLite node
# they were imported into with `meridian import`) are made once and
# reused. A PostgreSQL 15 cluster in DIR/pg (lib.sh) is started for the
# run and stopped at the end. For each build (BUILD_DIR, then
# OTHER_BUILD_DIR when given, ROUNDS times, alternating: the machine is
# shared, so the two are compared in the same run): a copy of DIR/sqlite
# into a new database, then of that database into a new SQLite directory.
# Each line: wall seconds, objects/s (the objects over the wall time),
# CPU seconds of meridian and of PostgreSQL, and the load average.
set -euo pipefail
build=${1:?usage: copy.sh BUILD_DIR N DIR [OTHER_BUILD_DIR]}
n=${2:?usage: copy.sh BUILD_DIR N DIR [OTHER_BUILD_DIR]}
dir=${3:?usage: copy.sh BUILD_DIR N DIR [OTHER_BUILD_DIR]}
other=${4:-}
rounds=${ROUNDS:-1}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/meridian
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap pg_stop EXIT

if [ ! -e "$dir/gen/done" ]; then
  /usr/bin/python3 "$here/../taxii/gen.py" "$n" "$dir/gen" "$dir/ids"
  touch "$dir/gen/done"
fi
if [ ! -e "$dir/sqlite/done" ]; then
  rm -rf "$dir/sqlite"
  "$bin" init --data "$dir/sqlite" --org bench >/dev/null 2>&1
  coll=$("$bin" collection create --data "$dir/sqlite" --api-root bench --title bench 2>/dev/null)
  for f in "$dir"/gen/part-*.json; do
    "$bin" import --data "$dir/sqlite" --collection "$coll" "$f" 2>>"$dir/import.log"
  done
  touch "$dir/sqlite/done"
fi
pg_start "$dir/pg"
objects=$(sqlite3 "$dir/sqlite/meridian.db" "SELECT count(*) FROM objects")
echo "== store copy of $objects objects ($(du -cb "$dir/sqlite"/meridian.db* | tail -1 | cut -f1)" \
  "bytes of SQLite)"

one() { # label, binary, from, to
  local label=$1 b=$2 from=$3 to=$4 me=$BASHPID t0 t1 p0 c0 c1
  t0=$(date +%s.%N); p0=$(pg_ticks)
  c0=$(awk '{print $16 + $17}' /proc/$me/stat)
  "$b" store copy --from "$from" --to "$to" >"$dir/copy.out" 2>&1 ||
    { cat "$dir/copy.out" >&2; exit 1; }
  c1=$(awk '{print $16 + $17}' /proc/$me/stat)
  t1=$(date +%s.%N)
  printf '   %-40s wall %7.1f s  %7.0f objects/s  cpu meridian %6s s  postgres %6s s  load %s\n' \
    "$label" "$(echo "$t1 - $t0" | bc)" "$(echo "$objects / ($t1 - $t0)" | bc -l)" \
    "$(secs_of $((c1 - c0)))" "$(secs_of $(($(pg_ticks) - p0)))" "$(load_avg)"
}

round() { # label, binary
  local db=copy_$RANDOM$RANDOM
  psql_ "CREATE DATABASE $db" >/dev/null
  one "$1 SQLite -> PostgreSQL" "$2" "$dir/sqlite" "postgresql://meridian@127.0.0.1:$port/$db"
  rm -rf "$dir/back"
  mkdir -p "$dir/back"
  one "$1 PostgreSQL -> SQLite" "$2" "postgresql://meridian@127.0.0.1:$port/$db" "$dir/back"
  grep -q "objects $objects," "$dir/copy.out" || { cat "$dir/copy.out" >&2; exit 1; }
  psql_ "DROP DATABASE $db" >/dev/null
  rm -rf "$dir/back"
}

# labelled by the build directory as given (two builds may share a basename)
for ((r = 0; r < rounds; r++)); do
  round "$build" "$bin"
  [ -z "$other" ] || round "$other" "$(cd "$other" && pwd)/meridian"
done
