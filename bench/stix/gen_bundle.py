#!/usr/bin/python3
"""Writes a deterministic STIX 2.1 bundle of mixed objects for the validator
benchmark: identities, the canonical TLP markings, indicators with STIX
patterns, malware, SCOs with deterministic ids (ipv4-addr, domain-name, url,
file), observed-data, relationships, sightings and reports, most of them
with object_marking_refs. The output is valid STIX 2.1 (the benchmark checks
that it yields no error), so the whole validation path is exercised.

usage: gen_bundle.py OUT.json [SIZE_MB]      (default 110 MB, seed 20261129)
"""
import json
import random
import sys
import uuid

SEED = 20261129
NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
TLP = ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",  # TLP 1.0 GREEN
       "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",  # TLP 1.0 AMBER
       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]  # TLP 2.0 GREEN
MARKINGS = [
    {"type": "marking-definition", "spec_version": "2.1", "id": TLP[0],
     "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
     "definition": {"tlp": "green"}},
    {"type": "marking-definition", "spec_version": "2.1", "id": TLP[1],
     "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:AMBER",
     "definition": {"tlp": "amber"}},
    {"type": "marking-definition", "spec_version": "2.1", "id": TLP[2],
     "created": "2022-10-01T00:00:00.000Z", "name": "TLP:GREEN",
     "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
         "extension_type": "property-extension", "tlp_2_0": "green"}}},
]


class Gen:
    def __init__(self, out):
        self.r = random.Random(SEED)
        self.out = out
        self.n = 0
        self.written = 0
        self.recent = {"indicator": [], "malware": [], "ipv4-addr": [], "domain-name": [],
                       "observed-data": [], "identity": []}

    def uid(self, t):
        return "%s--%s" % (t, uuid.UUID(int=self.r.getrandbits(128), version=4))

    def ts(self):
        return "20%02d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
            self.r.randint(15, 25), self.r.randint(1, 12), self.r.randint(1, 28),
            self.r.randint(0, 23), self.r.randint(0, 59), self.r.randint(0, 59),
            self.r.randint(0, 999))

    def sco_id(self, t, props):
        name = json.dumps(props, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "%s--%s" % (t, uuid.uuid5(NS, name))

    def emit(self, o):
        s = json.dumps(o, separators=(",", ":"))
        self.out.write(("," if self.n else "") + "\n" + s)
        self.n += 1
        self.written += len(s) + 2
        if o["type"] in self.recent:
            lst = self.recent[o["type"]]
            lst.append(o["id"])
            if len(lst) > 200:
                del lst[0]

    def common(self, t):
        c = self.ts()
        o = {"type": t, "spec_version": "2.1", "id": self.uid(t), "created": c, "modified": c,
             "created_by_ref": self.r.choice(self.recent["identity"])}
        if self.r.random() < 0.8:
            o["object_marking_refs"] = [self.r.choice(TLP)]
        return o

    def ip(self):
        return "%d.%d.%d.%d" % tuple(self.r.randint(1, 254) for _ in range(4))

    def one(self):
        k = self.r.random()
        if k < 0.22:
            v = self.ip()
            self.emit({"type": "ipv4-addr", "spec_version": "2.1",
                       "id": self.sco_id("ipv4-addr", {"value": v}), "value": v})
        elif k < 0.32:
            v = "h%d.example-%d.com" % (self.r.randint(0, 10**6), self.r.randint(0, 999))
            self.emit({"type": "domain-name", "spec_version": "2.1",
                       "id": self.sco_id("domain-name", {"value": v}), "value": v})
        elif k < 0.37:
            v = "https://e%d.example.net/p/%d" % (self.r.randint(0, 999), self.r.randint(0, 10**9))
            self.emit({"type": "url", "spec_version": "2.1", "id": self.sco_id("url", {"value": v}),
                       "value": v})
        elif k < 0.42:
            h = {"SHA-256": "%064x" % self.r.getrandbits(256)}
            name = "sample-%d.exe" % self.r.randint(0, 10**6)
            self.emit({"type": "file", "spec_version": "2.1",
                       "id": self.sco_id("file", {"hashes": h, "name": name}), "hashes": h,
                       "name": name, "size": self.r.randint(1, 10**7)})
        elif k < 0.62:
            o = self.common("indicator")
            ip = self.ip()
            o.update({"name": "Malicious host %s" % ip,
                      "description": "Seen in campaign traffic " * self.r.randint(1, 4),
                      "indicator_types": ["malicious-activity"],
                      "pattern": "[ipv4-addr:value = '%s'] OR [domain-name:value = "
                                 "'c2-%d.example.org']" % (ip, self.r.randint(0, 10**6)),
                      "pattern_type": "stix", "valid_from": o["created"],
                      "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain",
                                             "phase_name": "command-and-control"}]})
            self.emit(o)
        elif k < 0.67:
            o = self.common("malware")
            o.update({"name": "Family %d" % self.r.randint(0, 10**5), "is_family": True,
                      "malware_types": [self.r.choice(["trojan", "ransomware", "bot"])],
                      "labels": ["bench"]})
            self.emit(o)
        elif k < 0.85 and self.recent["indicator"] and self.recent["malware"]:
            o = self.common("relationship")
            o.update({"relationship_type": "indicates",
                      "source_ref": self.r.choice(self.recent["indicator"]),
                      "target_ref": self.r.choice(self.recent["malware"])})
            self.emit(o)
        elif k < 0.90 and self.recent["ipv4-addr"]:
            o = self.common("observed-data")
            f = o["created"]
            o.update({"first_observed": f, "last_observed": f,
                      "number_observed": self.r.randint(1, 1000),
                      "object_refs": self.r.sample(self.recent["ipv4-addr"],
                                                   min(3, len(self.recent["ipv4-addr"])))})
            self.emit(o)
        elif k < 0.96 and self.recent["indicator"]:
            o = self.common("sighting")
            o.update({"sighting_of_ref": self.r.choice(self.recent["indicator"]),
                      "count": self.r.randint(1, 500),
                      "where_sighted_refs": [self.r.choice(self.recent["identity"])]})
            if self.recent["observed-data"]:
                o["observed_data_refs"] = [self.r.choice(self.recent["observed-data"])]
            self.emit(o)
        elif self.recent["indicator"]:
            o = self.common("report")
            refs = self.r.sample(self.recent["indicator"], min(20, len(self.recent["indicator"])))
            o.update({"name": "Weekly report %d" % self.n, "published": o["created"],
                      "report_types": ["threat-report"], "object_refs": refs,
                      "external_references": [{"source_name": "cert",
                                               "url": "https://cert.example/r/%d" % self.n}]})
            self.emit(o)


def main():
    out_path = sys.argv[1]
    size = int(float(sys.argv[2]) * 1e6) if len(sys.argv) > 2 else 110 * 10**6
    with open(out_path, "w") as out:
        g = Gen(out)
        out.write('{"type":"bundle","id":"bundle--%s","objects":[' %
                  uuid.UUID(int=g.r.getrandbits(128), version=4))
        for m in MARKINGS:
            g.emit(m)
        for i in range(50):
            c = g.ts()
            g.emit({"type": "identity", "spec_version": "2.1", "id": g.uid("identity"),
                    "created": c, "modified": c, "name": "Org %d" % i,
                    "identity_class": "organization", "sectors": ["government"]})
        while g.written < size:
            g.one()
        out.write("\n]}\n")
    print("%s: %d objects, %.1f MB" % (out_path, g.n, g.written / 1e6))


if __name__ == "__main__":
    main()
