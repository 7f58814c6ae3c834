#!/usr/bin/env bash
# bench/pg/explain.sh: the plans PostgreSQL runs for reads.sh's four read
# scenarios on a seed made by bench/pg/seed.sh, as executed (auto_explain:
# EXPLAIN ANALYZE with buffers of every statement `meridian serve` runs,
# written to the cluster's log), so the plans are the ones the prepared
# statements really get, with the parameters of real requests.
#
#   bench/pg/explain.sh BUILD_DIR SEED_DIR [REPEAT]
#
# One `meridian serve` on SEED_DIR/pg1; each scenario is requested REPEAT
# times (default 8: past the 5 runs after which PostgreSQL may give a
# prepared statement its generic plan) and the plan of the last run of each
# statement is printed, with its time. The seed's cluster is started with
# auto_explain loaded and stopped at the end. Only the request's own statements are shown (the token look-up and
# the reads of objects), not the background workers'.
set -euo pipefail
usage="usage: explain.sh BUILD_DIR SEED_DIR [REPEAT]"
bin=$(cd "${1:?$usage}" && pwd)/meridian
seed=$(cd "${2:?$usage}" && pwd)
repeat=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/pg/lib.sh
. "$here/lib.sh"
sp=""
cleanup() {
  [ -z "$sp" ] || { kill -TERM "$sp" 2>/dev/null || true; wait "$sp" 2>/dev/null || true; }
  pg_stop
}
trap cleanup EXIT
PG_OPTS="-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0"
PG_OPTS+=" -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on"
pg_start "$seed/pg"
echo "postgresql://meridian@127.0.0.1:$port/bench" >"$seed/pg1/store.dsn"
rm -f "$seed/pg1/ready"
"$bin" serve --data "$seed/pg1" --listen 127.0.0.1:0 --ready-file "$seed/pg1/ready" --rate 0 \
  --threads 4 --http >/dev/null 2>"$seed/pg1/explain-serve.log" &
sp=$!
for _ in $(seq 600); do [ -s "$seed/pg1/ready" ] && break; sleep 0.1; done
[ -s "$seed/pg1/ready" ] || { echo "serve did not start" >&2; exit 1; }
url=http://$(cat "$seed/pg1/ready")
token=$(cat "$seed/token")
base=/bench/collections/$(cat "$seed/coll")/objects/
/usr/bin/python3 "$here/../taxii/load.py" "$url" "$base" "$token" 0 "$seed/ids" "$seed/explain.mid" \
  >/dev/null
mid=$(cat "$seed/explain.mid")
id=$(awk 'NR == int(n / 3) + 1' n="$(wc -l <"$seed/ids")" "$seed/ids")
echo "== plans on $(psql_ 'SELECT count(*) FROM objects' bench) objects (load $(load_avg))"
for name_path in "GET objects limit=100|${base}?limit=100" "GET object by id|${base}$id/" \
  "GET manifest limit=100|${base%objects/}manifest/?limit=100" \
  "GET filtered limit=100|${base}?match%5Btype%5D=indicator&added_after=$mid&limit=100"; do
  name=${name_path%%|*}
  path=${name_path#*|}
  sleep 1 # the background workers' statements of the serve's start out of the way
  mark=$(wc -l <"$seed/pg/log")
  for _ in $(seq "$repeat"); do
    curl -sf -o /dev/null -H "Authorization: Bearer $token" \
      -H "Accept: application/taxii+json;version=2.1" "$url$path" ||
      { echo "$name: request failed" >&2; exit 1; }
  done
  echo
  echo "#### $name ($path)"
  # the log from the mark: each plan is a 'duration: ... plan:' line and its
  # continuation lines; the last plan of each statement text is printed
  tail -n +$((mark + 1)) "$seed/pg/log" | /usr/bin/python3 -c '
import re, sys
plans, cur = {}, None
for line in sys.stdin:
    if re.match(r"^\d{4}-\d\d-\d\d ", line):
        cur = None
        m = re.search(r"LOG:  duration: ([0-9.]+) ms  plan:", line)
        if m:
            cur = [m.group(1) + " ms"]
        continue
    if cur is not None:
        cur.append(line.rstrip("\n"))
        if line.strip().startswith("Query Text:"):
            key = line.strip()
            plans.pop(key, None)
            plans[key] = cur
for key, p in plans.items():
    if "FROM tokens t" not in key and "FROM objects o WHERE o.collection" not in key:
        continue  # the background workers (routing, ledger, feeds, deliveries)
    print("\n".join(p[1:]))
    print("    (" + p[0] + ")")
    print()
'
done
