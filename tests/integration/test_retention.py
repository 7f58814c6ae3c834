"""Retention on schedule (issue 15) through the real binary: DATA/retention.json,
`meridian retention run [--dry-run]` beside a running `meridian serve`, TAXII,
search by value and free text, the ledger, legal holds, and serve's own
scheduled job."""
import json
import uuid

import pytest
import requests

from conftest import run
from node import Node, TLP_GREEN, indicator, wait_for
from pgcluster import sqlite_only, store_sql


def sighting(of, **extra):
    o = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
         "created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
         "sighting_of_ref": of, "count": 1, "object_marking_refs": [TLP_GREEN]}
    o.update(extra)
    return o


def ind(value, **extra):
    o = indicator(tlp=TLP_GREEN, value=value, **extra)
    return o


def write_rules(n, rules):
    (n.data / "retention.json").write_text(json.dumps({"rules": rules}))


def retention(n, *args, check=True):
    p = run(n.bin, "retention", *args, "--data", n.data)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def hold(n, *args):
    p = run(n.bin, "hold", *args, "--data", n.data)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def present(n, coll, oid):
    r = n.get(f"/api1/collections/{coll}/objects/{oid}/")
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def search(n, q):
    r = requests.get(n.url + "/api/v1/search", params={"q": q}, timeout=30,
                     headers={"Authorization": f"Bearer {n.admin_token}"})
    assert r.status_code == 200, r.text
    return r.text


# the versions whose text holds the test's word, in each store's text index
WORD_SQL = "SELECT COUNT(*) FROM text_index WHERE text_index MATCH 'zanzibarquux'"
WORD_PG = "SELECT COUNT(*) FROM text_index WHERE words @@ to_tsquery('simple', 'zanzibarquux')"


@pytest.fixture
def rnode(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "ret", extra_args=["--retention-interval", "0",
                                                         "--checkpoint-interval", "1"])
    n.init(org="own")
    n.coll = n.collection(alias="intel")
    n.start()
    yield n
    n.stop()


