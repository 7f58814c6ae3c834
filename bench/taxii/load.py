#!/usr/bin/env python3
"""Fills a collection with N indicators through TAXII POST (envelopes of
100, several connections) and prints the ingest rate. Writes the ids of a
sample of the objects to IDS_FILE (for the GET-by-id scenario) and the
date_added of the middle object to MID_FILE (for the filtered GET).

usage: load.py URL COLLECTION_PATH TOKEN N IDS_FILE MID_FILE [CA]
N = 0 loads nothing and only computes MID_FILE from the ids in IDS_FILE.
"""
import json
import sys
import threading
import time
import uuid

import requests

url, path, token, n, ids_file, mid_file = sys.argv[1:7]
ca = sys.argv[7] if len(sys.argv) > 7 else False
n = int(n)
BATCH, THREADS = 100, 4
H = {"Accept": "application/taxii+json;version=2.1",
     "Content-Type": "application/taxii+json;version=2.1",
     "Authorization": f"Bearer {token}"}


def envelope(k):
    objs = []
    for j in range(BATCH):
        i = k * BATCH + j
        objs.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": f"bench {i}", "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        })
    return objs


batches = (n + BATCH - 1) // BATCH
lock = threading.Lock()
state = {"next": 0, "ids": [], "errors": 0}


def worker():
    s = requests.Session()
    while True:
        with lock:
            k = state["next"]
            state["next"] += 1
        if k >= batches:
            return
        objs = envelope(k)
        r = s.post(url + path, headers=H, data=json.dumps({"objects": objs}), verify=ca,
                   timeout=120)
        if r.status_code != 202 or r.json()["failure_count"] != 0:
            with lock:
                state["errors"] += 1
            continue
        if k % 10 == 0:
            with lock:
                state["ids"].append(objs[0]["id"])


if n > 0:
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    print(f"loaded {batches * BATCH} objects in {dt:.1f}s: {batches * BATCH / dt:.0f} objects/s "
          f"(python client, {THREADS} connections, errors {state['errors']})")
    with open(ids_file, "w") as f:
        f.write("\n".join(state["ids"]) + "\n")
else:  # N = 0: already loaded (gen.py + meridian import); sample ids are in IDS_FILE
    state["ids"] = [x for x in open(ids_file).read().split("\n") if x]
# the date_added in the middle of the collection, for added_after
r = requests.get(url + path.replace("objects/", "manifest/"), headers=H, verify=ca,
                 params={"limit": "1", "match[id]": state["ids"][len(state["ids"]) // 2]})
with open(mid_file, "w") as f:
    f.write(r.json()["objects"][0]["date_added"] + "\n")
