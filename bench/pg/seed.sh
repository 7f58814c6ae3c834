#!/usr/bin/env bash
# bench/pg/seed.sh: N indicators in one collection, on SQLite and on
# PostgreSQL, at the binary's current schema, for bench/pg/reads.sh
# (bench/pg/README.md, "Seeding").
#
#   bench/pg/seed.sh BUILD_DIR N DIR
#
# Loading through TAXII POST runs at ~500 objects/s on PostgreSQL (hours for
# a million), so bench/taxii/gen.py writes the indicators as envelopes of
# 100,000 (DIR/gen, kept and reused) and `meridian import` stores them, each
# part as soon as gen.py has written it. How they reach PostgreSQL (a
# database `bench` of a cluster kept in DIR/pg, started here and stopped at
# the end: reads.sh starts it again) is VIA:
#
#   VIA=copy (default)  import into a SQLite node (DIR/sqlite; the ledger
#                       records them as it goes), then `meridian store copy`
#                       of that node into the database (COPY, ~3x less CPU
#                       per object than importing into PostgreSQL);
#   VIA=import          import into the SQLite node and, at the same time,
#                       into the PostgreSQL node;
#   VIA=pg              PostgreSQL only (no SQLite node is kept: reads.sh
#                       then runs pg1 and pg2), imported part by part.
#
# The PostgreSQL node (DIR/pg1, whose DIR/pg1/store.dsn names the database)
# is a copy of the SQLite node's directory (keys, ledger); with VIA=import
# and VIA=pg it starts as a `store copy` of the fresh SQLite node (same org,
# token, collection). DIR/pg2, the second front-end, is a copy of DIR/pg1.
# Every node routes what it stored (`meridian notify run`), so its first
# `serve` has no notification backlog to catch up on. Then VACUUM ANALYZE.
# DIR/token, DIR/coll and DIR/ids (every 1000th id of the parts stored) are
# what reads.sh needs. `touch DIR/stop` while it runs stops the import after
# the part under way: a smaller seed, finished as above (the time is short).
# Prints the wall time and CPU seconds of each step and the database sizes.
#
# Keep DIR on a disk (/var/tmp), not on a tmpfs: a million objects are
# ~1.5 GB in each store.
set -euo pipefail
build=${1:?usage: seed.sh BUILD_DIR N DIR}
n=${2:?usage: seed.sh BUILD_DIR N DIR}
dir=${3:?usage: seed.sh BUILD_DIR N DIR}
via=${VIA:-copy}
case $via in copy | import | pg) ;; *) echo "VIA is copy, import or pg" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/meridian
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
gen_pid=
cleanup() {
  [ -z "$gen_pid" ] || kill "$gen_pid" 2>/dev/null || true
  pg_stop
}
trap cleanup EXIT
parts=$(((n + 99999) / 100000))

step() { # name, command...: runs it, prints wall and CPU (its own and the cluster's)
  ( # a subshell: its reaped children are the command's alone (not gen.py)
    local name=$1 me=$BASHPID t0 p0 c0 c1
    shift
    t0=$(date +%s.%N); p0=$(pg_ticks)
    c0=$(awk '{print $16 + $17}' /proc/$me/stat)
    "$@"
    c1=$(awk '{print $16 + $17}' /proc/$me/stat)
    printf '   %-34s wall %7.1f s  cpu meridian %7s s  postgres %7s s  load %s\n' "$name" \
      "$(echo "$(date +%s.%N) - $t0" | bc)" "$(secs_of $((c1 - c0)))" \
      "$(secs_of $(($(pg_ticks) - p0)))" "$(load_avg)"
  )
}

rm -f "$dir/stop"
if [ ! -e "$dir/gen/done" ]; then
  rm -rf "$dir/gen"
  mkdir -p "$dir/gen"
  t0=$(date +%s)
  (/usr/bin/python3 "$here/../taxii/gen.py" "$n" "$dir/gen" "$dir/gen/ids" &&
    touch "$dir/gen/done" &&
    echo "   gen.py $n: $(($(date +%s) - t0)) s, load $(load_avg)") &
  gen_pid=$!
fi

wait_part() { # k: 0 when part k is there, 1 when it will not be
  local f
  f=$(printf '%s/gen/part-%03d.json' "$dir" "$1")
  while [ ! -e "$f" ]; do
    [ ! -e "$dir/gen/done" ] || return 1
    [ -z "$gen_pid" ] || kill -0 "$gen_pid" 2>/dev/null || [ -e "$dir/gen/done" ] ||
      { echo "gen.py failed" >&2; return 1; }
    sleep 1
  done
}

