#!/usr/bin/env bash
# `meridian validate` of the same bundle of N indicators by AFTER and
# BEFORE, interleaved, RUNS times each (docs in README.md): wall, CPU
# (user + sys) and peak RSS per run, the load average beside them. AFTER
# runs with its default threads and with --threads 1.
#
#   bench/interop/validate.sh AFTER_BIN BEFORE_BIN [N] [RUNS]
set -euo pipefail
after=$1 before=$2 n=${3:-100000} runs=${4:-3}
out=bench/out/interop
mkdir -p "$out"
f=$out/ind-$n.json
[ -f "$f" ] || /usr/bin/python3 bench/interop/gen.py "$f" "$n"
ls -l "$f"
t() { /usr/bin/time -f "$1: %e s wall, %U user %S sys, %M KB peak RSS" "${@:2}" >/dev/null \
        2>"$out/verr-$n" || true; tail -1 "$out/verr-$n"; }
for r in $(seq "$runs"); do
  echo "run $r: $(cut -d' ' -f1-3 /proc/loadavg)"
  t "after (threads: default)" "$after" validate "$f"
  t "after --threads 1" "$after" validate --threads 1 "$f"
  t "before" "$before" validate "$f"
done
