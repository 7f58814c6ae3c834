#!/usr/bin/env python3
"""bench/ui: what the value index costs at POST ingest (bench/ui/README.md).

usage: ingest.py PART_FILE N ROUNDS BIN_A BIN_B ...

For each round and each binary in turn (alternating, so that all see the
same load on a shared machine): a fresh node (`meridian init`, one
collection), `meridian serve --http`, then the first N objects of
PART_FILE (a gen.py part: indicators on addresses, ranges, domains and
URLs, file hashes) POSTed through TAXII in envelopes of 100 by one client,
each committed before its 202. Prints per binary and round: wall seconds,
the server's CPU seconds (user + system from /proc) and the database size
after a checkpoint, and the load average.
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

part, n, rounds, bins = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
root = pathlib.Path(__file__).resolve().parents[2]
out = root / "bench" / "out" / "ui-ingest"
objs = json.loads(pathlib.Path(part).read_text())["objects"][:n]
envs = [json.dumps({"objects": objs[i:i + 100]}) for i in range(0, len(objs), 100)]


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def one(binp):
    data = out / "node"
    shutil.rmtree(data, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    token = subprocess.run([binp, "init", "--data", str(data), "--org", "own"], check=True,
                           capture_output=True, text=True).stdout.strip().split()[-1]
    coll = subprocess.run([binp, "collection", "create", "--data", str(data), "--api-root",
                           "api1", "--title", "bench"], check=True, capture_output=True,
                          text=True).stdout.strip().split()[-1]
    ready = out / "ready"
    if ready.exists():
        ready.unlink()
    srv = subprocess.Popen([binp, "serve", "--data", str(data), "--listen", "127.0.0.1:0",
                            "--http", "--ready-file", str(ready), "--rate", "0",
                            "--sync-interval", "0"], stderr=subprocess.DEVNULL)
    try:
        t0 = time.time() + 30
        while not ready.exists():
            assert time.time() < t0 and srv.poll() is None, "server did not start"
            time.sleep(0.05)
        url = f"http://{ready.read_text().strip()}/api1/collections/{coll}/objects/"
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {token}",
                          "Content-Type": "application/taxii+json;version=2.1",
                          "Accept": "application/taxii+json;version=2.1"})
        c0, w0 = cpu_s(srv.pid), time.time()
        for e in envs:
            r = s.post(url, data=e, timeout=120)
            assert r.status_code == 202 and r.json()["failure_count"] == 0, r.text[:200]
        wall, cpu = time.time() - w0, cpu_s(srv.pid) - c0
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=60)
    con = sqlite3.connect(data / "meridian.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    con.close()
    return wall, cpu, sum(pages.values()), pages.get("value_index", 0)


print(f"{len(objs)} objects in {len(envs)} POSTs of 100, {rounds} rounds")
print("| binary | round | wall s | server CPU s | database MB | value_index MB | load |")
print("|---|---|---|---|---|---|---|")
for r in range(rounds):
    for b in bins:
        wall, cpu, size, idx = one(b)
        load = open("/proc/loadavg").read().split()[0]
        print(f"| {b} | {r + 1} | {wall:.1f} | {cpu:.2f} | {size / 1e6:.1f} | {idx / 1e6:.1f}"
              f" | {load} |", flush=True)
