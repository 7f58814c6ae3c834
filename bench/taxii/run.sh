#!/usr/bin/env bash
# TAXII benchmark with wrk on loopback (bench/taxii/README.md).
#
#   bench/taxii/run.sh BUILD_DIR [N] [SECONDS]
#
# Makes a fresh data directory under bench/out/taxii, starts
# `meridian serve` once over plain HTTP and once over HTTPS, loads N
# indicators (default 100000) through TAXII POST, then runs each scenario
# with wrk for SECONDS (default 10) and prints requests/s, latency and the
# server's RSS. MERIDIAN_BENCH_CONNS (default 16) and MERIDIAN_BENCH_THREADS
# (wrk threads, default 2) tune the load; SERVE_THREADS the server pool;
# LOADER=import fills the collection with `meridian import` instead.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [N] [SECONDS]}
n=${2:-100000}
secs=${3:-10}
conns=${MERIDIAN_BENCH_CONNS:-16}
wthreads=${MERIDIAN_BENCH_THREADS:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "$build" && pwd)/meridian
out=$root/bench/out/taxii
rm -rf "$out"
mkdir -p "$out"
data=$out/data

export TOKEN
TOKEN=$("$bin" init --data "$data" --org bench 2>/dev/null)
coll=$("$bin" collection create --data "$data" --api-root bench --title bench 2>/dev/null)
export BASE=/bench/collections/$coll/objects/
export IDS_FILE=$out/ids

# LOADER=import: fill the collection with gen.py + `meridian import` (no
# HTTP; the quick way to 1,000,000) instead of TAXII POSTs.
if [ "${LOADER:-taxii}" = import ]; then
  echo "== generate and import $n indicators"
  /usr/bin/python3 "$here/gen.py" "$n" "$out/gen" "$IDS_FILE"
  t0=$SECONDS
  for f in "$out"/gen/part-*.json; do
    "$bin" import --data "$data" --collection "$coll" "$f" 2>>"$out/import.log"
  done
  echo "   imported in $((SECONDS - t0)) s"
  rm -rf "$out/gen"
fi

rss() { # current and peak RSS of the server, in MB
  awk '/VmRSS|VmHWM/ {printf "%s %.0f MB  ", $1, $2/1024}' "/proc/$1/status"
}

run_scenarios() { # scheme
  local scheme=$1 flags=() pid url
  [ "$scheme" = http ] && flags+=(--http)
  rm -f "$out/ready"
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --ready-file "$out/ready" --rate 0 \
    --threads "${SERVE_THREADS:-16}" "${flags[@]}" 2>"$out/serve-$scheme.log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.1; done
  url=$scheme://$(cat "$out/ready")
  if [ ! -s "$out/mid" ]; then
    local count=$n
    [ -s "$IDS_FILE" ] && count=0 # imported already
    echo "== load $count indicators ($scheme)"
    /usr/bin/python3 "$here/load.py" "$url" "$BASE" "$TOKEN" "$count" "$IDS_FILE" "$out/mid" \
      "$data/ca.pem"
    echo "   server $(rss $pid)"
  fi
  local mid
  mid=$(cat "$out/mid")
  echo "== $scheme: $(wc -l < "$IDS_FILE") sample ids, added_after=$mid"
  bench() { # name, wrk args...
    local name=$1
    shift
    local res
    res=$(wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency "$@" 2>"$out/wrk.err")
    printf '%-28s %10s req/s  p50 %8s  p99 %8s   %s\n' "$name" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$res")" \
      "$(awk '$1=="50%" {print $2}' <<<"$res")" "$(awk '$1=="99%" {print $2}' <<<"$res")" \
      "$(rss $pid)"
    if [ -s "$out/wrk.err" ]; then sort "$out/wrk.err" | uniq -c | head -3; fi
  }
  bench "GET objects limit=100" -s "$here/get.lua" "$url${BASE}?limit=100"
  bench "GET object by id" -s "$here/get_id.lua" "$url"
  bench "GET manifest limit=100" -s "$here/get.lua" "${url}${BASE%objects/}manifest/?limit=100"
  bench "GET filtered limit=100" -s "$here/get.lua" \
    "$url${BASE}?match%5Btype%5D=indicator&added_after=$mid&limit=100"
  bench "POST 100-object envelopes" -s "$here/post.lua" "$url$BASE"
  echo "   (POST objects/s = req/s x 100)"
  kill -TERM "$pid"
  wait "$pid" || true
}

run_scenarios http
run_scenarios https
du -sh "$data/meridian.db"* | sed 's/^/   db: /'
