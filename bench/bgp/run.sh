#!/usr/bin/env bash
# Runs the `meridian bgp` benchmark: generates the files (bench/bgp/gen.c)
# unless OUTDIR already holds them, then times Debian's bgpdump and meridian
# on the same RIB dump in the same run, and checks that both printed the
# same lines. usage: bench/bgp/run.sh BUILD_DIR [OUTDIR]   (BUILD_DIR: a
# release build, e.g. build-dev). Prints per tool: wall and CPU seconds,
# routes per CPU second, peak RSS.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [OUTDIR]}
out=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bgp-bench.XXXXXX")}
meridian=$build/meridian
mkdir -p "$out"
[ -s "$out/rib.mrt" ] && [ -s "$out/vrps.csv" ] && [ -s "$out/updates.mrt" ] ||
  "$build/bench/bgp/bgp-gen" "$out"
vrps=$(($(wc -l < "$out/vrps.csv") - 1))
routes=""
measure() {
  local name=$1 dest=$2; shift 2
  # GNU time prints "Command exited with non-zero status N" first when the
  # command fails (scan exits 1 when it finds invalid routes): keep the
  # last line.
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" > "$dest" 2>"$out/stderr" || true
  read -r wall user sys rss < <(tail -n 1 "$out/time")
  awk -v n="$name" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$routes" -v m="$rss" \
    'BEGIN { printf "%-42s wall %7.2f s  cpu %7.2f s  %9.0f routes/cpu-s  %5.0f MB RSS\n",
             n, w, c, r / c, m / 1024 }'
}
# bgpdump first: its output tells the route count for the figures; then
# meridian decodes the same file and must print the same lines.
reference() {
  local file=$1
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.bgpdump" bgpdump -m "$file" \
    > "$out/bgpdump.txt" 2>/dev/null
  routes=$(wc -l < "$out/bgpdump.txt")
  echo "$(basename "$file"): $(du -h "$file" | cut -f1), $routes routes"
  cp "$out/time.bgpdump" "$out/time"
  read -r wall user sys rss < <(tail -n 1 "$out/time")
  awk -v n="bgpdump -m > file" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$routes" \
    -v m="$rss" 'BEGIN { printf "%-42s wall %7.2f s  cpu %7.2f s  %9.0f routes/cpu-s  %5.0f MB RSS\n",
                         n, w, c, r / c, m / 1024 }'
  measure "meridian bgp decode > file" "$out/meridian.txt" "$meridian" bgp decode "$file"
  cmp "$out/bgpdump.txt" "$out/meridian.txt" && echo "  (output identical to bgpdump -m)"
  rm -f "$out/bgpdump.txt" "$out/meridian.txt"
}
echo "vrps.csv: $vrps VRPs"
reference "$out/rib.mrt"
measure "meridian bgp scan --rov-all (decode+ROV)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" --rov-all "$out/rib.mrt"
measure "meridian bgp scan (decode+ROV, invalids)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" "$out/rib.mrt"

# The update stream: decode + ROV + hijack/leak/outage detection
# (a route here is one announced or withdrawn prefix).
echo "watch.json: $(grep -c '"prefix"' "$out/watch.json") prefixes;" \
  "as-rel.txt: $(grep -vc '^#' "$out/as-rel.txt") links"
reference "$out/updates.mrt"
measure "meridian bgp scan (decode+ROV)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" "$out/updates.mrt"
measure "meridian bgp scan +config +as-rel (all)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" --config "$out/watch.json" \
  --as-rel "$out/as-rel.txt" "$out/updates.mrt"
