#!/usr/bin/python3
"""Federation benchmarks (issue 6), on real processes over 127.0.0.1.

  throughput  replication of N indicators (default 100,000) from node A to
              node B: one `meridian sync` at B pulling everything (validate,
              verify A's signature, canonicalise, store), and, separately,
              A pushing everything to a fresh node C. Reports objects/s.
  latency     A -> B -> C with the servers' own timers (--sync-interval MS):
              an indicator POSTed at A, polled at C every 10 ms; K samples,
              median and p99 from the POST's 202 to its first GET at C.

usage: bench/fed/run.py MERIDIAN [throughput [N]] [latency [K] [INTERVAL_MS]]
"""
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "integration"))
from node import Node, indicator  # noqa: E402


def link(server, client, coll_s, coll_c, direction, name_s):
    server.org(client.name, "partner")
    tok = server.token(client.name)
    server.grant(client.name, coll_s, True, True)
    key = server.cli("key", "show", "--data", server.data).stdout.strip()
    client.cli("peer", "add", name_s, "--data", client.data, "--url", server.url, "--api-root",
               "europe", "--collection", coll_s, "--local-collection", coll_c, "--token", tok,
               "--pubkey", key, "--direction", direction, "--community", "europe")


def mknode(bin_, base, name, sync_ms=0):
    n = Node(bin_, base / name, extra_args=["--sync-interval", str(sync_ms)])
    n.name = name
    n.init(org=f"cert-{name.lower()}")
    n.coll = n.collection(root="europe", title=f"{name} bench", grants=())
    return n


def throughput(bin_, n_objects):
    base = pathlib.Path(tempfile.mkdtemp(prefix="meridian-bench-fed-"))
    a, b, c = (mknode(bin_, base, x) for x in "ABC")
    bundle = base / "indicators.json"
    objs = [indicator(value=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                      ident=f"indicator--{uuid.UUID(int=random.getrandbits(128), version=4)}")
            for i in range(n_objects)]
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                  "objects": objs}))
    t0 = time.monotonic()
    a.cli("import", "--data", a.data, "--collection", a.coll, bundle)
    t_import = time.monotonic() - t0
    for n in (a, b, c):
        n.start()
    link(a, b, a.coll, b.coll, "pull", "A")
    link(c, a, c.coll, a.coll, "push", "C")
    t0 = time.monotonic()
    p = b.cli("sync", "--data", b.data)
    t_pull = time.monotonic() - t0
    t0 = time.monotonic()
    q = a.cli("sync", "--data", a.data, "--peer", "C")
    t_push = time.monotonic() - t0
    got_b = int(b.cli("collection", "list", "--data", b.data).stdout.split("\t")[-1])
    got_c = int(c.cli("collection", "list", "--data", c.data).stdout.split("\t")[-1])
    for n in (a, b, c):
        n.stop()
    print(f"objects: {n_objects} (import at A, signing included: {n_objects / t_import:,.0f}/s)")
    print(f"pull A->B: {got_b} stored in {t_pull:.2f} s = {got_b / t_pull:,.0f} objects/s")
    print(f"   {p.stdout.strip()}")
    print(f"push A->C: {got_c} stored in {t_push:.2f} s = {got_c / t_push:,.0f} objects/s")
    print(f"   {q.stdout.strip()}")


def latency(bin_, samples, interval_ms):
    base = pathlib.Path(tempfile.mkdtemp(prefix="meridian-bench-fed-"))
    a, b, c = (mknode(bin_, base, x, interval_ms) for x in "ABC")
    for n in (a, b, c):
        n.start()
    link(a, b, a.coll, b.coll, "pull", "A")
    link(b, c, b.coll, c.coll, "pull", "B")
    res = []
    for i in range(samples):
        ind = indicator(value=f"172.16.{i >> 8}.{i & 255}")
        t0 = time.monotonic()
        a.post_ok(a.coll, [ind], root="europe")
        path = f"/europe/collections/{c.coll}/objects/"
        while True:
            r = c.get(path, params={"match[id]": ind["id"]})
            if r.status_code == 200 and r.json().get("objects"):
                break
            if time.monotonic() - t0 > 60:
                raise TimeoutError(ind["id"])
            time.sleep(0.01)
        res.append(time.monotonic() - t0)
        time.sleep(random.uniform(0, interval_ms / 1000))  # sample the timer phase
    for n in (a, b, c):
        n.stop()
    res.sort()
    p99 = res[min(len(res) - 1, int(round(0.99 * (len(res) - 1))))]
    print(f"latency A->B->C, sync interval {interval_ms} ms, {samples} samples: "
          f"median {statistics.median(res) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"min {res[0] * 1000:.0f} ms, max {res[-1] * 1000:.0f} ms")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bin_ = os.path.abspath(sys.argv[1])
    args = sys.argv[2:] or ["throughput", "latency"]
    i = 0
    while i < len(args):
        if args[i] == "throughput":
            n = int(args[i + 1]) if i + 1 < len(args) and args[i + 1].isdigit() else 100000
            i += 2 if i + 1 < len(args) and args[i + 1].isdigit() else 1
            throughput(bin_, n)
        elif args[i] == "latency":
            k, ms = 30, 1000
            if i + 1 < len(args) and args[i + 1].isdigit():
                k = int(args[i + 1])
                i += 1
                if i + 1 < len(args) and args[i + 1].isdigit():
                    ms = int(args[i + 1])
                    i += 1
            i += 1
            latency(bin_, k, ms)
        else:
            sys.exit(__doc__)


if __name__ == "__main__":
    main()
