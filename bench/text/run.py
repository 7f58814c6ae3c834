#!/usr/bin/python3
"""What the free-text and reference indexes (store_sqlite_text.c) cost at
ingest: the same data set imported by two builds of `meridian`, one
without the indexes (BASE, e.g. the commit before them) and one with them
(NEW), side by side in the same run, alternating, ROUNDS times each.

    /usr/bin/python3 bench/text/run.py BASE_BUILD NEW_BUILD N [ROUNDS]

Data (deterministic): N objects, of which 50 % indicators with a name and
a 200-character description, 20 % reports (name, description, 5
object_refs each), 20 % relationships (indicates / based-on), 10 % SCOs;
written as bundles under bench/out/text/. Each round: `meridian init`, one
collection, `meridian import` of all bundles (the store's one insert path,
which keeps every index); reports the import's wall time and CPU time
(user + sys, of the child), the load average, the database size and, for
NEW, the pages of text_index* and ref_index (SQLite's dbstat)."""
import json
import os
import pathlib
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid

base, new, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 2
root = pathlib.Path(__file__).resolve().parents[2]
out = root / "bench" / "out" / "text"
gen = out / f"gen-{n}"
T = "2026-01-01T00:00:00.000Z"
WORDS = ("ransomware loader beacon dropper campaign phishing credential stealer botnet "
         "command control exfiltration lateral movement ministry gateway exploit kit "
         "infrastructure actor cluster payload").split()
KINDS = {"indicator": 1, "report": 2, "relationship": 3, "ipv4-addr": 4}


def ident(kind, i):
    return f"{kind}--{uuid.UUID(int=KINDS[kind] << 100 | i, version=4)}"


def text(rnd, k):
    return " ".join(rnd.choice(WORDS) for _ in range(k))


def generate():
    rnd = random.Random(7)
    gen.mkdir(parents=True, exist_ok=True)
    buf, part, inds = [], 0, []
    for i in range(n):
        r = i % 10
        if r < 5:
            o = {"type": "indicator", "spec_version": "2.1", "id": ident("indicator", i),
                 "created": T, "modified": T, "name": text(rnd, 3),
                 "description": text(rnd, 25)[:200], "pattern_type": "stix",
                 "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}."
                            f"{i & 255}']", "valid_from": "2026-01-01T00:00:00Z"}
            inds.append(o["id"])
        elif r < 7:
            o = {"type": "report", "spec_version": "2.1", "id": ident("report", i),
                 "created": T, "modified": T, "published": T, "name": text(rnd, 4),
                 "description": text(rnd, 25)[:200],
                 "object_refs": [rnd.choice(inds) for _ in range(5)]}
        elif r < 9:
            o = {"type": "relationship", "spec_version": "2.1", "id": ident("relationship", i),
                 "created": T, "modified": T,
                 "relationship_type": rnd.choice(["indicates", "based-on"]),
                 "source_ref": rnd.choice(inds), "target_ref": rnd.choice(inds)}
        else:
            o = {"type": "ipv4-addr", "spec_version": "2.1", "id": ident("ipv4-addr", i),
                 "value": f"192.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}
        buf.append(o)
        if len(buf) == 5000:
            (gen / f"part-{part:04d}.json").write_text(json.dumps({"objects": buf}))
            part, buf = part + 1, []
    if buf:
        (gen / f"part-{part:04d}.json").write_text(json.dumps({"objects": buf}))


def one(build):
    binp = str(pathlib.Path(build).resolve() / "meridian")
    data = out / "node"
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([binp, "init", "--data", str(data), "--org", "own"], check=True,
                   capture_output=True)
    subprocess.run([binp, "collection", "create", "--data", str(data), "--api-root", "api1",
                    "--title", "bench", "--alias", "bench"], check=True, capture_output=True)
    parts = sorted(str(p) for p in gen.glob("part-*.json"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t = time.time()
    subprocess.run([binp, "import", "--data", str(data), "--collection", "api1/bench", *parts],
                   check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wall = time.time() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    con = sqlite3.connect(data / "meridian.db")
    pages = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    con.close()
    total = sum(pages.values())
    idx = sum(v for k, v in pages.items() if k.startswith("text_index") or k == "ref_index")
    return wall, cpu, load, total, idx


if not (gen / "part-0000.json").exists():
    generate()
res = {"base": [], "new": []}
for r in range(rounds):
    for name, build in (("base", base), ("new", new)):
        res[name].append(one(build))
        w, c, ld, tot, idx = res[name][-1]
        print(f"round {r + 1} {name}: import {w:.1f} s wall, {c:.1f} s CPU (load {ld:.1f}), "
              f"database {tot / 1e6:.1f} MB, text+ref indexes {idx / 1e6:.2f} MB", flush=True)
for name in ("base", "new"):
    print(f"{name}: best of {rounds}: {min(x[0] for x in res[name]):.1f} s wall, "
          f"{min(x[1] for x in res[name]):.1f} s CPU, database {res[name][-1][3] / 1e6:.1f} MB")
cb, cn = min(x[1] for x in res["base"]), min(x[1] for x in res["new"])
db_b, db_n, idx = res["base"][-1][3], res["new"][-1][3], res["new"][-1][4]
print(f"import CPU +{100 * (cn - cb) / cb:.1f} %; database +{100 * (db_n - db_b) / db_b:.1f} % "
      f"(text and reference indexes {idx / 1e6:.2f} MB)")
