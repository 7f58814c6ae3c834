#!/usr/bin/env python3
"""Counts the statements (round trips) one TAXII POST of an envelope costs
on PostgreSQL: a throwaway cluster with log_statement=all, a node on it, one
envelope of N new indicators posted, the statements the server logged for
it counted by kind (bench/pg/README.md, "Where the time goes"). With
`get`: the N indicators are posted first, then REPS GETs of each read
scenario (objects, manifest and objects with added_after, limit=100; an
object by id) are logged, and the statements per request counted.

usage: roundtrips.py BUILD_DIR [N] [get [REPS]]
       (BUILD_DIR may also be the meridian binary itself)
"""
import collections
import pathlib
import re
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "integration"))
from node import Node, TOKEN_RE, indicator  # noqa: E402
from pgcluster import Cluster  # noqa: E402

build = pathlib.Path(sys.argv[1]).resolve()
binary = build if build.is_file() else build / "meridian"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
reads = len(sys.argv) > 3 and sys.argv[3] == "get"
reps = int(sys.argv[4]) if len(sys.argv) > 4 else 10


def logging(c, on):
    c.psql(f"ALTER SYSTEM SET log_statement = '{'all' if on else 'none'}'")
    c.psql("SELECT pg_reload_conf()")


def count(text):
    kinds = collections.Counter()
    for line in text.splitlines():
        m = re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", line)
        if m and "log_statement" not in m.group(1) and "pg_reload_conf" not in m.group(1):
            stmt = re.sub(r"mrd_c[0-9]+", "mrd_cN", m.group(1))  # cursor names
            kinds[" ".join(stmt.split()[:4])[:70]] += 1
    return kinds


def get_scenarios(node, cid, ids):
    """Runs each read scenario reps times under log_statement=all and prints
    the statements per request."""
    path = node.objects_path(cid)
    page = node.get(path, params={"limit": "100"})
    assert page.status_code == 200, page.text
    middle = page.headers.get("X-TAXII-Date-Added-Last")
    scenarios = [
        ("GET objects limit=100", path, {"limit": "100"}),
        ("GET object by id", path + ids[len(ids) // 2] + "/", None),
        ("GET manifest limit=100", path.replace("/objects/", "/manifest/"), {"limit": "100"}),
        ("GET objects added_after", path, {"limit": "100", "added_after": middle}),
    ]
    for name, p, params in scenarios:
        logging(c, True)
        mark = len(c.log())
        start = time.monotonic()
        for _ in range(reps):
            r = node.get(p, params=params)
            assert r.status_code == 200, r.text
        took = time.monotonic() - start
        logging(c, False)
        kinds = count(c.log()[mark:])
        # the background workers' statements (meta, feeds, notifications,
        # deliveries, ledger) in a window as long with no request
        logging(c, True)
        mark = len(c.log())
        time.sleep(took)
        logging(c, False)
        idle = count(c.log()[mark:])
        kinds.subtract(idle)
        total = sum(v for v in kinds.values() if v > 0)
        print(f"{name}: {total} statements in {reps} requests ({total / reps:.1f} per request;"
              f" {sum(idle.values())} background statements in {took:.1f} s subtracted)")
        for k, v in kinds.most_common(12):
            if v > 0:
                print(f"{v:6d}  {k}")

c = Cluster().start()
try:
    work = pathlib.Path(tempfile.mkdtemp(prefix="meridian-rt-"))
    node = Node(str(binary), work / "node")
    p = node.cli("init", "--data", node.data, "--org", "own", "--store", c.database())
    node.admin_token = TOKEN_RE.search(p.stdout).group(0)
    cid = node.collection(root="api1", title="rt")
    node.start()
    try:
        node.post_ok(cid, [indicator()])  # warm: schema, pool, caches
        objs = [indicator(value=f"10.1.{i >> 8}.{i & 255}") for i in range(n)]
        if reads:
            node.post_ok(cid, objs)
            get_scenarios(node, cid, [o["id"] for o in objs])
        else:
            logging(c, True)
            mark = len(c.log())
            node.post_ok(cid, objs)
            logging(c, False)
            kinds = count(c.log()[mark:])
            total = sum(kinds.values())
            print(f"{total} statements for one envelope of {n} objects ({total / n:.1f} per object)")
            for k, v in kinds.most_common(40):
                print(f"{v:6d}  {k}")
    finally:
        node.stop()
finally:
    c.stop()
