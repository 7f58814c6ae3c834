"""Outbound minimisation and selective disclosure through the real interfaces
(issue 15, docs/privacy.md).

Node A has a privacy policy; partner B reads A's objects through TAXII, pulls
them as a peer, receives them by push and gets them in an export. Every path
delivers the objects minimised exactly as the policy says, and each still
verifies at B (selective-disclosure verification on federation receive); a
property changed or re-added in transit is rejected at B and never stored.
"""
import http.server
import json
import shutil
import threading
import time
import urllib.request
import uuid

import pytest

from node import TLP_CLEAR, indicator
from test_fed_propagation import Fed

SD_EXT = "extension-definition--4f705837-f7b6-5dc4-b420-b1b7f7e1b3c4"
SIG_EXT = "extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01"

POLICY = {
    "rules": [
        # everything that leaves in A's community "europe"
        {"scope": "community:europe", "type": "sighting", "property": "first_seen",
         "action": "generalise"},
        # only for partner org B (TAXII reads, B's pulls, exports for B)
        {"scope": "org:B", "type": "indicator", "property": "description", "action": "drop"},
        # only when A pushes to peer B
        {"scope": "peer:B", "type": "indicator", "property": "labels", "action": "drop"},
    ]
}


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def setup_pair(fed, direction):
    """A (with POLICY) and B; B pulls from A, or A pushes to B."""
    a = fed.node("A", start=False)
    (a.data / "privacy-policy.json").write_text(json.dumps(POLICY))
    a.start()
    fed.node("B")
    if direction == "pull":
        fed.link("A", "B", "pull")
    else:
        fed.link("B", "A", "push")
    return a, fed.nodes["B"]


def sample_objects():
    ind = indicator(tlp=TLP_CLEAR, value="198.51.100.3", description="seen at our DMZ",
                    labels=["c2"], x_analyst="jane")
    sig = {
        "type": "sighting", "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T10:00:00.000Z", "modified": "2026-02-01T10:00:00.000Z",
        "sighting_of_ref": ind["id"],
        "first_seen": "2026-02-01T09:17:42.123Z",
        "count": 2,
        "description": "beacon from sensor 10.20.30.40 to the C2",
        "x_sensor_host": "fw-7.corp.internal",
        "object_marking_refs": [TLP_CLEAR],
    }
    return ind, sig


def by_id(objs, ident):
    found = [o for o in objs if o["id"] == ident]
    assert len(found) == 1, (ident, objs)
    return found[0]


def assert_sighting_minimised(s):
    assert s["first_seen"] == "2026-02-01T09:00:00Z"
    assert "x_sensor_host" not in s  # x_ properties stay home
    assert "description" not in s  # mentions an internal address
    assert s["count"] == 2
    blk = s["extensions"][SD_EXT]
    assert SIG_EXT not in s["extensions"]  # it could not verify any more
    assert blk["transformed"] == {"first_seen": "generalise"}
    assert set(blk["disclosures"]) == {"sighting_of_ref", "count", "object_marking_refs"}
    assert len(blk["digests"]) == 6  # three disclosed, three withheld


def test_taxii_read_by_partner_is_minimised(fed):
    a, _ = setup_pair(fed, "pull")
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])
    path = a.objects_path(fed.coll["A"], a.root)
    # the own org reads everything, both signatures in place
    mine, _ = a.page_all(path)
    full = by_id(mine, sig["id"])
    assert full["x_sensor_host"] == "fw-7.corp.internal"
    assert SIG_EXT in full["extensions"] and SD_EXT in full["extensions"]
    # partner B, through TAXII with its token
    b_token = a.token("B")
    theirs, _ = a.page_all(path, token=b_token)
    assert_sighting_minimised(by_id(theirs, sig["id"]))
    i = by_id(theirs, ind["id"])
    assert "description" not in i and "x_analyst" not in i
    assert i["labels"] == ["c2"]  # the peer:B rule is for push only
    assert i["name"] == "test indicator"


def test_pull_by_peer_minimised_and_verified(fed):
    _, b = setup_pair(fed, "pull")
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])
    p = fed.sync("B")
    assert "pulled=2" in p.stdout and "rejected=0" in p.stdout and "unverified=0" in p.stdout, \
        p.stdout
    got = fed.objects("B")
    assert_sighting_minimised(by_id(got, sig["id"]))
    assert "description" not in by_id(got, ind["id"])


