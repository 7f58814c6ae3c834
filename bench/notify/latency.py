#!/usr/bin/env python3
"""Latency of constituency early warning inside a real `meridian serve`:
from the moment an object version is stored (objects.date_added) to the
moment its notification is recorded (notifications.created), both read
from the node's own database after the run, so no polling skews them.

usage: bench/notify/latency.py MERIDIAN_BIN [--assets N] [--objects N] [--rate R]

Declares N prefixes spread over --orgs constituents (default 100), starts the node on
127.0.0.1, POSTs --objects indicators one per request at about --rate per
second (each inside some constituent's prefix), waits for the router to
catch up, and prints the median, p99 and maximum latency."""
import argparse
import json
import pathlib
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import requests

TAXII = "application/taxii+json;version=2.1"


def run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit(f"{args}: {p.stderr}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--assets", type=int, default=10000)
    ap.add_argument("--objects", type=int, default=500)
    ap.add_argument("--orgs", type=int, default=100)
    ap.add_argument("--rate", type=float, default=20.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "node"
        out = run(a.bin, "init", "--data", data, "--org", "own")
        token = re.search(r"mrd_[A-Za-z0-9_-]{43}", out).group(0)
        coll = re.search(r"[0-9a-f-]{36}", run(a.bin, "collection", "create", "--data", data,
                                               "--api-root", "api1", "--title", "bench")).group(0)
        run(a.bin, "grant", "--data", data, "--org", "own", "--collection", coll,
            "--read", "--write")
        orgs = [f"c{i}" for i in range(a.orgs)]
        for o in orgs:
            run(a.bin, "org", "create", o, "--relation", "constituent", "--data", data)
            run(a.bin, "grant", "--data", data, "--org", o, "--collection", coll, "--read")
        prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(min(a.assets, 65536))]
        per = {}
        for i, p in enumerate(prefixes):
            per.setdefault(orgs[i % len(orgs)], []).append(p)
        for o, ps in per.items():
            f = pathlib.Path(tmp) / f"{o}.txt"
            f.write_text("\n".join(ps) + "\n")
            run(a.bin, "asset", "import", "--org", o, f, "--data", data)
        ready = pathlib.Path(tmp) / "ready"
        srv = subprocess.Popen([a.bin, "serve", "--data", str(data), "--http", "--listen",
                                "127.0.0.1:0", "--ready-file", str(ready)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                if ready.exists() and ready.read_text().strip():
                    break
                time.sleep(0.05)
            url = "http://" + ready.read_text().strip()
            h = {"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII}
            s = requests.Session()
            for i in range(a.objects):
                p = random.choice(prefixes).split("/")[0].rsplit(".", 1)[0]
                ind = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                       "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
                       "pattern": f"[ipv4-addr:value = '{p}.{1 + i % 250}']",
                       "pattern_type": "stix", "valid_from": "2026-12-01T00:00:00Z"}
                r = s.post(f"{url}/api1/collections/{coll}/objects/", headers=h,
                           data=json.dumps({"objects": [ind]}), timeout=30)
                r.raise_for_status()
                time.sleep(1.0 / a.rate)
            time.sleep(3)
        finally:
            srv.terminate()
            srv.wait(timeout=60)
        con = sqlite3.connect(data / "meridian.db")
        lat = sorted(row[0] / 1000.0 for row in con.execute(
            "SELECT n.created - o.date_added FROM notifications n JOIN objects o ON o.seq = n.seq"))
        if len(lat) < a.objects:
            sys.exit(f"only {len(lat)} notifications for {a.objects} objects")
        print(f"{len(lat)} notifications, {len(prefixes)} prefixes over {len(per)} constituents: "
              f"median {lat[len(lat) // 2]:.0f} ms, p99 {lat[int(len(lat) * 0.99)]:.0f} ms, "
              f"max {lat[-1]:.0f} ms")


if __name__ == "__main__":
    main()
