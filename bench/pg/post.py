#!/usr/bin/env python3
"""Posts ENVELOPES TAXII envelopes of SIZE new indicators each over CONNS
connections and prints the wall time and the objects stored per second
(bench/pg/post.sh). The envelopes are generated before the clock starts,
so the client's own CPU is mostly the sending. Every answer must be 202
with failure_count 0; the failures are counted and printed.

usage: post.py URL COLLECTION_PATH TOKEN ENVELOPES SIZE CONNS [TAG]
TAG (default: the time) makes the ids of this run unique.
"""
import json
import sys
import threading
import time

import requests

url, path, token = sys.argv[1:4]
envelopes, size, conns = (int(x) for x in sys.argv[4:7])
tag = sys.argv[7] if len(sys.argv) > 7 else f"{int(time.time()) % 4294967296:08x}"
H = {"Accept": "application/taxii+json;version=2.1",
     "Content-Type": "application/taxii+json;version=2.1",
     "Authorization": f"Bearer {token}"}


def envelope(k):
    objs = []
    for j in range(size):
        i = k * size + j
        objs.append({
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{tag[:8]}-{(k >> 16) & 0xffff:04x}-4000-8000-{k & 0xffff:04x}{j:08x}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": f"bench {i}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        })
    return json.dumps({"objects": objs}).encode()


bodies = [envelope(k) for k in range(envelopes)]
lock = threading.Lock()
state = {"next": 0, "errors": 0, "first": ""}


def worker():
    s = requests.Session()
    while True:
        with lock:
            k = state["next"]
            state["next"] += 1
        if k >= envelopes:
            return
        r = s.post(url + path, headers=H, data=bodies[k], timeout=600)
        if r.status_code != 202 or r.json().get("failure_count") != 0:
            with lock:
                state["errors"] += 1
                state["first"] = state["first"] or f"{r.status_code} {r.text[:200]}"


t0 = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.monotonic() - t0
print(f"posted {envelopes} x {size} = {envelopes * size} objects in {dt:.2f} s:"
      f" {envelopes * size / dt:.0f} objects/s ({conns} connections, errors {state['errors']}"
      f"{': ' + state['first'] if state['first'] else ''})")
