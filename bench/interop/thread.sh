#!/usr/bin/env bash
# Where the importer's thread spends its time (README.md, branches imp4, imp):
# `meridian import` of FILE into a fresh data directory under perf, then
# the CPU per object of the samples on the main thread whose stack holds
# each of the store's steps.
#
#   bench/interop/thread.sh BIN FILE
set -euo pipefail
bin=$1 f=$2
d=$(mktemp -d "${TMPDIR:-/tmp}/thread.XXXXXX")
trap 'rm -rf "$d"' EXIT
"$bin" init --data "$d/data" --org cert-a >/dev/null 2>&1
"$bin" collection create --data "$d/data" --api-root api1 --title bench --alias ioc >/dev/null 2>&1
perf record -q -F 999 --call-graph dwarf,16384 -o "$d/perf.data" -- \
  "$bin" import --data "$d/data" --collection api1/ioc "$f" >/dev/null 2>&1
n=$(grep -o '"type":"indicator"' "$f" | wc -l)
perf script -i "$d/perf.data" -F pid,tid,ip,sym 2>/dev/null | /usr/bin/python3 -c '
import collections, sys
n = int(sys.argv[1]); hz = 999.0; samples = []; cur = None
for line in sys.stdin:
    p = line.split()
    if len(p) == 1:  # a sample: "pid/tid", then its stack
        if cur:
            samples.append(cur)
        cur = [p[0]]
    elif len(p) > 1 and cur is not None:
        cur.append(p[1])
if cur:
    samples.append(cur)
# the main thread (tid = pid): thread ids may wrap, the lowest is not it
ms = [set(s[1:]) for s in samples if s[0].split("/")[0] == s[0].split("/")[-1]]
# gcc -O3 splits some functions (batch_flush.part.0): count them as theirs
ms = [m | {f.split(".")[0] for f in m} for m in ms]
print("all threads %.2f s, main thread %.2f s (%.1f us/object)"
      % (len(samples) / hz, len(ms) / hz, len(ms) / hz / n * 1e6))
for f in ["store_objects_insert", "batch_flush", "batch_agg", "find_fresh", "values_flush",
          "sq__index_text_after", "sqlite3_exec", "json_array_clear", "cli_data_ledger_catch_up",
          "crypto_hash_sha256", "merkle_sha256", "prep_one"]:
    print("  %-26s %5.1f us/object" % (f, sum(1 for s in ms if f in s) / hz / n * 1e6))
' "$n"