@sqlite_only  # reads meridian.db with sqlite3
def test_retention_erases_expired_keeps_held_and_unmatched(rnode):
    n = rnode
    kept_ind = ind("198.51.100.7", valid_until="2099-01-01T00:00:00Z")
    old_ind = ind("198.51.100.99", valid_until="2026-01-02T00:00:00Z",
                  description="zanzibarquux phishing wave")
    s_old = sighting(kept_ind["id"])
    s_held = sighting(kept_ind["id"])
    other = ind("198.51.100.8")  # no valid_until: the valid_until rule keeps it
    n.post_ok(n.coll, [kept_ind, old_ind, s_old, s_held, other])
    assert old_ind["id"] in search(n, "198.51.100.99")
    assert store_sql(n, WORD_SQL, pg=WORD_PG) == [("1",)]
    hold_id = hold(n, "create", "--case", "C-RET", "--authority", "A", "--reason", "R",
                   "--object", s_held["id"])
    write_rules(n, [{"collection": "api1/intel", "type": "sighting", "days": 0},
                    {"type": "indicator", "days": 0, "from": "valid_until"}])

    # a dry run lists and changes nothing
    p = retention(n, "run", "--dry-run")
    lines = p.stdout.splitlines()
    assert sorted(ln.split()[0] for ln in lines) == ["held", "would-erase", "would-erase"]
    assert {ln.split()[2] for ln in lines} == {old_ind["id"], s_old["id"], s_held["id"]}
    assert present(n, n.coll, s_old["id"]) and present(n, n.coll, old_ind["id"])

    p = retention(n, "run", "--json")
    doc = json.loads(p.stdout)
    assert (doc["matched"], doc["erased"], doc["held"]) == (3, 2, 1)
    held = [v for v in doc["versions"] if v["action"] == "held"]
    assert [v["id"] for v in held] == [s_held["id"]]
    assert "kept under a legal hold" in p.stderr

    # TAXII and search no longer return what was erased; the rest stays
    assert not present(n, n.coll, s_old["id"])
    assert not present(n, n.coll, old_ind["id"])
    assert present(n, n.coll, s_held["id"])
    assert present(n, n.coll, kept_ind["id"]) and present(n, n.coll, other["id"])
    assert old_ind["id"] not in search(n, "198.51.100.99")
    assert kept_ind["id"] in search(n, "198.51.100.7")
    # and nothing of them is left in any index (ids are uuids: no quoting needed)
    assert store_sql(n, "SELECT COUNT(*) FROM objects WHERE stix_id IN"
                     f" ('{s_old['id']}', '{old_ind['id']}')") == [("0",)]
    assert store_sql(n, WORD_SQL, pg=WORD_PG) == [("0",)]
    assert store_sql(n, "SELECT COUNT(*) FROM value_index v WHERE NOT EXISTS"
                     " (SELECT 1 FROM objects o WHERE o.seq = v.seq)") == [("0",)]
    assert store_sql(n, "SELECT COUNT(*) FROM ref_index r WHERE NOT EXISTS"
                     " (SELECT 1 FROM objects o WHERE o.seq = r.seq)") == [("0",)]

    # the ledger records the erasure and still verifies without the bytes
    def erasure_leaf():
        r = n.req("POST", "/ledger/v1/checkpoint")
        size = int(r.text.split("\n")[1])
        lv = n.get("/ledger/v1/leaves", params={"start": 0, "end": size - 1}).json()["leaves"]
        return any(x["kind"] == "erasure" for x in lv)
    wait_for(erasure_leaf, timeout=15, step=0.2)

    # a hold's release lets the next run proceed
    assert retention(n, "run").stderr.count("0 erased") == 1
    assert present(n, n.coll, s_held["id"])
    hold(n, "release", hold_id, "--reason", "closed")
    p = retention(n, "run")
    assert s_held["id"] in p.stdout and "1 erased" in p.stderr
    assert not present(n, n.coll, s_held["id"])
    n.stop()
    v = run(n.bin, "ledger", "verify", "--data", n.data)
    assert v.returncode == 0 and "signature verified" in v.stdout, v.stdout + v.stderr


def test_retention_by_age_and_collection(rnode):
    n = rnode
    other = n.collection(alias="other")
    a, b = ind("203.0.113.1"), ind("203.0.113.2")
    n.post_ok(n.coll, [a])
    n.post_ok(other, [b])
    write_rules(n, [{"collection": "api1/intel", "type": "*", "days": 30}])
    assert "0 version(s) expired" in retention(n, "run").stderr
    # age the versions by 31 days
    store_sql(n, "UPDATE objects SET date_added = date_added - CAST(31 AS BIGINT) * 86400000000")
    p = retention(n, "run")
    assert a["id"] in p.stdout and b["id"] not in p.stdout
    assert not present(n, n.coll, a["id"]) and present(n, other, b["id"])


@pytest.mark.parametrize("text,msg", [
    ('{"rules": [{"type": "sighting", "days": -1}]}', "rules[0].days"),
    ('{"rules": [{"type": "sighting", "days": 1, "from": "soon"}]}', "rules[0].from"),
    ('{"rules": [{"days": 1}]}', "rules[0].type: missing"),
    ('{"rules": [{"type": "x", "days": 1, "keep": 1}]}', 'unknown member "keep"'),
    ('{"rule": []}', 'unknown member "rule"'),
    ('[1, 2', "retention"),
    ('{"rules": [{"type": "a\\u001bb", "days": 1}]}', "control character"),
])
def test_bad_retention_file_is_refused_and_named(rnode, text, msg):
    n = rnode
    x = ind("192.0.2.200")
    n.post_ok(n.coll, [x])
    (n.data / "retention.json").write_text(text)
    p = retention(n, "run", check=False)
    assert p.returncode == 1 and msg in p.stderr, p.stderr
    assert "\x1b" not in p.stderr
    assert present(n, n.coll, x["id"])


