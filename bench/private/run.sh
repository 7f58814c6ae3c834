#!/bin/sh
# bench/private/run.sh: private matching end to end on this machine, beside
# the bare libsodium cost measured in the same run (README.md).
#
#   bench/private/run.sh [BUILD_DIR] [VALUES] [INDICATORS]
#
# BUILD_DIR (default build-dev) holds meridian and bench/private/bench_private.
# Node A offers INDICATORS (default 10000) IPv4 indicators; node B checks a
# CSV log of VALUES (default 1000000) distinct addresses, half of A's among
# them, with `meridian match --private A` (2 threads). Prints the bare rates,
# the session's wall time, both processes' CPU seconds, CPU per value
# against the bare cost, and the load average. Fails when the matches are
# not exactly the INDICATORS/2 planted values.
set -eu
B=${1:-build-dev}
N=${2:-1000000}
K=${3:-10000}
BIN=$(cd "$B" && pwd)/meridian
BENCH=$(cd "$B" && pwd)/bench/private/bench_private
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-private.XXXXXX")
SERVE=
cleanup() {
    if [ -n "$SERVE" ]; then kill "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; fi
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

echo "== bare cost (libsodium, 2 threads, same run)"
"$BENCH" --threads 2 --seconds 1 --rounds 3 | tee "$W/bare.txt"
BARE_S=$(awk '/^bare server/ {print $(NF-1)}' "$W/bare.txt")
BARE_C=$(awk '/^bare client/ {print $(NF-1)}' "$W/bare.txt")

echo "== data: $K indicators on A, $N distinct log values on B"
"$PY" - "$W" "$N" "$K" <<'PYEOF'
import json, sys, uuid
w, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ind = lambda i: f"198.18.{i >> 8 & 255}.{i & 255}" if i < 65536 else f"198.19.{i >> 8 & 255}.{i & 255}"
objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "pattern": f"[ipv4-addr:value = '{ind(i)}']", "pattern_type": "stix",
         "valid_from": "2026-01-01T00:00:00Z"} for i in range(k)]
json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs},
          open(f"{w}/ind.json", "w"))
with open(f"{w}/log.csv", "w") as f:
    f.write("src_ip,bytes\n")
    for i in range(k // 2):
        f.write(f"{ind(i)},1\n")
    for j in range(n - k // 2):
        f.write(f"10.{j >> 16 & 255}.{j >> 8 & 255}.{j & 255},1\n")
PYEOF

A="$W/a"; PB="$W/b"
"$BIN" init --data "$A" --org own >/dev/null
"$BIN" org create partnerb --relation partner --data "$A" >/dev/null
TOKEN=$("$BIN" token create --org partnerb --data "$A" | grep -oE 'mrd_[A-Za-z0-9_-]{43}' | head -1)
COLL=$("$BIN" collection create --data "$A" --api-root api1 --title red | grep -oE '[0-9a-f]{8}-[0-9a-f-]{27}' | head -1)
"$BIN" import --collection "$COLL" --data "$A" "$W/ind.json" >/dev/null
"$BIN" privacy offer bench --collection "$COLL" --to partnerb --budget 20000000 --data "$A"
"$BIN" serve --data "$A" --listen 127.0.0.1:0 --http --ready-file "$W/ready" 2>"$W/serve.log" &
SERVE=$!
i=0; while [ ! -s "$W/ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://$(cat "$W/ready")"
"$BIN" init --data "$PB" --org partner >/dev/null
LOCAL=$("$BIN" collection create --data "$PB" --api-root api1 --title local | grep -oE '[0-9a-f]{8}-[0-9a-f-]{27}' | head -1)
"$BIN" peer add a --data "$PB" --url "$URL" --api-root api1 --collection "$COLL" \
    --local-collection "$LOCAL" --token "$TOKEN" --direction pull >/dev/null

cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
echo "== offering side: publish $K values (first GET of the set)"
C0=$(cpu_of "$SERVE"); T0=$(date +%s.%N)
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/v1/private/bench/set"
T1=$(date +%s.%N); C1=$(cpu_of "$SERVE")
echo "publish: wall $(echo "$T1 - $T0" | bc) s, serve cpu $(echo "$C1 - $C0" | bc) s"

echo "== session: meridian match --private a over $N values"
L0=$(cut -d' ' -f1 /proc/loadavg)
C0=$(cpu_of "$SERVE")
/usr/bin/time -f '%e %U %S' -o "$W/time" "$BIN" match --private a --offer bench --data "$PB" \
    --threads 2 "$W/log.csv" >"$W/matches" 2>"$W/session.log"
C1=$(cpu_of "$SERVE")
L1=$(cut -d' ' -f1 /proc/loadavg)
cat "$W/session.log"
read -r WALL US SY <"$W/time"
MATCHED=$(wc -l <"$W/matches")
PROC=$(echo "$C1 - $C0" | bc)
# the evaluate handlers' own thread CPU, from the accounting lines
SCPU=$(grep -o 'cpu [0-9.]* ms' "$W/serve.log" | awk '{s += $2} END {printf "%.3f", s / 1000}')
PCPU=$(echo "$US + $SY" | bc)
echo "matched $MATCHED (expected $((K / 2)))"
echo "wall $WALL s; partner cpu $PCPU s (user $US, sys $SY); offering node: evaluate handlers $SCPU s cpu (serve process $PROC s, background work included); load $L0 -> $L1"
echo "partner cpu/value $(echo "scale=1; $PCPU * 1000000 / $N" | bc) us vs bare client $BARE_C us: $(echo "scale=2; $PCPU * 1000000 / $N / $BARE_C" | bc)x"
echo "offering cpu/value $(echo "scale=1; $SCPU * 1000000 / $N" | bc) us vs bare server $BARE_S us: $(echo "scale=2; $SCPU * 1000000 / $N / $BARE_S" | bc)x"
[ "$MATCHED" -eq $((K / 2)) ]
