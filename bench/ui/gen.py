#!/usr/bin/env python3
"""Writes the bench/ui data set as TAXII envelopes for `meridian import`:
N objects (indicators on IPv4 addresses, /24 ranges, domains and URLs,
file SCOs with SHA-256 hashes, and 20 reporting identities) and S
sightings of the first 10,000 indicators (Zipf-like: a few are sighted
often), first seen over the last 30 days. Also writes OUTDIR/queries.json:
values that hit, for run.py.

usage: gen.py N S OUTDIR
"""
import hashlib
import json
import os
import random
import sys
import time
import uuid

n, s, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
PART = 100000
random.seed(7)
os.makedirs(out, exist_ok=True)
now = time.time()


def ts(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def ind(i, pattern, name):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": name, "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z"}


def obj(i):
    k = i % 10
    a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
    if k < 4:
        return ind(i, f"[ipv4-addr:value = '10.{a}.{b}.{c}']", f"host {i}")
    if k == 4:
        return ind(i, f"[ipv4-addr:value = '172.{16 + a % 16}.{b}.0/24']", f"range {i}")
    if k < 8:
        return ind(i, f"[domain-name:value = 'd{i}.example{a}.net']", f"domain {i}")
    if k == 8:
        return ind(i, f"[url:value = 'http://u{i}.example.org/p/{i}']", f"url {i}")
    h = hashlib.sha256(str(i).encode()).hexdigest()
    return {"type": "file", "spec_version": "2.1", "id": f"file--{uuid.UUID(int=i + 1, version=4)}",
            "hashes": {"SHA-256": h}}


idents = [{"type": "identity", "spec_version": "2.1",
           "id": f"identity--{uuid.UUID(int=(1 << 100) + r, version=4)}", "created": ts(now - 86400 * 60),
           "modified": ts(now - 86400 * 60), "name": f"sensor team {r}",
           "identity_class": "organization"} for r in range(20)]
sighted = [i for i in range(min(n, 100000)) if i % 10 < 9][:10000]
part, buf = 0, []


def flush():
    global part, buf
    if buf:
        with open(os.path.join(out, f"part-{part:04d}.json"), "w") as f:
            json.dump({"objects": buf}, f)
        part += 1
        buf = []


buf.extend(idents)
for i in range(n):
    buf.append(obj(i))
    if len(buf) >= PART:
        flush()
for j in range(s):
    target = sighted[min(len(sighted) - 1, int(random.paretovariate(1.2)) - 1)] \
        if random.random() < 0.5 else random.choice(sighted)
    t = now - random.random() * 30 * 86400
    buf.append({"type": "sighting", "spec_version": "2.1",
                "id": f"sighting--{uuid.UUID(int=(1 << 120) + j, version=4)}", "created": ts(t),
                "modified": ts(t), "first_seen": ts(t), "last_seen": ts(t + 60),
                "count": random.randint(1, 20),
                "sighting_of_ref": f"indicator--{uuid.UUID(int=target + 1, version=4)}",
                "created_by_ref": idents[j % 20]["id"]})
    if len(buf) >= PART:
        flush()
flush()
exact = [f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(0, n, 10)]
cidr = list(dict.fromkeys(f"172.{16 + ((i >> 16) & 255) % 16}.{(i >> 8) & 255}.77"
                          for i in range(4, n, 10)))
suffix = [f"x.d{i}.example{(i >> 16) & 255}.net" for i in range(5, n, 10)]
bulk = exact[:400] + cidr[:300]
bulk += suffix[:1000 - len(bulk)]
q = {"exact": exact[:200], "cidr": cidr[:200], "suffix": suffix[:200], "bulk": bulk,
     "objects": [f"indicator--{uuid.UUID(int=i + 1, version=4)}" for i in range(0, n, 10)][:200]}
with open(os.path.join(out, "queries.json"), "w") as f:
    json.dump(q, f)
