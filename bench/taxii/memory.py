#!/usr/bin/python3
"""Memory under many concurrent large POSTs (issue 17, item 10).

Starts `meridian serve` (the binary given, a fresh data directory under
$TMPDIR), sends N concurrent POSTs of an M MB envelope of indicators (each
object new), samples the server's VmRSS every 20 ms, and prints the peak
(VmHWM), the RSS afterwards, and how many POSTs got which status. Run it
once with the binary before a change and once after, in the same session:

    bench/taxii/memory.py build-gcc/meridian            # 16 x 40 MB, default budget
    bench/taxii/memory.py OTHER/meridian 16 40 [--max-body-memory MIB]

Everything listens on 127.0.0.1 and stops by itself (each POST has a
600 s timeout). Figures and the command that produced them: memory.md.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

TAXII = "application/taxii+json;version=2.1"


def envelope(mb):
    """About mb megabytes of new indicators (fresh ids every call)."""
    objs, size = [], 13
    while size < mb * 1000 * 1000:
        o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "bench indicator", "pattern": "[ipv4-addr:value = '10.1.2.3']",
             "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
        objs.append(o)
        size += len(json.dumps(o)) + 2
    return json.dumps({"objects": objs}).encode()


def status_kib(pid, field):
    m = re.search(rf"^{field}:\s+(\d+) kB", pathlib.Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(m.group(1))


def main():
    args = sys.argv[1:]
    binary = os.path.abspath(args[0])
    n = int(args[1]) if len(args) > 1 else 16
    mb = int(args[2]) if len(args) > 2 else 40
    extra = args[3:]
    work = pathlib.Path(tempfile.mkdtemp(prefix="meridian-bench-mem-"))
    proc = None
    try:
        out = subprocess.run([binary, "init", "--data", work / "d", "--org", "own"],
                             capture_output=True, text=True, check=True).stdout
        token = re.search(r"mrd_[A-Za-z0-9_-]{43}", out).group(0)
        out = subprocess.run([binary, "collection", "create", "--data", work / "d",
                              "--api-root", "api1", "--title", "bench"],
                             capture_output=True, text=True, check=True).stdout
        cid = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        out).group(0)
        subprocess.run([binary, "grant", "--data", work / "d", "--org", "own", "--collection",
                        cid, "--read", "--write"], check=True, capture_output=True)
        bodies = [envelope(mb) for _ in range(n)]
        ready = work / "ready"
        proc = subprocess.Popen([binary, "serve", "--data", work / "d", "--listen",
                                 "127.0.0.1:0", "--http", "--ready-file", ready, "--rate", "0"]
                                + extra, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < end:
            time.sleep(0.05)
        url = f"http://{ready.read_text().strip()}/api1/collections/{cid}/objects/"
        rss0 = status_kib(proc.pid, "VmRSS")
        statuses, peak, done = [], [rss0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], status_kib(proc.pid, "VmRSS"))
                time.sleep(0.02)

        def post(body):
            h = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": f"Bearer {token}"}
            try:
                r = requests.post(url, data=body, headers=h, timeout=600)
                statuses.append(r.status_code)
            except requests.RequestException as e:
                statuses.append(type(e).__name__)

        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.monotonic()
        posts = [threading.Thread(target=post, args=(b,)) for b in bodies]
        for t in posts:
            t.start()
        for t in posts:
            t.join()
        secs = time.monotonic() - t0
        done.set()
        sampler.join()
        hwm = status_kib(proc.pid, "VmHWM")
        after = status_kib(proc.pid, "VmRSS")
        names = [str(s) for s in statuses]
        counts = {s: names.count(s) for s in sorted(set(names))}
        print(f"binary {binary}")
        print(f"{n} concurrent POSTs of {len(bodies[0]) / 1e6:.1f} MB "
              f"({len(json.loads(bodies[0])['objects'])} indicators each), extra args {extra}")
        print(f"statuses {counts} in {secs:.1f} s")
        print(f"RSS before {rss0 / 1024:.0f} MiB, peak sampled {peak[0] / 1024:.0f} MiB, "
              f"VmHWM {hwm / 1024:.0f} MiB, after {after / 1024:.0f} MiB")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # still busy with a request: stop it hard
                proc.kill()
                proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
