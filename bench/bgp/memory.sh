#!/usr/bin/env bash
# Peak memory of `meridian bgp scan` (decode + ROV + every detector) over
# full tables from 10 peers: bench/bgp/gen.c writes a TABLE_DUMP_V2 RIB of
# PREFIXES prefixes (default 1,000,000: a full IPv4+IPv6 table's size), each
# seen by all 10 peers, i.e. 10,000,000 routes, with 500,000 VRPs and the
# update benchmark's watch.json (2,000 prefixes, 3 groups) and as-rel.txt
# (500,000 links), which gen.c writes beside them. Prints
# wall and CPU seconds and peak RSS of the scan, run twice. usage: bench/bgp/memory.sh BUILD_DIR [OUTDIR [PREFIXES]]
set -euo pipefail
build=${1:?usage: memory.sh BUILD_DIR [OUTDIR [PREFIXES]]}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bgp-mem.XXXXXX")}
prefixes=${3:-1000000}
meridian=$build/meridian
mkdir -p "$out"
[ -s "$out/rib.mrt" ] && [ -s "$out/vrps.csv" ] ||
  "$build/bench/bgp/bgp-gen" "$out" "$prefixes" 10 500000 1000
echo "rib.mrt: $(du -h "$out/rib.mrt" | cut -f1), $prefixes prefixes x 10 peers;" \
  "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" > /dev/null 2>"$out/stderr" || true
  read -r wall user sys rss < <(tail -n 1 "$out/time")
  awk -v n="$name" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v m="$rss" \
    'BEGIN { printf "%-44s wall %7.2f s  cpu %7.2f s  %6.0f MB peak RSS\n", n, w, c, m / 1024 }'
}
for round in 1 2; do
  measure "meridian bgp scan +config +as-rel (all)" "$meridian" bgp scan --vrps "$out/vrps.csv" \
    --config "$out/watch.json" --as-rel "$out/as-rel.txt" "$out/rib.mrt"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
