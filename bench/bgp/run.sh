#!/usr/bin/env bash
# Runs the `meridian bgp` benchmark: generates the files (bench/bgp/gen.c),
# then times Debian's bgpdump and meridian on the same RIB dump, in the same
# run. usage: bench/bgp/run.sh BUILD_DIR [OUTDIR]   (BUILD_DIR: a release
# build, e.g. build-dev). Prints one line per tool: wall seconds, routes/s,
# peak RSS.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [OUTDIR]}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bgp-bench.XXXXXX")}
meridian=$build/meridian
mkdir -p "$out"
"$build/bench/bgp/bgp-gen" "$out"
routes=$("$meridian" bgp decode "$out/rib.mrt" | wc -l)
vrps=$(($(wc -l < "$out/vrps.csv") - 1))
echo "rib.mrt: $(du -h "$out/rib.mrt" | cut -f1), $routes routes; vrps.csv: $vrps VRPs"
cmp <(bgpdump -m "$out/rib.mrt" 2>/dev/null) <("$meridian" bgp decode "$out/rib.mrt") &&
  echo "meridian bgp decode output identical to bgpdump -m"
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time" "$@" > /dev/null 2>"$out/stderr" || true
  read -r secs rss < "$out/time"
  awk -v n="$name" -v s="$secs" -v r="$routes" -v m="$rss" \
    'BEGIN { printf "%-40s %7.2f s %10.0f routes/s %6.0f MB RSS\n", n, s, r / s, m / 1024 }'
}
measure "bgpdump -m > /dev/null" bgpdump -m "$out/rib.mrt"
measure "meridian bgp decode > /dev/null" "$meridian" bgp decode "$out/rib.mrt"
measure "meridian bgp scan --rov-all (decode+ROV)" \
  "$meridian" bgp scan --vrps "$out/vrps.csv" --rov-all "$out/rib.mrt"
measure "meridian bgp scan (decode+ROV, invalids)" \
  "$meridian" bgp scan --vrps "$out/vrps.csv" "$out/rib.mrt"
