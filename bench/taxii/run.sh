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

# SEED=DIR: reuse a loaded data set. The first run with an empty DIR loads
# as usual and saves data, token, collection, ids and mid there; later runs
# copy it (each run starts from the same N objects, the POST scenario grows
# only the copy).
seed=${SEED:-}
if [ -n "$seed" ] && [ -s "$seed/mid" ]; then
  echo "== copy seed $seed"
  cp -a "$seed/." "$out/"
  TOKEN=$(cat "$out/token")
  coll=$(cat "$out/coll")
fi
export TOKEN
if [ ! -d "$data" ]; then
  TOKEN=$("$bin" init --data "$data" --org bench 2>/dev/null)
  coll=$("$bin" collection create --data "$data" --api-root bench --title bench 2>/dev/null)
fi
export BASE=/bench/collections/$coll/objects/
export IDS_FILE=$out/ids

# LOADER=import: fill the collection with gen.py + `meridian import` (no
# HTTP; the quick way to 1,000,000) instead of TAXII POSTs.
if [ "${LOADER:-taxii}" = import ] && [ ! -s "$out/mid" ]; then
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

cpu_ticks() { # utime + stime of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
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
    if [ -n "$seed" ]; then # save the loaded set (server stopped first: a clean copy)
      kill -TERM "$pid"
      wait "$pid" || true
      mkdir -p "$seed"
      echo "$TOKEN" >"$out/token"
      echo "$coll" >"$out/coll"
      cp -a "$data" "$IDS_FILE" "$out/mid" "$out/token" "$out/coll" "$seed/"
      rm -f "$out/ready"
      "$bin" serve --data "$data" --listen 127.0.0.1:0 --ready-file "$out/ready" --rate 0 \
        --threads "${SERVE_THREADS:-16}" "${flags[@]}" 2>>"$out/serve-$scheme.log" &
      pid=$!
      for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.1; done
      url=$scheme://$(cat "$out/ready")
    fi
  fi
  local mid
  mid=$(cat "$out/mid")
  echo "== $scheme: $(wc -l < "$IDS_FILE") sample ids, added_after=$mid"
  bench() { # name, wrk args...
    local name=$1
    shift
    [[ $name =~ ${ONLY:-.} ]] || return 0
    local res
    local c0 c1 rps
    c0=$(cpu_ticks "$pid")
    res=$(wrk -t"$wthreads" -c"$conns" -d"${secs}s" --latency "$@" 2>"$out/wrk.err")
    c1=$(cpu_ticks "$pid")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$res")
    # CPU-normalised: requests per second of server CPU (user + system),
    # which the other load on a shared machine disturbs far less than req/s.
    printf '%-28s %10s req/s  p50 %8s  p99 %8s  %8s req/cpu-s  %s\n' "$name" "$rps" \
      "$(awk '$1=="50%" {print $2}' <<<"$res")" "$(awk '$1=="99%" {print $2}' <<<"$res")" \
      "$(awk -v r="$rps" -v s="$secs" -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (d > 0) printf "%.0f", r * s / (d / hz); else print "-" }')" \
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

# SCHEMES="http" skips the HTTPS pass; ONLY=regex runs the matching scenarios.
for scheme in ${SCHEMES:-http https}; do run_scenarios "$scheme"; done
du -sh "$data/meridian.db"* | sed 's/^/   db: /'