import_parts() { # node directory: its part count in NODE.parts
  local k f
  echo 0 >"$1.parts"
  for ((k = 0; k < parts; k++)); do
    [ ! -e "$dir/stop" ] || break
    wait_part "$k" || break
    f=$(printf '%s/gen/part-%03d.json' "$dir" "$k")
    "$bin" import --data "$1" --collection "$(cat "$dir/coll")" "$f" >>"$1.import.log" 2>&1
    echo $((k + 1)) >"$1.parts"
  done
}

route() { "$bin" notify run --data "$1" >/dev/null; }

rm -rf "$dir/sqlite" "$dir/pg1" "$dir/pg2" "$dir/pg" "$dir"/*.parts "$dir"/*.import.log
pg_start "$dir/pg"
psql_ "CREATE DATABASE bench" >/dev/null
uri="postgresql://meridian@127.0.0.1:$port/bench"
"$bin" init --data "$dir/sqlite" --org bench >"$dir/token" 2>/dev/null
"$bin" collection create --data "$dir/sqlite" --api-root bench --title bench >"$dir/coll" \
  2>/dev/null
make_pg1() { # the PostgreSQL node: the SQLite node's directory, its store the database
  cp -a "$dir/sqlite" "$dir/pg1"
  rm -f "$dir/pg1"/meridian.db*
  install -m 0600 /dev/null "$dir/pg1/store.dsn"
  echo "$uri" >"$dir/pg1/store.dsn" # reads.sh rewrites the port at each start
}
echo "== $n indicators ($parts parts), VIA=$via, into $dir"
case $via in
copy)
  step "meridian import (SQLite)" import_parts "$dir/sqlite"
  step "notify run (SQLite)" route "$dir/sqlite"
  step "store copy SQLite -> PostgreSQL" "$bin" store copy --from "$dir/sqlite" --to "$uri" \
    >"$dir/copy.log"
  make_pg1
  stored=$(cat "$dir/sqlite.parts")
  ;;
import | pg)
  # the same org, token and collection on PostgreSQL: meta, orgs, tokens,
  # roots and collections copied (a few rows), then the objects imported
  "$bin" store copy --from "$dir/sqlite" --to "$uri" >/dev/null
  make_pg1
  if [ "$via" = pg ]; then
    rm -rf "$dir/sqlite"
    step "meridian import (PostgreSQL)" import_parts "$dir/pg1"
  else
    # both at once: each store's import is a client waiting on its engine's commits
    step "meridian import (SQLite)" import_parts "$dir/sqlite" >"$dir/sqlite.seed.log" &
    step "meridian import (PostgreSQL)" import_parts "$dir/pg1"
    wait $!
    cat "$dir/sqlite.seed.log"
    step "notify run (SQLite)" route "$dir/sqlite"
    [ "$(cat "$dir/sqlite.parts")" = "$(cat "$dir/pg1.parts")" ] ||
      echo "   (SQLite holds $(cat "$dir/sqlite.parts") parts, PostgreSQL $(cat "$dir/pg1.parts"))"
  fi
  step "notify run (PostgreSQL)" route "$dir/pg1"
  stored=$(cat "$dir/pg1.parts")
  ;;
esac
if [ -n "$gen_pid" ] && [ ! -e "$dir/gen/done" ]; then
  kill "$gen_pid" 2>/dev/null || true
  wait "$gen_pid" 2>/dev/null || true
fi
gen_pid=
wait 2>/dev/null || true
head -n $((stored * 100)) "$dir/gen/ids" >"$dir/ids"
vacuum() { psql_ "VACUUM ANALYZE" bench >/dev/null; }
step "VACUUM ANALYZE (PostgreSQL)" vacuum
cp -a "$dir/pg1" "$dir/pg2" # the second front-end: the same keys and ledger
echo "   $stored parts stored; PostgreSQL: $(psql_ "SELECT pg_database_size('bench')") bytes" \
  "($(psql_ 'SELECT count(*) FROM objects' bench) objects)"
if [ -e "$dir/sqlite/meridian.db" ]; then
  echo "   SQLite: $(du -cb "$dir/sqlite"/meridian.db* | tail -1 | cut -f1) bytes"
fi
echo "   ledger log: $(du -b "$dir/pg1/ledger/log" | cut -f1) bytes (per node directory)"
