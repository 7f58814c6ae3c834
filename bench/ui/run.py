#!/usr/bin/env python3
"""bench/ui: the console's API on a loaded node, server time from the
Server-Timing header (what the server spent; the network is not counted).

usage: run.py BUILD_DIR N S [ROUNDS]   (README.md)
       NODE=DIR TOKEN=T run.py BUILD_DIR N S [ROUNDS]   (time a loaded DIR)
Makes a node in bench/out/ui (meridian init, one collection), generates
and imports N objects and S sightings (gen.py), starts `meridian serve
--http`, and times each scenario ROUNDS times (default 200): search by
exact value, by CIDR containment, by domain suffix, a bulk lookup of 1,000
mixed values, the overview for 30 days, and an object page. Prints
p50/p99/max of the server time in ms and the server's CPU time per request
(steadier on a shared machine), the database size and the value index's
share of it.
"""
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import requests

build, n, s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 200
root = pathlib.Path(__file__).resolve().parents[2]
out = root / "bench" / "out" / "ui"
binp = str(pathlib.Path(build).resolve() / "meridian")
gen = out / f"gen-{n}-{s}"
# NODE=DIR TOKEN=T: time an already loaded data directory (e.g. one imported
# by another build, then migrated by this one) instead of making one.
reuse = os.environ.get("NODE")
data = pathlib.Path(reuse) if reuse else out / "node"
if not reuse:
    shutil.rmtree(data, ignore_errors=True)
out.mkdir(parents=True, exist_ok=True)
if not (gen / "queries.json").exists():
    t = time.time()
    subprocess.run([sys.executable, str(root / "bench/ui/gen.py"), str(n), str(s), str(gen)],
                   check=True)
    print(f"generated in {time.time() - t:.0f} s", flush=True)
if reuse:
    token = os.environ["TOKEN"]
    t = time.time()
    subprocess.run([binp, "migrate", "--data", str(data)], check=True)
    print(f"migrated (if needed) in {time.time() - t:.0f} s", flush=True)
else:
    token = subprocess.run([binp, "init", "--data", str(data), "--org", "own"], check=True,
                           capture_output=True, text=True).stdout.strip().split()[-1]
    coll = subprocess.run([binp, "collection", "create", "--data", str(data), "--api-root",
                           "api1", "--title", "bench", "--alias", "bench"], check=True,
                          capture_output=True, text=True).stdout.strip().split()[-1]
    t = time.time()
    parts = sorted(str(p) for p in gen.glob("part-*.json"))
    subprocess.run([binp, "import", "--data", str(data), "--collection", "api1/bench", *parts],
                   check=True, stderr=subprocess.DEVNULL)
    print(f"imported {n} objects + {s} sightings in {time.time() - t:.0f} s", flush=True)
db = data / "meridian.db"
con = sqlite3.connect(db)
pages = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
con.close()
total = sum(pages.values())
index = pages.get("value_index", 0)
agg = sum(v for k, v in pages.items() if k.startswith("agg_") or k.startswith("sqlite_autoindex_agg"))
print(f"database {total / 1e6:.0f} MB, value index {index / 1e6:.1f} MB "
      f"({100 * index / (total - index):.1f} % on top of the rest), overview aggregates "
      f"{agg / 1e6:.1f} MB", flush=True)
ready = out / "ready"
if ready.exists():
    ready.unlink()
srv = subprocess.Popen([binp, "serve", "--data", str(data), "--listen", "127.0.0.1:0", "--http",
                        "--ready-file", str(ready), "--rate", "0", "--sync-interval", "0"],
                       stderr=subprocess.DEVNULL)
while not ready.exists():
    time.sleep(0.05)
url = "http://" + ready.read_text().strip()
q = json.loads((gen / "queries.json").read_text())
sess = requests.Session()
sess.headers["Authorization"] = f"Bearer {token}"


def timed(method, path, **kw):
    r = sess.request(method, url + path, timeout=120, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return float(r.headers["Server-Timing"].split("dur=")[1]), r.json()


def cpu_ms():
    f = open(f"/proc/{srv.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def scenario(name, reqs, check):
    times = []
    c0 = cpu_ms()
    for i in range(rounds):
        req = reqs(i)
        ms, body = timed(req[0], req[1], **(req[2] if len(req) > 2 else {}))
        check(body)
        times.append(ms)
    times.sort()
    p = lambda f: times[min(len(times) - 1, int(f * len(times)))]
    cpu = (cpu_ms() - c0) / rounds
    print(f"| {name} | {p(0.5):.2f} | {p(0.99):.2f} | {times[-1]:.2f} | {cpu:.2f} |", flush=True)


try:
    print("| scenario | p50 ms | p99 ms | max ms | server CPU ms/request |\n|---|---|---|---|---|")
    load = open("/proc/loadavg").read().split()[0]
    print(f"(load average {load} on {os.cpu_count()} cores)", flush=True)
    scenario("search, exact value", lambda i: ("GET", "/api/v1/search?q=" + q["exact"][i % 200]),
             lambda b: b["results"])
    scenario("search, CIDR containment", lambda i: ("GET", "/api/v1/search?q=" + q["cidr"][i % 200]),
             lambda b: b["results"])
    scenario("search, domain suffix", lambda i: ("GET", "/api/v1/search?q=" + q["suffix"][i % 200]),
             lambda b: b["results"])
    scenario("object page", lambda i: ("GET", "/api/v1/objects/" + q["objects"][i % 200]),
             lambda b: b["object"])
    bulk = q["bulk"][:1000]
    scenario("bulk lookup, 1,000 values", lambda i: ("POST", "/api/v1/search",
                                                     {"json": {"values": bulk}}),
             lambda b: b["known"] == len(bulk))
    rounds = max(3, rounds // 20)
    scenario("overview, 30 days", lambda i: ("GET", "/api/v1/overview?days=30"),
             lambda b: b["received"]["total"] >= n and b["sightings"]["total"] > 0)
    scenario("overview, 1 day (hourly)", lambda i: ("GET", "/api/v1/overview?days=1"),
             lambda b: b["received"]["total"] >= 0)
finally:
    srv.send_signal(signal.SIGTERM)
    srv.wait(timeout=60)
