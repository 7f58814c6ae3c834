#!/usr/bin/env python3
"""Writes N indicators as TAXII envelopes of at most 100,000 objects each
(OUTDIR/part-NNN.json) for `meridian import`, and every 1000th id to
IDS_FILE. The fast way to fill a collection with 1,000,000 objects.
TLP=amber (environment) marks every indicator TLP:AMBER (the access
audit's scenarios: every read of them is recorded), TLP=green TLP:GREEN
(the same objects, never recorded: bench/audit); default: unmarked.
Each part is written as part-NNN.json.tmp and renamed when complete, and
IDS_FILE is rewritten after each part (the ids of the parts so far), so a
reader may take the parts as they come (bench/pg/seed.sh) or stop early.

usage: gen.py N OUTDIR IDS_FILE
"""
import json
import os
import sys
import uuid

n, outdir, ids_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
MARKINGS = {"amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}
marks = [MARKINGS[os.environ["TLP"]]] if os.environ.get("TLP") else None
PART = 100000
os.makedirs(outdir, exist_ok=True)
ids = []

def write_ids():
    with open(ids_file + ".tmp", "w") as f:
        f.write("\n".join(ids) + "\n")
    os.replace(ids_file + ".tmp", ids_file)


for p in range(0, n, PART):
    part = os.path.join(outdir, f"part-{p // PART:03d}.json")
    with open(part + ".tmp", "w") as f:
        f.write('{"objects":[')
        for i in range(p, min(n, p + PART)):
            oid = f"indicator--{uuid.uuid4()}"
            if i % 1000 == 0:
                ids.append(oid)
            o = {
                "type": "indicator", "spec_version": "2.1", "id": oid,
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "name": f"bench {i}", "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
            if marks:
                o["object_marking_refs"] = marks
            f.write(("," if i > p else "") + json.dumps(o))
        f.write("]}")
    write_ids()
    os.replace(part + ".tmp", part)
