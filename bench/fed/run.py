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


def timed(args):
    """Runs args; returns (wall seconds, cpu seconds of the process, stdout)."""
    t0 = time.monotonic()
    p = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, (args, out)
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime, out.strip()


def proc_cpu(pid):
    """utime + stime of a running process, in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def count(node):
    out = subprocess.run([node.bin, "collection", "list", "--data", str(node.data)],
                         capture_output=True, text=True).stdout
    return int(out.split("\t")[-1])


def throughput(bin_, n_objects):
    base = pathlib.Path(tempfile.mkdtemp(prefix="meridian-bench-fed-"))
    a, b, c = (mknode(bin_, base, x) for x in "ABC")
    bundle = base / "indicators.json"
    objs = [indicator(value=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                      ident=f"indicator--{uuid.UUID(int=random.getrandbits(128), version=4)}")
            for i in range(n_objects)]
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                  "objects": objs}))
    wall, cpu, _ = timed([bin_, "import", "--data", a.data, "--collection", a.coll, bundle])
    print(f"objects: {n_objects}; import at A (validate, sign, store): {wall:.1f} s wall, "
          f"{n_objects / wall:,.0f}/s", flush=True)
    try:
        for n in (a, b, c):
            n.start()
        link(a, b, a.coll, b.coll, "pull", "A")
        link(c, a, c.coll, a.coll, "push", "C")
        a0 = proc_cpu(a.proc.pid)
        wall, cpu, out = timed([bin_, "sync", "--data", b.data])
        served = proc_cpu(a.proc.pid) - a0
        got = count(b)
        print(f"pull A->B: {got} stored in {wall:.2f} s = {got / wall:,.0f} objects/s "
              f"(sync process CPU {cpu:.2f} s = {got / cpu:,.0f} objects per CPU-second; "
              f"serving node CPU {served:.2f} s; both together {got / (cpu + served):,.0f} "
              f"objects per CPU-second)\n   {out}", flush=True)
        wall, cpu, out = timed([bin_, "sync", "--data", a.data, "--peer", "C"])
        got = count(c)
        print(f"push A->C: {got} stored in {wall:.2f} s = {got / wall:,.0f} objects/s "
              f"(sync process CPU {cpu:.2f} s)\n   {out}", flush=True)
    finally:
        for n in (a, b, c):
            n.stop()


def latency(bin_, samples, interval_ms):
    base = pathlib.Path(tempfile.mkdtemp(prefix="meridian-bench-fed-"))
    a, b, c = (mknode(bin_, base, x, interval_ms) for x in "ABC")
    res = []
    try:
        for n in (a, b, c):
            n.start()
        link(a, b, a.coll, b.coll, "pull", "A")
        link(b, c, b.coll, c.coll, "pull", "B")
        path = f"/europe/collections/{c.coll}/objects/"
        for i in range(samples):
            ind = indicator(value=f"172.16.{i >> 8}.{i & 255}")
            t0 = time.monotonic()
            a.post_ok(a.coll, [ind], root="europe")
            while True:
                r = c.get(path, params={"match[id]": ind["id"]})
                if r.status_code == 200 and r.json().get("objects"):
                    break
                if time.monotonic() - t0 > 60:
                    raise TimeoutError(ind["id"])
                time.sleep(0.01)
            res.append(time.monotonic() - t0)
            time.sleep(random.uniform(0, interval_ms / 1000))  # sample the timer phase
    finally:
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
