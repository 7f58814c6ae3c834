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
# bgpdump first: its output tells the route count for the figures.
/usr/bin/time -f "%e %U %S %M" -o "$out/time.bgpdump" bgpdump -m "$out/rib.mrt" \
  > "$out/bgpdump.txt" 2>/dev/null
routes=$(wc -l < "$out/bgpdump.txt")
echo "rib.mrt: $(du -h "$out/rib.mrt" | cut -f1), $routes routes; vrps.csv: $vrps VRPs"
cp "$out/time.bgpdump" "$out/time"
read -r wall user sys rss < <(tail -n 1 "$out/time")
awk -v n="bgpdump -m > file" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$routes" \
  -v m="$rss" 'BEGIN { printf "%-42s wall %7.2f s  cpu %7.2f s  %9.0f routes/cpu-s  %5.0f MB RSS\n",
                       n, w, c, r / c, m / 1024 }'
measure "meridian bgp decode > file" "$out/meridian.txt" "$meridian" bgp decode "$out/rib.mrt"
cmp "$out/bgpdump.txt" "$out/meridian.txt" && echo "  (output identical to bgpdump -m)"
measure "meridian bgp scan --rov-all (decode+ROV)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" --rov-all "$out/rib.mrt"
measure "meridian bgp scan (decode+ROV, invalids)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" "$out/rib.mrt"
rm -f "$out/bgpdump.txt" "$out/meridian.txt"

# The update stream: decode + ROV + hijack/leak/outage detection.
/usr/bin/time -f "%e %U %S %M" -o "$out/time.bgpdump" bgpdump -m "$out/updates.mrt" \
  > "$out/bgpdump.txt" 2>/dev/null
routes=$(wc -l < "$out/bgpdump.txt")
echo "updates.mrt: $(du -h "$out/updates.mrt" | cut -f1), $routes updates;" \
  "watch.json: $(grep -c '"prefix"' "$out/watch.json") prefixes;" \
  "as-rel.txt: $(grep -vc '^#' "$out/as-rel.txt") links"
cp "$out/time.bgpdump" "$out/time"
read -r wall user sys rss < <(tail -n 1 "$out/time")
awk -v n="bgpdump -m > file" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$routes" \
  -v m="$rss" 'BEGIN { printf "%-42s wall %7.2f s  cpu %7.2f s  %9.0f updates/cpu-s  %5.0f MB RSS\n",
                       n, w, c, r / c, m / 1024 }'
measure "meridian bgp decode > file" "$out/meridian.txt" "$meridian" bgp decode "$out/updates.mrt"
cmp "$out/bgpdump.txt" "$out/meridian.txt" && echo "  (output identical to bgpdump -m)"
measure "meridian bgp scan (decode+ROV)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" "$out/updates.mrt"
measure "meridian bgp scan +config +as-rel (all)" /dev/null \
  "$meridian" bgp scan --vrps "$out/vrps.csv" --config "$out/watch.json" \
  --as-rel "$out/as-rel.txt" "$out/updates.mrt"
rm -f "$out/bgpdump.txt" "$out/meridian.txt"
