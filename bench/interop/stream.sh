#!/usr/bin/env bash
# Streaming import and validation benchmark (docs in README.md): the same
# bundle of N indicators imported into a fresh data directory and validated
# by AFTER (streaming) and by BEFORE (a build of main: whole-file reads),
# one after the other in the same run, with wall and CPU time and peak RSS.
#
#   bench/interop/stream.sh AFTER_BIN BEFORE_BIN [N]
set -euo pipefail
after=$1 before=$2 n=${3:-1000000}
out=bench/out/interop
mkdir -p "$out"
[ -f "$out/ind-$n.json" ] || /usr/bin/python3 bench/interop/gen.py "$out/ind-$n.json" "$n"
ls -l "$out/ind-$n.json"
t() { /usr/bin/time -f "$1: %e s wall, %U user %S sys, %M KB peak RSS" "${@:2}" >/dev/null 2>"$out/err-$n" ||
        true; grep -v '^meridian import: .*: object ' "$out/err-$n" | tail -2; }
for who in after before; do
  bin=$after
  [ "$who" = before ] && bin=$before
  rm -rf "$out/stream-$who-$n"
  "$bin" init --data "$out/stream-$who-$n" --org cert-a >/dev/null 2>&1
  "$bin" collection create --data "$out/stream-$who-$n" --api-root api1 --title bench \
    --alias ioc >/dev/null 2>&1
  uptime
  t "$who import" "$bin" import --data "$out/stream-$who-$n" --collection api1/ioc \
    "$out/ind-$n.json"
  uptime
  t "$who validate" "$bin" validate "$out/ind-$n.json"
done
# the floor of what people use instead: the OASIS stix2-validator is not in
# Debian; Python's json.load of the same file only parses it, no STIX checks
uptime
t "python3 json.load" /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1], "rb"))' \
  "$out/ind-$n.json"
uptime