class EditProxy:
    """Forwards to `upstream`; edit(obj) may change each object in objects/
    responses (in place), as a dishonest relay would."""

    def __init__(self, upstream, edit):
        self.upstream = upstream
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                req = urllib.request.Request(proxy.upstream + self.path, method="GET")
                for k in ("Accept", "Authorization"):
                    if self.headers.get(k):
                        req.add_header(k, self.headers[k])
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, headers, data = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, headers, data = e.code, e.headers, e.read()
                if "/objects/" in self.path and status == 200:
                    env = json.loads(data)
                    for o in env.get("objects", []):
                        edit(o)
                    data = json.dumps(env).encode()
                self.send_response(status)
                for k in ("Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
                    if headers.get(k):
                        self.send_header(k, headers[k])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.mark.parametrize("edit", ["readd", "tamper"])
def test_readded_or_tampered_property_fails_at_receiver(fed, edit):
    a = fed.node("A", start=False)
    (a.data / "privacy-policy.json").write_text(json.dumps(POLICY))
    a.start()
    b = fed.node("B")
    fed.partner(a, "B")
    tok = a.token("B")
    a.grant("B", fed.coll["A"], True, False)
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])

    def change(o):
        if o["type"] != "sighting":
            return
        if edit == "readd":  # a guess at the withheld value
            o["x_sensor_host"] = "fw-7.corp.internal"
        else:  # a disclosed value changed
            o["count"] = 3

    proxy = EditProxy(a.url, change)
    try:
        b.cli("peer", "add", "A", "--data", b.data, "--url", proxy.url, "--api-root", a.root,
              "--collection", fed.coll["A"], "--local-collection", fed.coll["B"], "--token", tok,
              "--direction", "pull", "--community", a.root, "--pubkey", fed.pubkey("A"))
        p = fed.sync("B", check=False)
    finally:
        proxy.close()
    assert "pulled=1" in p.stdout and "rejected=1" in p.stdout, p.stdout + p.stderr
    ids = fed.ids("B")
    assert sig["id"] not in ids and ind["id"] in ids


def test_push_to_peer_minimised_and_verified(fed):
    _, b = setup_pair(fed, "push")
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])
    p = fed.sync("A")
    assert "pushed=2" in p.stdout, p.stdout
    got = fed.objects("B")
    assert_sighting_minimised(by_id(got, sig["id"]))
    i = by_id(got, ind["id"])
    assert "labels" not in i  # the peer:B rule
    assert "x_analyst" not in i
    # B verified A's selective-disclosure signature on receipt (it trusts
    # A's key): the objects are stored, and a stored copy is not one B
    # holds as a different, unverified version
    assert i["extensions"][SD_EXT]["public_key"] == fed.pubkey("A")


