#!/usr/bin/env python3
"""Writes a STIX 2.1 bundle of N indicators (default 1,000,000, ~320 MB) for
the export benchmark: a fixed mix of IPv4 addresses, IPv4 CIDRs, IPv6
addresses, domains, URLs and SHA-256/MD5 hashes, ~5 % with a pattern no
value format expresses (AND), ~5 % expired. Deterministic (fixed seed).

usage: gen.py OUT [N]
"""
import json
import random
import sys
import uuid

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
rnd = random.Random(20261207)
kinds = ["ipv4", "domain", "url", "sha256", "ipv4", "domain", "cidr", "ipv6", "md5", "url",
         "ipv4", "domain", "sha256", "url", "ipv4", "domain", "ipv4", "url", "complex", "domain"]
with open(out, "w") as f:
    f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.UUID(int=rnd.getrandbits(128), version=4))
    for i in range(n):
        k = kinds[i % len(kinds)]
        a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
        if k == "ipv4":
            pat = f"[ipv4-addr:value = '10.{a}.{b}.{c}']"
        elif k == "cidr":
            pat = f"[ipv4-addr:value = '172.{a}.{b}.0/24']"
        elif k == "ipv6":
            pat = f"[ipv6-addr:value = '2001:db8:{a:x}:{b:x}::{c:x}']"
        elif k == "domain":
            pat = f"[domain-name:value = 'host{i}.example-{a}.com']"
        elif k == "url":
            pat = f"[url:value = 'http://site{b}-{c}.example.net/path/{i}/payload.bin?id={i}']"
        elif k == "sha256":
            pat = "[file:hashes.'SHA-256' = '%064x']" % rnd.getrandbits(256)
        elif k == "md5":
            pat = "[file:hashes.MD5 = '%032x']" % rnd.getrandbits(128)
        else:
            pat = f"[ipv4-addr:value = '10.{a}.{b}.{c}' AND network-traffic:dst_port = 443]"
        o = {"type": "indicator", "spec_version": "2.1",
             "id": f"indicator--{uuid.UUID(int=rnd.getrandbits(128), version=4)}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": f"benchmark indicator {i}", "indicator_types": ["malicious-activity"],
             "pattern": pat, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
             "labels": ["bench"], "confidence": 50 + i % 50}
        if i % 20 == 7:
            o["valid_until"] = "2026-02-01T00:00:00Z"
        f.write(("," if i else "") + json.dumps(o, separators=(",", ":")))
    f.write("]}\n")
