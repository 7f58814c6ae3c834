#!/usr/bin/env bash
# Export benchmark (docs in README.md): 1,000,000 indicators exported in every
# format by AFTER, and in STIX, CSV, Suricata and MISP by BEFORE (a build of
# main), on the same data directory, one after the other, with wall and CPU
# time and peak RSS; then jq over the JSON-lines export as the stand-in for
# "a script over a STIX export" (values out of the patterns).
#
#   bench/interop/run.sh AFTER_BIN BEFORE_BIN [N]
set -euo pipefail
after=$1 before=$2 n=${3:-1000000}
out=bench/out/interop
now=2026-01-15T00:00:00Z
mkdir -p "$out"
[ -f "$out/ind-$n.json" ] || /usr/bin/python3 bench/interop/gen.py "$out/ind-$n.json" "$n"
if [ ! -d "$out/data-$n" ]; then
  "$after" init --data "$out/data-$n" --org cert-a >/dev/null
  "$after" collection create --data "$out/data-$n" --api-root api1 --title bench --alias ioc
  /usr/bin/time -f "import: %e s wall, %U user %S sys, %M KB" \
    "$after" import --data "$out/data-$n" --collection api1/ioc "$out/ind-$n.json"
fi
# t LABEL BIN FORMAT [DIR]: one export, stdout discarded (or files in DIR)
t() {
  local label=$1 bin=$2 fmt=$3 dir=${4:-}
  local args=(export --data "$out/data-$n" --collection api1/ioc --format "$fmt")
  [ "$fmt" = stix ] || [ "$fmt" = jsonl ] || args+=(--now "$now")
  if [ -n "$dir" ]; then rm -rf "$dir" && mkdir -p "$dir" && args+=(--output "$dir"); fi
  if /usr/bin/time -f "$label $fmt: %e s wall, %U user %S sys, %M KB" "$bin" "${args[@]}" \
    >/dev/null 2>"$out/err"; then
    tail -1 "$out/err"
  else
    echo "$label $fmt: (failed: $(grep -m1 meridian "$out/err"))"
  fi
}
uptime
for fmt in stix csv zeek nft ipset snort; do
  t before "$before" "$fmt"
  t after "$after" "$fmt"
done
for fmt in suricata list misp suricata-datasets; do
  t before "$before" "$fmt" "$out/before-$fmt"
  t after "$after" "$fmt" "$out/$fmt"
done
t after "$after" jsonl
# the stand-in: jq over the JSON lines, one value per line out of each pattern
"$after" export --data "$out/data-$n" --collection api1/ioc --format jsonl >"$out/all.jsonl" \
  2>/dev/null
/usr/bin/time -f "jq values from jsonl: %e s wall, %U user %S sys, %M KB" \
  jq -r 'select(.type == "indicator") | .pattern | scan("= '"'"'([^'"'"']*)'"'"'") | .[0]' \
  "$out/all.jsonl" >/dev/null
uptime