def test_export_minimised_and_verifies_on_import(fed, tmp_path):
    a, b = setup_pair(fed, "pull")
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])
    out = tmp_path / "for-b.json"
    a.cli("export", "--data", a.data, "--collection", fed.coll["A"], "--format", "stix",
          "--as-org", "B", "--output", str(out))
    bundle = json.loads(out.read_text())
    assert_sighting_minimised(by_id(bundle["objects"], sig["id"]))
    assert "description" not in by_id(bundle["objects"], ind["id"])
    # the own org's export keeps what it may read, minus the defaults
    own = tmp_path / "own.json"
    a.cli("export", "--data", a.data, "--collection", fed.coll["A"], "--format", "stix",
          "--output", str(own))
    mine = json.loads(own.read_text())
    assert by_id(mine["objects"], ind["id"])["description"] == "seen at our DMZ"
    # B imports the minimised export: the signatures verify there (B trusts
    # A's key); a tampered copy is refused
    b.cli("key", "trust", "A", fed.pubkey("A"), "--data", b.data, check=False)
    p = b.cli("import", "--data", b.data, "--collection", fed.coll["B"], str(out), check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 added" in p.stderr and "0 invalid" in p.stderr, p.stderr
    assert sig["id"] in fed.ids("B")
    by_id(bundle["objects"], sig["id"])["count"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    p = b.cli("import", "--data", b.data, "--collection", fed.coll["B"], str(bad), check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "does not match its signed digest" in p.stderr and "1 invalid" in p.stderr, p.stderr


def test_feed_and_console_for_partner_minimised(fed):
    a, _ = setup_pair(fed, "pull")
    ind, sig = sample_objects()
    fed.post("A", [ind, sig])
    tok = a.token("B")
    coll = fed.coll["A"]
    # the feed a partner subscribes to
    r = a.get(f"/api/v1/feeds/stix?collection={coll}", token=tok, accept=None)
    assert r.status_code == 200, r.text
    feed = r.json()["objects"]
    assert_sighting_minimised(by_id(feed, sig["id"]))
    assert "description" not in by_id(feed, ind["id"])
    # the console's JSON for a partner user: object page and raw bytes
    r = a.get(f"/api/v1/objects/{sig['id']}", token=tok, accept=None)
    assert r.status_code == 200, r.text
    page = r.json()
    assert_sighting_minimised(page["object"])
    assert page["signature"]["verdict"] == "valid"  # A verifies its own SD signature
    r = a.get(f"/api/v1/objects/{sig['id']}/raw", token=tok, accept=None)
    assert r.status_code == 200, r.text
    assert_sighting_minimised(r.json())
    # the own org's console shows the object as stored
    r = a.get(f"/api/v1/objects/{sig['id']}/raw", accept=None)
    assert r.json()["x_sensor_host"] == "fw-7.corp.internal"


def test_internal_address_objects_never_leave(fed):
    a, _ = setup_pair(fed, "pull")
    inside = {"type": "ipv4-addr", "spec_version": "2.1",
              "id": f"ipv4-addr--{uuid.uuid4()}", "value": "10.20.30.40"}
    outside = {"type": "ipv4-addr", "spec_version": "2.1",
               "id": f"ipv4-addr--{uuid.uuid4()}", "value": "198.51.100.9"}
    fed.post("A", [inside, outside])
    tok = a.token("B")
    theirs, _ = a.page_all(a.objects_path(fed.coll["A"], a.root), token=tok)
    ids = {o["id"] for o in theirs}
    assert outside["id"] in ids and inside["id"] not in ids
    # nor does its id show in the manifest (an SCO id can be derived from the value)
    r = a.get(f"/{a.root}/collections/{fed.coll['A']}/manifest/", token=tok)
    assert r.status_code == 200, r.text
    listed = {m["id"] for m in r.json()["objects"]}
    assert outside["id"] in listed and inside["id"] not in listed
    r = a.get(f"/{a.root}/collections/{fed.coll['A']}/objects/{inside['id']}/versions/",
              token=tok)
    assert r.status_code == 404 or not r.json().get("versions"), r.text
    # the own org sees both
    mine = {m["id"] for m in
            a.get(f"/{a.root}/collections/{fed.coll['A']}/manifest/").json()["objects"]}
    assert {inside["id"], outside["id"]} <= mine
    p = fed.sync("B")
    assert "pulled=1" in p.stdout, p.stdout
    assert inside["id"] not in fed.ids("B")


def test_only_what_a_policy_may_change_carries_the_disclosure_block(fed):
    """The selective-disclosure block costs about 700 bytes and a second
    signature per object: A gives it only to objects some reader's
    minimisation could change (a rule for the type and property, an x_
    property, a sighting naming an internal address). The rest carry the
    whole-object signature alone, reach the partner unchanged and verify
    there."""
    a, b = setup_pair(fed, "pull")
    plain = indicator(tlp=TLP_CLEAR, value="198.51.100.9")  # no rule names its properties
    ruled, sig = sample_objects()  # description (org:B rule), x_ properties
    fed.post("A", [plain, ruled, sig])
    mine, _ = a.page_all(a.objects_path(fed.coll["A"], a.root))
    assert SD_EXT not in by_id(mine, plain["id"])["extensions"]
    assert SIG_EXT in by_id(mine, plain["id"])["extensions"]
    for o in (ruled, sig):
        assert {SD_EXT, SIG_EXT} <= set(by_id(mine, o["id"])["extensions"])
    p = fed.sync("B")
    assert "pulled=3" in p.stdout and "rejected=0" in p.stdout and "unverified=0" in p.stdout, \
        p.stdout
    got = fed.objects("B")
    assert by_id(got, plain["id"]) == by_id(mine, plain["id"])  # sent whole, signature intact
    assert by_id(got, ruled["id"])["extensions"][SD_EXT]["public_key"] == fed.pubkey("A")


def test_posting_again_after_a_policy_change_is_already_present(fed):
    """A signs what its own org posts, with the disclosure block only when
    the policy in force could change the object: posted again after the
    policy changed, the same object is signed without it. It is the copy
    already stored (the same content as received), not a conflict; a copy
    that says something else still is one."""
    a, _ = setup_pair(fed, "pull")
    ind, _ = sample_objects()  # description (org:B rule), x_analyst
    path = a.objects_path(fed.coll["A"], a.root)
    assert fed.post("A", [ind])["success_count"] == 1
    first = by_id(a.page_all(path)[0], ind["id"])
    assert {SD_EXT, SIG_EXT} <= set(first["extensions"])
    # now no reader's minimisation could change an indicator
    (a.data / "privacy-policy.json").write_text(json.dumps({"forward_custom": ["x_analyst"]}))
    deadline = time.monotonic() + 20
    while True:  # in force within a second (docs/privacy.md): a new object shows it
        probe = indicator(tlp=TLP_CLEAR, value="198.51.100.4", description="d", x_analyst="j")
        fed.post("A", [probe])
        if SD_EXT not in by_id(a.page_all(path)[0], probe["id"])["extensions"]:
            break
        assert time.monotonic() < deadline, "the new privacy policy never came into force"
        time.sleep(0.5)
    st = fed.post("A", [ind])  # failure_count 0
    assert st["success_count"] == 1, st
    assert by_id(a.page_all(path)[0], ind["id"]) == first  # the stored copy, unchanged
    versions = a.get(f"{path}{ind['id']}/versions/").json()["versions"]
    assert versions == [ind["modified"]], versions
    refused = json.loads(a.cli("conflicts", "--data", a.data, "--json").stdout)["conflicts"]
    assert refused == [], refused
    # a different copy of the version is still refused, and kept as a conflict
    other = dict(ind, description="another description")
    r = a.post(fed.coll["A"], [other], root=a.root)
    assert r.status_code == 202 and r.json()["failure_count"] == 1, r.text
    assert "different copy" in r.json()["failures"][0]["message"], r.text
    refused = json.loads(a.cli("conflicts", "--data", a.data, "--json").stdout)["conflicts"]
    assert [(k["object_id"], k["reason"]) for k in refused] == [(ind["id"], "other-copy")], refused
    assert by_id(a.page_all(path)[0], ind["id"]) == first


def test_pulling_a_copy_signed_again_is_already_present(fed):
    """One object signed twice by one key, with the disclosure block and
    without (A and A2 share A's key; A's policy could change the object
    for some reader, A2's could not), both sent to B whole: B pulls it
    from both and holds one copy, with no conflict."""
    a = fed.node("A", start=False)
    (a.data / "privacy-policy.json").write_text(json.dumps({"rules": [
        {"scope": "org:C", "type": "indicator", "property": "description", "action": "drop"}]}))
    fed.pubkey("A")
    a.start()
    a2 = fed.node("A2", start=False)
    shutil.copy(a.data / "node.key", a2.data / "node.key")
    a2.start()
    b = fed.node("B")
    fed.link("A", "B", "pull")
    fed.link("A2", "B", "pull", pubkey=False)  # the same key: A's entry names it
    ind = indicator(tlp=TLP_CLEAR, value="198.51.100.5", description="seen at the border")
    fed.post("A", [ind])
    fed.post("A2", [ind])
    one = by_id(fed.objects("A"), ind["id"])
    two = by_id(fed.objects("A2"), ind["id"])
    assert SD_EXT in one["extensions"] and SD_EXT not in two["extensions"]
    assert one["extensions"][SIG_EXT]["public_key"] == two["extensions"][SIG_EXT]["public_key"]
    for peer, counts in (("A", "pulled=1 duplicates=0"), ("A2", "pulled=0 duplicates=1")):
        p = fed.sync("B", peer=peer)
        assert f"{counts} rejected=0 conflicts=0 " in p.stdout, p.stdout + p.stderr
    got = by_id(fed.objects("B"), ind["id"])
    assert got == one  # the copy pulled first stays
    refused = json.loads(b.cli("conflicts", "--data", b.data, "--json").stdout)["conflicts"]
    assert refused == [], refused


VALUE_FORMATS = ("csv", "zeek", "nft", "ipset", "snort", "list")


def test_value_format_exports_and_feeds_are_minimised(fed):
    """The formats that print bare values take them from the object as
    minimised for the reading org: a pattern the policy drops for org P
    gives P no value, in every format, from `export` and from the feeds."""
    a = fed.node("A", start=False)
    (a.data / "privacy-policy.json").write_text(json.dumps({"rules": [
        {"scope": "org:P", "type": "indicator", "property": "pattern", "action": "drop"}]}))
    a.start()
    fed.partner(a, "P")
    a.grant("P", fed.coll["A"], True, False)
    fed.post("A", [indicator(tlp=TLP_CLEAR, value="198.51.100.77")])
    for fmt in VALUE_FORMATS:
        own = a.cli("export", "--data", a.data, "--collection", fed.coll["A"], "--format", fmt)
        assert "198.51.100.77" in own.stdout, (fmt, own.stdout)
        theirs = a.cli("export", "--data", a.data, "--collection", fed.coll["A"], "--format",
                       fmt, "--as-org", "P")
        assert "198.51.100.77" not in theirs.stdout, (fmt, theirs.stdout)
    tok = a.token("P")
    for fmt in ("csv", "zeek", "nft"):
        r = a.get(f"/api/v1/feeds/{fmt}?collection={fed.coll['A']}", token=tok, accept=None)
        assert r.status_code == 200 and "198.51.100.77" not in r.text, (fmt, r.text)
        r = a.get(f"/api/v1/feeds/{fmt}?collection={fed.coll['A']}", accept=None)
        assert r.status_code == 200 and "198.51.100.77" in r.text, (fmt, r.text)
