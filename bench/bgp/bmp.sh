#!/usr/bin/env bash
# The BMP half of the `meridian bgp` benchmark (issue 14): decode rate of a
# BMP stream beside the MRT decode rate of the same updates, in the same
# run, then the BMP-to-alert latency of the live sensor.
# usage: bench/bgp/bmp.sh BUILD_DIR [OUTDIR]   (BUILD_DIR: a release build)
# OUTDIR keeps the generated files between runs (bench/bgp/run.sh's too).
set -euo pipefail
build=${1:?usage: bmp.sh BUILD_DIR [OUTDIR]}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bgp-bench.XXXXXX")}
here=$(dirname "$0")
meridian=$build/meridian
mkdir -p "$out"
[ -s "$out/updates.mrt" ] && [ -s "$out/vrps.csv" ] || "$build/bench/bgp/bgp-gen" "$out"
# the same UPDATEs as a router's BMP stream (Initiation, Peer Up per peer,
# one Route Monitoring message per MRT record)
[ -s "$out/updates.bmp" ] || /usr/bin/python3 "$here/mrt2bmp.py" "$out/updates.mrt" "$out/updates.bmp"
routes=$("$meridian" bgp decode "$out/updates.mrt" | wc -l)
# both decodes must print the same routes (BMP adds the Peer Up lines)
cmp <("$meridian" bgp decode "$out/updates.mrt") \
    <("$meridian" bgp decode "$out/updates.bmp" | grep -v '|STATE|') &&
  echo "updates.mrt and updates.bmp decode to the same $routes routes"
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" > /dev/null 2>"$out/stderr" || true
  read -r wall user sys rss < <(tail -n 1 "$out/time")
  awk -v n="$name" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$routes" -v m="$rss" \
    'BEGIN { printf "%-46s wall %6.2f s  cpu %6.2f s  %9.0f updates/cpu-s  %4.0f MB RSS\n",
             n, w, c, r / c, m / 1024 }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "bgp decode updates.mrt (MRT, BGP4MP)" "$meridian" bgp decode "$out/updates.mrt"
measure "bgp decode updates.bmp (BMP, same UPDATEs)" "$meridian" bgp decode "$out/updates.bmp"
measure "bgp scan +config +as-rel updates.mrt" "$meridian" bgp scan --vrps "$out/vrps.csv" \
  --config "$out/watch.json" --as-rel "$out/as-rel.txt" "$out/updates.mrt"
measure "bgp scan +config +as-rel updates.bmp" "$meridian" bgp scan --vrps "$out/vrps.csv" \
  --config "$out/watch.json" --as-rel "$out/as-rel.txt" "$out/updates.bmp"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$here/bmp_latency.py" "$build" "${BMP_LATENCY_N:-300}"
