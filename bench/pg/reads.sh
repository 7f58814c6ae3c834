#!/bin/bash
# bench/pg/reads.sh: bench/taxii's read scenarios (wrk: get.lua, get_id.lua;
# 16 connections) against nodes that already hold their objects (a large
# seed takes hours to load through TAXII on a shared machine: README.md),
# one `meridian serve` at a time, all in one run, with the CPU seconds of
# meridian and of PostgreSQL (when PM_PID names the postmaster) and the
# load average beside each rate.
#
# usage: [PM_PID=pid] bench/pg/reads.sh SECS NAME:BINARY:DATA_DIR:TOKEN:COLLECTION ...
set -eu
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
taxii=$here/../taxii
hz=$(getconf CLK_TCK)
sp=""
cleanup() { [ -z "$sp" ] || kill -TERM "$sp" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local t=0 c
  [ -n "${PM_PID:-}" ] || { echo 0; return; }
  t=$(ticks "$PM_PID")
  for c in $(ps -o pid= --ppid "$PM_PID"); do t=$((t + $(ticks "$c"))); done
  echo "$t"
}
secs_of() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }'; }
ids=$(mktemp)
trap 'cleanup; rm -f "$ids"' EXIT
for spec in "$@"; do
  IFS=: read -r name bin data token coll <<<"$spec"
  rm -f "$data/ready"
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --ready-file "$data/ready" --rate 0 \
    --threads 16 --http >/dev/null 2>"$data/bench-serve.log" &
  sp=$!
  for _ in $(seq 600); do [ -s "$data/ready" ] && break; sleep 0.1; done
  [ -s "$data/ready" ] || { echo "$name: serve did not start: $(tail -3 "$data/bench-serve.log")" >&2; exit 1; }
  url=http://$(cat "$data/ready")
  base=/bench/collections/$coll/objects/
  # ids to GET (get_id.lua) and the middle date_added (a deep page)
  /usr/bin/python3 - "$url" "$base" "$token" "$ids" >"$data/bench-mid" <<'EOF'
import json, sys, urllib.request
url, base, token, out = sys.argv[1:]
h = {"Authorization": "Bearer " + token, "Accept": "application/taxii+json;version=2.1"}
r = urllib.request.urlopen(urllib.request.Request(url + base.replace("/objects/", "/manifest/") + "?limit=1000", headers=h), timeout=120)
objs = json.load(r)["objects"]
open(out, "w").write("\n".join(o["id"] for o in objs) + "\n")
print(objs[len(objs) // 2]["date_added"])
EOF
  mid=$(cat "$data/bench-mid")
  export TOKEN=$token BASE=$base IDS_FILE=$ids
  echo "== $name ($bin)"
  for sc in "GET objects limit=100|get.lua|${base}?limit=100" "GET object by id|get_id.lua|" \
    "GET manifest limit=100|get.lua|${base%objects/}manifest/?limit=100" \
    "GET objects added_after|get.lua|${base}?added_after=$mid&limit=100"; do
    IFS='|' read -r sname lua path <<<"$sc"
    m0=$(ticks "$sp"); p0=$(pg_ticks)
    r=$(wrk -t1 -c16 -d"${secs}s" --timeout 30s --latency -s "$taxii/$lua" "$url$path" 2>/dev/null |
      awk '/Requests\/sec/ {r = $2} $1 == "99%" {p = $2} END {printf "%s req/s p99 %s", r, p}')
    m1=$(ticks "$sp"); p1=$(pg_ticks)
    printf '   %-26s %-28s cpu meridian %5s s postgres %5s s load %s\n' "$sname" "$r" \
      "$(secs_of $((m1 - m0)))" "$(secs_of $((p1 - p0)))" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
  kill -TERM "$sp"
  wait "$sp" 2>/dev/null || true
  sp=""
done
