#!/usr/bin/env bash
# Export benchmark (docs in README.md): 1,000,000 indicators exported in every
# format by AFTER, and in STIX and CSV by BEFORE (a build of main), on the
# same data directory, one after the other, with wall and CPU time and peak RSS.
#
#   bench/interop/run.sh AFTER_BIN BEFORE_BIN [N]
set -euo pipefail
after=$1 before=$2 n=${3:-1000000}
out=bench/out/interop
mkdir -p "$out"
[ -f "$out/ind-$n.json" ] || /usr/bin/python3 bench/interop/gen.py "$out/ind-$n.json" "$n"
if [ ! -d "$out/data-$n" ]; then
  "$after" init --data "$out/data-$n" --org cert-a >/dev/null
  "$after" collection create --data "$out/data-$n" --api-root api1 --title bench --alias ioc
  /usr/bin/time -f "import: %e s wall, %U user %S sys, %M KB" \
    "$after" import --data "$out/data-$n" --collection api1/ioc "$out/ind-$n.json"
fi
t() { /usr/bin/time -f "$1: %e s wall, %U user %S sys, %M KB" "${@:2}" >/dev/null 2>"$out/err"; tail -1 "$out/err"; }
uptime
for fmt in stix csv; do
  t "before $fmt" "$before" export --data "$out/data-$n" --collection api1/ioc --format $fmt
done
for fmt in stix jsonl csv zeek nft ipset; do
  t "after $fmt" "$after" export --data "$out/data-$n" --collection api1/ioc --format $fmt \
    --now 2026-01-15T00:00:00Z
done
for fmt in suricata list misp; do
  rm -rf "$out/$fmt" && mkdir -p "$out/$fmt"
  t "after $fmt" "$after" export --data "$out/data-$n" --collection api1/ioc --format $fmt \
    --now 2026-01-15T00:00:00Z --output "$out/$fmt"
done
uptime
