#!/usr/bin/python3
"""Benchmark `meridian match --subdomains` against cat, wc -l, grep -F -f and
rg -F -f on the same generated files (issue #5).

    bench/match/run.py --meridian BUILD/meridian --gen BUILD/bench/match/match-gen
                       [--out bench/out/match] [--scale 1.0] [--set 1m]
                       [--repeat 3] [--grep-set 10k] [--grep-lines N] [--skip-grep]

Generates the corpus once (bench/out/ is git-ignored), then measures each
tool with /usr/bin/time -v (wall time, peak RSS) `--repeat` times and prints
best and median wall, MB/s, peak RSS, and precision/recall against
truth.tsv: per (line, indicator) for meridian, per line for every tool
(grep/rg print lines, not indicators). grep and rg take minutes on big
indicator sets, so they run on --grep-set (default 10k) and, with
--grep-lines N, on the first N lines of each file; the table says so.
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

FILES = ["access.log", "dns.log", "fw.csv"]
SETS = {"10k": 10000, "100k": 100000, "1m": 1000000}


def timed(cmd, stdout=subprocess.DEVNULL, shell=False):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS KiB, rc,
    stderr, user+system CPU seconds)."""
    full = ["/usr/bin/time", "-v"] + (["sh", "-c", cmd] if shell else cmd)
    p = subprocess.run(full, stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = rss = None
    cpu = 0.0
    for line in p.stderr.splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            t = line.split(": ", 1)[1]
            parts = [float(x) for x in t.split(":")]
            wall = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.split(": ", 1)[1])
        elif line.startswith("User time (seconds)") or line.startswith("System time (seconds)"):
            cpu += float(line.split(": ", 1)[1])
    return wall, rss, p.returncode, p.stderr, cpu


def truth_sets(out, nset):
    pairs, lines = set(), set()
    with open(out / "truth.tsv") as f:
        for row in f:
            file, line, idx, ind = row.rstrip("\n").split("\t")
            if int(idx) < nset:
                pairs.add((file, int(line), ind))
                lines.add((file, int(line)))
    return pairs, lines


