#!/usr/bin/python3
"""Time of GET .../objects/{id}/versions/ for an object the reader may not
read (RED, 1,001 versions) against an id that does not exist (issue 17
item 7). Usage: hidden.py MERIDIAN [MERIDIAN...] -- each binary gets its
own node in a temporary directory; requests alternate between the two ids
so that load on the machine hits both alike. Prints the median and the
90th percentile in ms per binary."""
import json
import pathlib
import statistics
import sys
import tempfile
import time
import uuid

import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "integration"))
from node import TLP_RED, Node, indicator  # noqa: E402

ROUNDS = 400


def measure(binary, work):
    n = Node(binary, work)
    n.init()
    cid = n.collection(root="europe")
    n.org("p", "partner")
    tok = n.token("p")
    n.grant("p", cid, True, False)
    n.start()
    try:
        oid = f"indicator--{uuid.uuid4()}"
        versions = [indicator(TLP_RED, ident=oid, modified=f"2026-01-01T00:{m // 60:02d}:"
                              f"{m % 60:02d}.000Z") for m in range(1001)]
        for i in range(0, len(versions), 250):
            n.post_ok(cid, versions[i:i + 250], root="europe")
        s = requests.Session()
        h = {"Accept": "application/taxii+json;version=2.1", "Authorization": f"Bearer {tok}"}
        urls = {k: f"{n.url}/europe/collections/{cid}/objects/{i}/versions/"
                for k, i in (("hidden", oid), ("missing", f"indicator--{uuid.uuid4()}"))}
        times = {k: [] for k in urls}
        for _ in range(ROUNDS):
            for k, u in urls.items():
                t0 = time.perf_counter()
                r = s.get(u, headers=h, timeout=10)
                times[k].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 404, r.text
        return {k: (statistics.median(v), sorted(v)[int(len(v) * 0.9)]) for k, v in times.items()}
    finally:
        n.stop()


def main():
    out = {}
    for b in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as d:
            out[b] = measure(b, d)
    for b, r in out.items():
        print(b)
        for k, (med, p90) in r.items():
            print(f"  {k:8s} median {med:.3f} ms  p90 {p90:.3f} ms")
    json.dump(out, sys.stderr)


if __name__ == "__main__":
    main()
