#!/usr/bin/python3
"""The `meridian dns` benchmark (issue 18): CPU of one check round over N
watched names in the lab of tests/integration/dnslab.py (real NSD and
Unbound in a network namespace; needs root), side by side with the same
queries made by Debian's `drill` (ldnsutils) in a shell loop, the way a
cron script would watch names, in the same run.

usage: bench/dns/run.py BUILD_DIR [NAMES [ROUNDS [MODES]]]   (BUILD_DIR: a
release build, e.g. build-dev; NAMES default 1000, ROUNDS default 5; MODES
a comma-separated subset of seq0,seq50,default,validator, default all)

Each mode (one query at a time without and with the Hold-On window, the
default parallel round, and that with the in-process validator) runs
ROUNDS rounds. Prints per round wall and
CPU seconds (user + system) of the process, the queries it sent, the share of one core that one round per 60 s takes, the
findings (the healthy lab must give none), and the load average.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import dnslab  # noqa: E402


def timed(lab, *cmd):
    p = lab.ns_run("/usr/bin/time", "-f", "%e %U %S %M", *cmd, check=False, timeout=3600)
    wall, user, sys_, rss = p.stderr.strip().splitlines()[-1].split()
    return p, float(wall), float(user) + float(sys_), int(rss) // 1024


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    meridian = os.path.abspath(os.path.join(sys.argv[1], "meridian"))
    names = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    only = sys.argv[4].split(",") if len(sys.argv) > 4 else None
    with tempfile.TemporaryDirectory() as work, dnslab.Lab(work, extra_names=names) as lab:
        probes = [f"n{i}.example.tld." for i in range(names)]
        cfg = os.path.join(work, "bench.json")
        base = os.path.join(work, "baseline.json")
        with open(cfg, "w") as f:
            json.dump({"root": {"servers": [dnslab.ROOT]},
                       "zones": [{"zone": "example.tld.", "probe_names": probes}],
                       "vantages": [{"name": "own", "server": dnslab.VANTAGE}]}, f)
        lab.ns_run(meridian, "dns", "baseline", "--config", cfg, "-o", base)
        # the same with the in-process validator (libunbound, the lab's
        # private root and trust anchor)
        vcfg = os.path.join(work, "bench-validator.json")
        with open(cfg) as f, open(vcfg, "w") as g:
            c = json.load(f)
            c["root"]["trust_anchor"] = os.path.join(work, "root.ds")
            c["validator"] = True
            json.dump(c, g)
        # per probe: A and AAAA from the zone's server and from the vantage
        queries = 4 * names
        print(f"{names} watched names, {queries} probe queries per round "
              f"(plus the delegation, DNSSEC and SOA queries)")
        findings = 0
        # One query at a time without Hold-On (the sensor before parallel
        # rounds and injection detection), one at a time with Hold-On's
        # 50 ms, and the default (32 probe names at once, Hold-On 50 ms).
        modes = (("seq0", "sequential, --hold 0", cfg, ("--parallel", "1", "--hold", "0")),
                 ("seq50", "sequential, --hold 50", cfg, ("--parallel", "1")),
                 ("default", "default: --parallel 32 --hold 50", cfg, ()),
                 ("validator", "default, \"validator\": true", vcfg, ()))
        if only is not None:
            unknown = set(only) - {m[0] for m in modes}
            if unknown:
                sys.exit(f"unknown modes: {', '.join(sorted(unknown))}")
            modes = tuple(m for m in modes if m[0] in only)
        for key, mode, config, extra in modes:
            state = os.path.join(work, f"state-{key}.json")  # rounds as the sensor runs them
            for r in range(rounds):
                p, wall, cpu, rss = timed(lab, meridian, "dns", "check", "--config", config,
                                          "--baseline", base, "--state", state, "--json",
                                          *extra)
                found = [json.loads(line) for line in p.stdout.splitlines()]
                findings += len(found)
                print(f"meridian dns check ({mode}) round {r + 1}: wall {wall:6.2f} s  "
                      f"cpu {cpu:6.2f} s  {100 * cpu / 60:5.2f}% of a core at one round per "
                      f"60 s  {rss} MB RSS  {len(found)} findings", flush=True)
                # a false positive: say what it was
                for f in found:
                    print("  finding:", json.dumps({k: f.get(k) for k in (
                        "kind", "name", "vantage", "cause", "field", "expected", "observed",
                        "evidence")})[:600], flush=True)
        print(f"findings in {len(modes) * rounds} rounds of the healthy lab: {findings}",
              flush=True)
        script = os.path.join(work, "drill.sh")
        with open(script, "w") as f:
            f.write("for n in " + " ".join(probes) + "; do\n"
                    f"  drill -Q @{dnslab.ZONE} $n A >/dev/null; drill -Q @{dnslab.ZONE} $n AAAA"
                    f" >/dev/null\n  drill -Q @{dnslab.VANTAGE} $n A >/dev/null;"
                    f" drill -Q @{dnslab.VANTAGE} $n AAAA >/dev/null\ndone\n")
        _, wall, cpu, rss = timed(lab, "sh", script)
        print(f"drill loop (same {queries} queries): wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
              f"{100 * cpu / 60:5.2f}% of a core at one round per 60 s")
        print("load average:", open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
