#!/usr/bin/env python3
"""Counts the statements (round trips) one TAXII POST of an envelope costs
on PostgreSQL: a throwaway cluster with log_statement=all, a node on it, one
envelope of N new indicators posted, the statements the server logged for
it counted by kind (bench/pg/README.md, "Where the time goes").

usage: roundtrips.py BUILD_DIR [N]
"""
import collections
import pathlib
import re
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "integration"))
from node import Node, TOKEN_RE, indicator  # noqa: E402
from pgcluster import Cluster  # noqa: E402

build = pathlib.Path(sys.argv[1]).resolve()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
c = Cluster().start()
try:
    work = pathlib.Path(tempfile.mkdtemp(prefix="meridian-rt-"))
    node = Node(str(build / "meridian"), work / "node")
    p = node.cli("init", "--data", node.data, "--org", "own", "--store", c.database())
    node.admin_token = TOKEN_RE.search(p.stdout).group(0)
    cid = node.collection(root="api1", title="rt")
    node.start()
    try:
        node.post_ok(cid, [indicator()])  # warm: schema, pool, caches
        c.psql("ALTER SYSTEM SET log_statement = 'all'")
        c.psql("SELECT pg_reload_conf()")
        mark = len(c.log())
        node.post_ok(cid, [indicator(value=f"10.1.{i >> 8}.{i & 255}") for i in range(n)])
        c.psql("ALTER SYSTEM SET log_statement = 'none'")
        c.psql("SELECT pg_reload_conf()")
    finally:
        node.stop()
    kinds = collections.Counter()
    for line in c.log()[mark:].splitlines():
        m = re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", line)
        if m and "log_statement" not in m.group(1) and "pg_reload_conf" not in m.group(1):
            kinds[" ".join(m.group(1).split()[:4])[:70]] += 1
    total = sum(kinds.values())
    print(f"{total} statements for one envelope of {n} objects ({total / n:.1f} per object)")
    for k, v in kinds.most_common(15):
        print(f"{v:6d}  {k}")
finally:
    c.stop()