def test_rule_naming_an_unknown_collection_is_refused(rnode):
    n = rnode
    write_rules(n, [{"collection": "api1/nosuch", "type": "*", "days": 0}])
    p = retention(n, "run", check=False)
    assert p.returncode == 1 and 'rules[0].collection: no collection "api1/nosuch"' in p.stderr


def test_serve_runs_retention_on_schedule(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "sched", extra_args=["--retention-interval", "1"])
    n.init(org="own")
    coll = n.collection()
    n.start()
    try:
        s = sighting(f"indicator--{uuid.uuid4()}")
        keep = ind("192.0.2.9")
        n.post_ok(coll, [s, keep])
        # written while serve runs: read again at the next round, no restart
        write_rules(n, [{"type": "sighting", "days": 0}])
        wait_for(lambda: not present(n, coll, s["id"]), timeout=20, step=0.2)
        assert present(n, coll, keep["id"])
    finally:
        n.stop()


def test_privacy_report(rnode):
    """`meridian privacy report`: what personal data, how much, kept how
    long, shared with whom under which policy; keys never shown."""
    n = rnode
    n.org("isp-cert", "partner")
    n.grant("isp-cert", n.coll, True, False)
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}",
          "value": "198.51.100.20", "object_marking_refs": [TLP_GREEN]}
    mail = {"type": "email-addr", "spec_version": "2.1", "id": f"email-addr--{uuid.uuid4()}",
            "value": "victim@example.org", "object_marking_refs": [TLP_GREEN]}
    by_ip = ind("198.51.100.21")
    s = sighting(by_ip["id"])
    plain = indicator(tlp=TLP_GREEN, pattern="[file:hashes.MD5 = '" + "a" * 32 + "']")
    n.post_ok(n.coll, [ip, mail, by_ip, s, plain])
    write_rules(n, [{"type": "sighting", "days": 180},
                    {"type": "ipv4-addr", "days": 90}])
    key = "ab" * 32
    (n.data / "privacy-policy.json").write_text(json.dumps({"rules": [
        {"scope": "org:isp-cert", "type": "email-addr", "property": "value",
         "action": "generalise"},
        {"scope": "all", "type": "ipv4-addr", "property": "value", "action": "pseudonymise",
         "key": key}]}))
    p = run(n.bin, "privacy", "report", "--json", "--data", n.data)
    assert p.returncode == 0, p.stderr
    assert key not in p.stdout
    doc = json.loads(p.stdout)
    cats = {c["category"]: c for c in doc["categories"]}
    assert cats["ip-addresses"]["versions"] == 1
    assert cats["ip-addresses"]["retention"] == ["90 days after it was stored (rule 1)"]
    assert cats["email"]["versions"] == 1
    assert cats["email"]["retention"] == ["kept until erased (no retention rule)"]
    assert cats["sightings"]["retention"] == ["180 days after it was stored (rule 0)"]
    assert cats["indicators"]["versions"] == 1  # the address one, not the hash one
    assert doc["recipients"]["partners"] == [
        {"org": "isp-cert", "collections": [f"api1/{n.coll}"]}]
    pol = doc["outbound_policy"]
    assert pol["present"] and len(pol["rules"]) == 2 and "key" not in pol["rules"][1]
    md = run(n.bin, "privacy", "report", "--data", n.data)
    assert md.returncode == 0 and md.stdout.startswith("# Privacy statement")
    assert "isp\\-cert" in md.stdout or "isp-cert" in md.stdout
    assert "90 days after it was stored" in md.stdout and key not in md.stdout
    (n.data / "privacy-policy.json").write_text('{"rules": [{"scope": "all"}]}')
    bad = run(n.bin, "privacy", "report", "--data", n.data)
    assert bad.returncode == 1 and "privacy-policy.json" in bad.stderr