def pr(found, truth):
    tp = len(found & truth)
    p = tp / len(found) if found else (1.0 if not truth else 0.0)
    r = tp / len(truth) if truth else 1.0
    return p, r, tp, len(found), len(truth)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meridian", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--out", default="bench/out/match")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--set", default="1m", choices=SETS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--grep-set", default="10k", choices=SETS)
    ap.add_argument("--grep-lines", type=int, default=0)
    ap.add_argument("--skip-grep", action="store_true")
    a = ap.parse_args()

    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / "scale.txt"
    if not stamp.exists() or stamp.read_text().strip() != str(a.scale):
        print(f"generating corpus at scale {a.scale} into {out} ...", flush=True)
        subprocess.run([a.gen, str(out), "--scale", str(a.scale)], check=True)
        stamp.write_text(str(a.scale))
    files = [str(out / f) for f in FILES]
    size = sum(os.path.getsize(f) for f in files)
    nlines = int(subprocess.run(["sh", "-c", "cat " + " ".join(files) + " | wc -l"],
                                capture_output=True, text=True).stdout)
    print(f"corpus: {size / 1e9:.3f} GB, {nlines} lines; indicator set {a.set}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    # warm the page cache
    subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL)

    rows = []

    def bench(name, cmd, shell=False, nbytes=size, note=""):
        walls, cpus, rss = [], [], 0
        for _ in range(a.repeat):
            w, r, rc, err, cpu = timed(cmd, shell=shell)
            if rc not in (0, 1):
                print(f"{name}: exit {rc}\n{err[-2000:]}", file=sys.stderr)
            walls.append(w)
            cpus.append(cpu)
            rss = max(rss, r or 0)
        best, med = min(walls), statistics.median(walls)
        rows.append((name, best, med, nbytes / 1e6 / best, rss / 1024, note))
        print(f"  {name:<34} best {best:7.2f} s  median {med:7.2f} s  "
              f"{nbytes / 1e6 / best:8.0f} MB/s  cpu {min(cpus):7.2f} s  "
              f"peak RSS {rss / 1024:8.0f} MB  {note}", flush=True)

    bench("cat", ["sh", "-c", "cat " + " ".join(files) + " > /dev/null"])
    bench("wc -l", ["wc", "-l"] + files)

    # meridian: load-only (index build) and the full scan
    ind = str(out / f"ind-{a.set}.json")
    empty = out / "empty.log"
    empty.write_text("")
    load = []
    for _ in range(a.repeat):
        w, r, rc, err, cpu = timed([a.meridian, "match", "--indicators", ind, "--format",
                                    "combined", str(empty)])
        m = re.search(r"indicators \((\d+) index keys\) in ([\d.]+) s", err)
        load.append((w, r, float(m.group(2)) if m else None, cpu))
    print(f"  {'meridian load+index ' + a.set:<34} best {min(x[0] for x in load):7.2f} s  "
          f"median {statistics.median(x[0] for x in load):7.2f} s  (reported load "
          f"{min(x[2] for x in load if x[2] is not None):.2f} s, cpu "
          f"{min(x[3] for x in load):.2f} s)  peak RSS "
          f"{max(x[1] for x in load) / 1024:8.0f} MB", flush=True)

    # The whole run, and its two phases as meridian reports them: the load
    # line on stderr and the summary's "total: ... in S s" on stdout.
    hits = out / "hits.jsonl"
    summary = out / "summary.txt"
    name = f"meridian match --subdomains {a.set}"
    walls, cpus, rss, loads, scans = [], [], 0, [], []
    for _ in range(a.repeat):
        with open(summary, "w") as so:
            w, r, rc, err, cpu = timed([a.meridian, "match", "--subdomains", "--indicators", ind,
                                        "--hits", str(hits)] + files, stdout=so)
        if rc not in (0, 1):
            print(f"{name}: exit {rc}\n{err[-2000:]}", file=sys.stderr)
        walls.append(w)
        cpus.append(cpu)
        rss = max(rss, r or 0)
        m = re.search(r"index keys\) in ([\d.]+) s", err)
        if m:
            loads.append(float(m.group(1)))
        m = re.search(r"^total: .* in ([\d.]+) s", summary.read_text(), re.M)
        if m:
            scans.append(float(m.group(1)))
    best, med = min(walls), statistics.median(walls)
    rows.append((name, best, med, size / 1e6 / best, rss / 1024, ""))
    print(f"  {name:<34} best {best:7.2f} s  median {med:7.2f} s  "
          f"{size / 1e6 / best:8.0f} MB/s  cpu {min(cpus):7.2f} s  "
          f"peak RSS {rss / 1024:8.0f} MB", flush=True)
    if loads and scans:
        print(f"  {'  phases (best / median)':<34} load {min(loads):.2f} / "
              f"{statistics.median(loads):.2f} s  scan {min(scans):.3f} / "
              f"{statistics.median(scans):.3f} s ({size / 1e6 / min(scans):.0f} MB/s)",
              flush=True)
    found_pairs, found_lines = set(), set()
    with open(hits) as f:
        for row in f:
            h = json.loads(row)
            fn = os.path.basename(h["file"])
            found_pairs.add((fn, h["line"], h["indicator"]))
            found_lines.add((fn, h["line"]))
    tp, tl = truth_sets(out, SETS[a.set])
    p, r, ntp, nf, nt = pr(found_pairs, tp)
    print(f"  meridian {a.set}: (line, indicator) precision {p:.6f} recall {r:.6f} "
          f"({ntp} true of {nf} found, {nt} expected)")
    p, r, ntp, nf, nt = pr(found_lines, tl)
    print(f"  meridian {a.set}: line precision {p:.6f} recall {r:.6f} "
          f"({ntp} true of {nf} found, {nt} expected)")

    if a.skip_grep:
        return
    # grep / rg on the smaller set (and optionally a prefix of each file)
    vals = str(out / f"values-{a.grep_set}.txt")
    gfiles, note = files, f"set {a.grep_set}"
    limit = a.grep_lines
    if limit:
        gfiles = []
        for f in files:
            sub = out / ("head-" + os.path.basename(f))
            if not sub.exists() or sum(1 for _ in open(sub)) != limit:
                subprocess.run(["sh", "-c", f"head -n {limit} {f} > {sub}"], check=True)
            gfiles.append(str(sub))
        note += f", first {limit} lines per file"
    gsize = sum(os.path.getsize(f) for f in gfiles)
    tp_g, tl_g = truth_sets(out, SETS[a.grep_set])
    if limit:
        tl_g = {(f, l) for (f, l) in tl_g if l <= limit}
        tp_g = {(f, l, i) for (f, l, i) in tp_g if l <= limit}
    # meridian on exactly the same input for comparison
    mh = out / "hits-grepset.jsonl"
    bench(f"meridian match --subdomains {a.grep_set}",
          [a.meridian, "match", "--subdomains", "--quiet", "--indicators",
           str(out / f"ind-{a.grep_set}.json"), "--hits", str(mh)] + gfiles, nbytes=gsize,
          note=note)
    ml = set()
    with open(mh) as f:
        for row in f:
            h = json.loads(row)
            ml.add((os.path.basename(h["file"]).replace("head-", ""), h["line"]))
    p, r, ntp, nf, nt = pr(ml, tl_g)
    print(f"  meridian {a.grep_set}: line precision {p:.6f} recall {r:.6f} ({ntp}/{nf}/{nt})")
    for tool, cmd in (("grep -F -f", ["grep", "-F", "-n", "-H", "-f", vals]),
                      ("rg -F -f", ["rg", "-F", "-n", "-H", "--no-heading", "-f", vals])):
        gout = out / ("out-" + tool.split()[0] + ".txt")
        shell = " ".join(cmd + gfiles) + f" > {gout}"
        bench(tool + " " + a.grep_set, shell, shell=True, nbytes=gsize, note=note)
        gl = set()
        with open(gout, errors="replace") as f:
            for row in f:
                fn, ln, _ = row.split(":", 2)
                gl.add((os.path.basename(fn).replace("head-", ""), int(ln)))
        p, r, ntp, nf, nt = pr(gl, tl_g)
        print(f"  {tool} {a.grep_set}: line precision {p:.6f} recall {r:.6f} "
              f"({ntp}/{nf}/{nt})", flush=True)


if __name__ == "__main__":
    main()
