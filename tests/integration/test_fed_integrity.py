"""Federation integrity (issue 17, items 1-7): nothing travels further, or
says something other, than its creator decided.

Every test runs real `meridian serve` nodes on 127.0.0.1 (test_fed_propagation's
Fed helper) and attacks them the way a partner or a middle node could: an
object whose TLP came from a default relayed through a public collection, a
partner or a hostile peer versioning someone else's signed object, a forged
copy served first, a discovery document that names a third host, a peer named
like the own org, a signature block under a look-alike key. Each test fails
on the build before the fix (see the report of issue 17).
"""
import base64
import http.server
import json
import threading
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node import TAXII, TLP_GREEN, TLP_RED, indicator
from test_fed_propagation import Fed

SIG_EXT = "extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def sig_of(obj):
    return obj.get("extensions", {}).get(SIG_EXT)


def jcs(obj):
    """RFC 8785 for the plain objects of these tests (ASCII strings, no numbers)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Signer:
    """An Ed25519 key outside any node: a node of an older release, or a
    forger with a key of its own. Signs exactly as docs/signatures.md says."""

    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        self.pub = "ed25519:" + base64.b64encode(raw).decode()

    def sign(self, obj):
        o = json.loads(json.dumps(obj))
        o.get("extensions", {}).pop(SIG_EXT, None)
        if "extensions" in o and not o["extensions"]:
            del o["extensions"]
        sig = base64.b64encode(self.key.sign(jcs(o))).decode()
        o.setdefault("extensions", {})[SIG_EXT] = {
            "extension_type": "property-extension", "algorithm": "ed25519",
            "canonicalization": "rfc8785", "public_key": self.pub, "signature": sig}
        return o


def one(fed, name, oid, token="admin", params=None):
    """The objects endpoint's answer for one id at node `name` (a list)."""
    n = fed.nodes[name]
    r = n.get(n.objects_path(fed.coll[name], n.root) + f"{oid}/", token=token,
              params=params or {})
    assert r.status_code in (200, 404), r.text
    return r.json().get("objects", []) if r.status_code == 200 else []


def anonymous_ids(fed, name):
    n = fed.nodes[name]
    r = n.get(n.objects_path(fed.coll[name], n.root), token=None)
    assert r.status_code == 200, r.text
    return {o["id"] for o in r.json().get("objects", [])}


def public_collection(fed, name):
    """Replaces node `name`'s collection by a public one (CLEAR by default)."""
    n = fed.nodes[name]
    p = n.cli("collection", "create", "--data", n.data, "--api-root", n.root, "--title",
              f"{name} public", "--public", "--default-tlp", "clear")
    fed.coll[name] = p.stdout.strip()
    return fed.coll[name]


def conflicts(fed, name):
    n = fed.nodes[name]
    p = n.cli("conflicts", "--data", n.data, "--json")
    return json.loads(p.stdout)["conflicts"]


# ---- item 5: a peer named like the own org -----------------------------------

def test_peer_named_like_own_or_constituent_org_is_refused(fed):
    a = fed.node("A")
    b = fed.node("B")
    a.org("cons", "constituent")
    base = ["peer", "add", "--data", b.data, "--url", a.url, "--api-root", "europe",
            "--collection", fed.coll["A"], "--local-collection", fed.coll["B"],
            "--token", "t", "--community", "europe"]
    for name in ("own", ):
        for direction in ("push", "pull", "both"):
            p = b.cli(*base[:2], name, *base[2:], "--direction", direction, check=False)
            assert p.returncode == 2, p.stdout + p.stderr
            assert "not a partner" in p.stderr, p.stderr
    base_a = ["peer", "add", "--data", a.data, "--url", b.url, "--api-root", "europe",
              "--collection", fed.coll["B"], "--local-collection", fed.coll["A"],
              "--token", "t", "--community", "europe"]
    p = a.cli(*base_a[:2], "cons", *base_a[2:], "--direction", "push", check=False)
    assert p.returncode == 2 and "not a partner" in p.stderr, p.stderr
    # a push peer without a partner org of its name: refused, saying what to do
    p = a.cli(*base_a[:2], "nobody", *base_a[2:], "--direction", "push", check=False)
    assert p.returncode == 2 and "org create nobody --relation partner" in p.stderr, p.stderr
    assert "nobody" not in a.cli("peer", "list", "--data", a.data).stdout


def test_push_sends_what_the_partner_may_read_and_orgs_are_checked_each_round(fed):
    for name in "AB":
        fed.node(name)
    fed.link("B", "A", "push")  # A pushes to B as B's partner org on A
    red = indicator(TLP_RED, value="10.17.5.1")
    green = indicator(TLP_GREEN, value="10.17.5.2")
    fed.post("A", [red, green])
    p = fed.sync("A")
    assert "pushed=1" in p.stdout, p.stdout
    assert green["id"] in fed.ids("B") and red["id"] not in fed.ids("B")
    # a pull peer added with no org of its name; an own org of that name is
    # created afterwards: the next round refuses to run as that org
    a = fed.nodes["A"]
    s, tok = fed.nodes["B"], fed.nodes["B"].token("A")
    a.cli("peer", "add", "boss", "--data", a.data, "--url", s.url, "--api-root", "europe",
          "--collection", fed.coll["B"], "--local-collection", fed.coll["A"], "--token", tok,
          "--direction", "pull", "--community", "europe")
    a.org("boss", "own")
    p = fed.sync("A", check=False)
    assert p.returncode == 1 and "not a partner" in p.stdout, p.stdout


# ---- item 4: the token goes to the configured origin only ---------------------

class Recorder:
    """An HTTP server on 127.0.0.1 that records every request's path and
    Authorization header and answers with what `answer(path)` returns:
    (status, headers, body)."""

    def __init__(self, answer):
        self.seen = []
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                rec.seen.append((self.path, self.headers.get("Authorization")))
                status, headers, body = answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def taxii_json(obj):
    return 200, {"Content-Type": TAXII}, json.dumps(obj).encode()


@pytest.mark.parametrize("how", ["absolute", "userinfo", "redirect"])
def test_discovery_cannot_send_the_token_to_a_third_host(fed, how):
    third = Recorder(lambda path: taxii_json({"title": "third", "versions": [TAXII],
                                              "max_content_length": 1000}))

    def answer(path):
        if path == "/taxii2/":
            if how == "redirect":
                return 302, {"Location": third.url + "/taxii2/"}, b""
            root = (f"{third.url}/evil/" if how == "absolute"
                    else f"http://127.0.0.1:{peer.port}@127.0.0.1:{third.port}/evil/")
            return taxii_json({"title": "peer", "api_roots": [root]})
        return taxii_json({})
    peer = Recorder(answer)
    try:
        fed.node("A")
        a = fed.nodes["A"]
        a.cli("peer", "add", "p", "--data", a.data, "--url", peer.url, "--api-root", "evil",
              "--collection", str(uuid.uuid4()), "--local-collection", fed.coll["A"],
              "--token", "mrd_secret_of_a", "--direction", "pull", "--community", "europe")
        p = fed.sync("A", check=False)
        assert p.returncode == 1, p.stdout
        if how == "redirect":
            assert "HTTP 302" in p.stdout, p.stdout
        else:
            assert "refusing to send this peer's token" in p.stdout, p.stdout
        assert third.seen == [], third.seen  # nothing at all reached the third host
        assert all(path == "/taxii2/" for path, _ in peer.seen), peer.seen
    finally:
        peer.close()
        third.close()


# ---- item 1: an object leaves a node carrying the TLP it had there -----------

def test_green_by_default_stays_green_through_a_public_relay(fed):
    """A (GREEN by default) -> B (public, CLEAR by default) -> C (public):
    the object A created unmarked is GREEN at every node, never served to
    anonymous readers, and carries A's GREEN marking under A's signature."""
    for name in "ABC":
        fed.node(name)
    public_collection(fed, "B")
    public_collection(fed, "C")
    fed.link("A", "B")
    fed.link("B", "C")
    ind = indicator(value="10.17.1.1")  # no marking: GREEN at A by its collection default
    fed.post("A", [ind])
    [at_a] = one(fed, "A", ind["id"])
    assert at_a["object_marking_refs"] == [TLP_GREEN], at_a
    assert sig_of(at_a)["public_key"] == fed.pubkey("A")
    fed.sync("B")
    fed.sync("C")
    for name in "BC":
        [o] = one(fed, name, ind["id"])
        assert o == at_a  # the bytes A signed, marking included
        assert ind["id"] not in anonymous_ids(fed, name), name


def test_received_unmarked_objects_are_at_least_green(fed):
    """Unmarked objects that were not created here: an unsigned one posted
    by a partner of B, and a signed one (a node of an older release signed
    it unmarked) relayed by A. At B's public collection neither is CLEAR;
    the unsigned one is stored with its GREEN marking, so it leaves B (pull
    by C, push to D, export) carrying it; the signed one keeps its bytes and
    every receiver reads it as GREEN."""
    for name in "ABCD":
        fed.node(name)
    public_collection(fed, "B")
    public_collection(fed, "C")
    public_collection(fed, "D")
    fed.link("A", "B")
    fed.link("B", "C")
    fed.link("D", "B", "push")
    b = fed.nodes["B"]
    b.org("P", "partner")
    ptok = b.token("P")
    b.grant("P", fed.coll["B"], True, True)
    plain = indicator(value="10.17.1.2")
    b.post_ok(fed.coll["B"], [plain], token=ptok, root="europe")
    old = Signer().sign(indicator(value="10.17.1.3"))
    fed.post("A", [old])  # A's own org re-posts it: A did not create it, bytes stay
    fed.sync("B")
    assert one(fed, "B", old["id"]) == [old]
    [stored] = one(fed, "B", plain["id"])
    assert stored["object_marking_refs"] == [TLP_GREEN]
    assert {plain["id"], old["id"]}.isdisjoint(anonymous_ids(fed, "B"))
    fed.sync("C")
    fed.sync("B", peer="D")
    for name in "CD":
        assert one(fed, name, plain["id"]) == [stored], name
        assert one(fed, name, old["id"]) == [old], name
        assert {plain["id"], old["id"]}.isdisjoint(anonymous_ids(fed, name)), name
    p = b.cli("export", "--data", b.data, "--collection", fed.coll["B"])
    exported = {o["id"]: o for o in json.loads(p.stdout)["objects"]}
    assert exported[plain["id"]]["object_marking_refs"] == [TLP_GREEN]
    p = b.cli("export", "--data", b.data, "--collection", fed.coll["B"], "--format", "csv")
    # CSV of bare values: type,value,indicator_id,tlp,... (docs/interop.md)
    rows = {line.split(",")[2]: line.split(",")[3] for line in p.stdout.splitlines()[1:]}
    assert rows[plain["id"]] == rows[old["id"]] == "green", rows


# ---- item 2: only the signer makes new versions of a signed object -----------

def newer(obj, **changes):
    """Another version of obj, unsigned (a forger cannot sign with its key)."""
    o = {k: v for k, v in obj.items() if k != "extensions"}
    o.update(modified="2026-09-01T00:00:00.000Z", **changes)
    return o


def test_partner_cannot_version_a_signed_object(fed):
    a = fed.node("A")
    a.org("P", "partner")
    ptok = a.token("P")
    a.grant("P", fed.coll["A"], True, True)
    a.org("R", "partner")
    rtok = a.token("R")
    a.grant("R", fed.coll["A"], True, False)
    ind = indicator(TLP_GREEN, value="10.17.2.1")
    fed.post("A", [ind])
    [signed] = one(fed, "A", ind["id"])
    forged = newer(signed, revoked=True)
    r = a.post(fed.coll["A"], [forged], token=ptok, root="europe")
    st = r.json()
    assert st["failure_count"] == 1 and st["success_count"] == 0, st
    assert "only its signer makes its versions" in st["failures"][0]["message"], st
    for tok in ("admin", ptok, rtok):
        assert one(fed, "A", ind["id"], token=tok) == [signed], tok
        assert one(fed, "A", ind["id"], token=tok, params={"match[version]": "all"}) == [signed]
    [k] = conflicts(fed, "A")
    assert (k["object_id"], k["reason"], k["action"]) == (ind["id"], "other-signer", "rejected")
    assert k["kept"]["signer"] == fed.pubkey("A") and k["other"]["signer"] is None
    assert k["other"]["org"] == "P"
    shown = json.loads(a.cli("conflicts", "--data", a.data, "--show", k["n"]).stdout)
    assert shown["revoked"] is True and shown["id"] == ind["id"]
    # re-posting the same forgery is recorded once
    a.post(fed.coll["A"], [forged], token=ptok, root="europe")
    assert len(conflicts(fed, "A")) == 1


def test_constituent_versions_only_what_it_created(fed):
    """A constituent's objects are signed with the node's key, as the own
    org's are, so the key cannot say who made a version: the store's creator
    does. A constituent makes versions only of objects it created here; the
    own org (the node's operator) may version any. Otherwise the node would
    sign a constituent's rewrite (or revocation) of anyone's intelligence,
    and its peers would take it as genuine."""
    a = fed.node("A")
    toks = {}
    for org, rel in (("C", "constituent"), ("D", "constituent"), ("P", "partner")):
        a.org(org, rel)
        toks[org] = a.token(org)
        a.grant(org, fed.coll["A"], True, True)
    own = indicator(TLP_GREEN, value="10.17.6.1")
    fed.post("A", [own])
    [signed] = one(fed, "A", own["id"])
    forged = newer(signed, revoked=True)
    why = failure(a.post(fed.coll["A"], [forged], token=toks["C"], root="europe"))
    assert "only the organisation that created this object" in why, why
    for tok in ("admin", toks["C"], toks["P"]):
        assert one(fed, "A", own["id"], token=tok) == [signed], tok
    # its own objects, yes; another constituent's or a partner's, no
    mine = indicator(TLP_GREEN, value="10.17.6.2")
    a.post_ok(fed.coll["A"], [mine], token=toks["C"], root="europe")
    a.post_ok(fed.coll["A"], [newer(mine)], token=toks["C"], root="europe")
    assert "only the organisation that created" in failure(a.post(
        fed.coll["A"], [dict(newer(mine), modified="2026-10-01T00:00:00.000Z", name="D's")],
        token=toks["D"], root="europe"))
    theirs = indicator(TLP_GREEN, value="10.17.6.3")
    a.post_ok(fed.coll["A"], [theirs], token=toks["P"], root="europe")
    assert "only the organisation that created" in failure(a.post(
        fed.coll["A"], [newer(theirs)], token=toks["C"], root="europe"))
    # the own org may version a constituent's object
    a.post_ok(fed.coll["A"], [dict(newer(mine), modified="2026-10-01T00:00:00.000Z")],
              root="europe")
    [cur] = one(fed, "A", mine["id"])
    assert cur["modified"] == "2026-10-01T00:00:00.000Z" and sig_of(cur) is not None
    # an object it may not read: its copy is its own, current for nobody else
    red = indicator(TLP_RED, value="10.17.6.4")
    fed.post("A", [red])
    [red_signed] = one(fed, "A", red["id"])
    a.post_ok(fed.coll["A"], [newer(red_signed, object_marking_refs=[TLP_GREEN])],
              token=toks["C"], root="europe")
    assert one(fed, "A", red["id"]) == [red_signed]
    assert [o["modified"] for o in one(fed, "A", red["id"], token=toks["D"])] == []
    ks = conflicts(fed, "A")
    assert sorted((k["object_id"], k["reason"], k["action"]) for k in ks) == sorted([
        (own["id"], "other-creator", "rejected"), (mine["id"], "other-creator", "rejected"),
        (theirs["id"], "other-creator", "rejected"),
        (red["id"], "other-creator", "writer-only")]), ks


def failure(r):
    """The one failure message of a POST's status."""
    st = r.json()
    assert r.status_code == 202 and st["success_count"] == 0, st
    [f] = st["failures"]
    return f["message"]


def test_revoking_is_final_and_created_never_changes(fed):
    """STIX 2.1 §3.2, §3.6: no version follows a revoked one, and created
    never changes. A writer (partner P, unsigned; the node itself, signed)
    that breaks its own object's history is refused and recorded; a writer
    that may not read the object learns nothing (its copy is its own)."""
    a = fed.node("A")
    a.org("P", "partner")
    ptok = a.token("P")
    a.grant("P", fed.coll["A"], True, True)
    a.org("W", "partner")
    wtok = a.token("W")
    a.grant("W", fed.coll["A"], False, True)
    v1 = indicator(TLP_GREEN, value="10.17.5.1")
    revoked = dict(v1, modified="2026-05-01T00:00:00.000Z", revoked=True)
    a.post_ok(fed.coll["A"], [v1, revoked], token=ptok, root="europe")
    after = dict(v1, modified="2026-06-01T00:00:00.000Z", name="back from the dead")
    why = failure(a.post(fed.coll["A"], [after], token=ptok, root="europe"))
    assert "breaks this object's history" in why, why
    moved = dict(v1, created="2026-01-02T00:00:00.000Z", modified="2026-04-01T00:00:00.000Z")
    assert "breaks this object's history" in \
        failure(a.post(fed.coll["A"], [moved], token=ptok, root="europe"))
    # an older version arriving late is history, not a break
    older = dict(v1, modified="2026-03-01T00:00:00.000Z", name="older")
    a.post_ok(fed.coll["A"], [older], token=ptok, root="europe")
    # a write-only org may not read the object: its copy is stored as its
    # own (a refusal would tell it the object exists), current for nobody
    # else; recorded as other-creator (P stored the object first), which
    # is checked before the history
    a.post_ok(fed.coll["A"], [dict(after, name="W's copy")], token=wtok, root="europe")
    # ... and its own history is kept as for an object new to the node: what
    # W is told never depends on the rows it may not read
    w_moved = dict(after, created="2026-01-03T00:00:00.000Z", modified="2026-08-01T00:00:00.000Z")
    assert "breaks this object's history" in \
        failure(a.post(fed.coll["A"], [w_moved], token=wtok, root="europe"))
    fresh = indicator(TLP_GREEN, value="10.17.5.9")
    a.post_ok(fed.coll["A"], [fresh], token=wtok, root="europe")
    assert "breaks this object's history" in failure(a.post(
        fed.coll["A"], [dict(fresh, created=w_moved["created"], modified=w_moved["modified"])],
        token=wtok, root="europe"))
    for tok in ("admin", ptok):
        [cur] = one(fed, "A", v1["id"], token=tok)
        assert cur["revoked"] is True and cur["modified"] == revoked["modified"], tok
        got = one(fed, "A", v1["id"], token=tok, params={"match[version]": "all"})
        assert sorted(o["modified"] for o in got) == [v1["modified"], older["modified"],
                                                      revoked["modified"]], tok
    # a revocation older than a stored version is refused too (first stored wins)
    v2 = indicator(TLP_GREEN, value="10.17.5.2")
    v3 = dict(v2, modified="2026-07-01T00:00:00.000Z")
    a.post_ok(fed.coll["A"], [v2, v3], token=ptok, root="europe")
    late = dict(v2, modified="2026-06-01T00:00:00.000Z", revoked=True)
    assert "breaks this object's history" in \
        failure(a.post(fed.coll["A"], [late], token=ptok, root="europe"))
    assert [o["modified"] for o in one(fed, "A", v2["id"])] == [v3["modified"]]
    # the node's own signed object: its own later version after revoking
    own = indicator(TLP_GREEN, value="10.17.5.3")
    fed.post("A", [own, dict(own, modified="2026-05-01T00:00:00.000Z", revoked=True)])
    r = a.post(fed.coll["A"], [dict(own, modified="2026-06-01T00:00:00.000Z")], root="europe")
    assert "breaks this object's history" in failure(r)
    [cur] = one(fed, "A", own["id"])
    assert cur["revoked"] is True and sig_of(cur) is not None
    ks = conflicts(fed, "A")
    assert sorted((k["object_id"], k["reason"], k["action"]) for k in ks) == sorted([
        (v1["id"], "history", "rejected"), (v1["id"], "history", "rejected"),
        (v1["id"], "other-creator", "writer-only"), (v1["id"], "history", "rejected"),
        (fresh["id"], "history", "rejected"), (v2["id"], "history", "rejected"),
        (own["id"], "history", "rejected")]), ks


def forger(fed, name):
    """Node `name` whose partner F posts what it is given, unsigned: a
    hostile peer serving forgeries of other nodes' objects."""
    n = fed.node(name)
    n.org("F", "partner")
    tok = n.token("F")
    n.grant("F", fed.coll[name], True, True)
    return lambda objs: n.post_ok(fed.coll[name], objs, token=tok, root="europe")


def test_hostile_peer_cannot_version_or_preempt_a_signed_object(fed):
    """A creates a signed object; H serves a newer unsigned version
    (revoked) and a forged copy of the same version. C pulls from H first
    and from A later, D the other way round, E from C: at every node the
    last (and only) version is A's signed one, and C's conflicts say what
    happened."""
    fed.node("A")
    serve = forger(fed, "H")
    for name in "CDE":
        fed.node(name)
    ind = indicator(TLP_GREEN, value="10.17.2.2")
    fed.post("A", [ind])
    [signed] = one(fed, "A", ind["id"])
    other = indicator(TLP_GREEN, value="10.17.2.3")
    fed.post("A", [other])
    [signed2] = one(fed, "A", other["id"])
    serve([newer(signed, revoked=True)])
    copy = {k: v for k, v in signed2.items() if k != "extensions"}
    copy["pattern"] = "[ipv4-addr:value = '203.0.113.66']"  # same id and version, other bytes
    serve([copy])
    for c, first, then in (("C", "H", "A"), ("D", "A", "H")):
        fed.link(first, c)
        fed.link(then, c)
        fed.sync(c, peer=first)
        p = fed.sync(c, peer=then)
        assert one(fed, c, ind["id"]) == [signed], c
        assert one(fed, c, ind["id"], params={"match[version]": "all"}) == [signed], c
        assert one(fed, c, other["id"]) == [signed2], c
        assert "conflicts=2" in p.stdout, p.stdout
        assert {(k["object_id"], k["action"]) for k in conflicts(fed, c)} == \
            {(ind["id"], "demoted" if first == "H" else "rejected"),
             (other["id"], "demoted" if first == "H" else "rejected")}, c
    fed.link("C", "E")
    fed.sync("E")
    assert one(fed, "E", ind["id"], params={"match[version]": "all"}) == [signed]
    assert one(fed, "E", other["id"]) == [signed2]


def test_unsigned_copies_of_one_version_first_stays(fed):
    """Two unsigned copies of one version with different bytes: the first
    stored stays, the other is refused and recorded."""
    s1 = forger(fed, "S1")
    s2 = forger(fed, "S2")
    fed.node("C")
    ind = indicator(TLP_GREEN, value="10.17.3.1")
    s1([ind])
    s2([dict(ind, pattern="[ipv4-addr:value = '10.17.3.99']")])
    fed.link("S1", "C")
    fed.link("S2", "C")
    fed.sync("C", peer="S1")
    p = fed.sync("C", peer="S2")
    assert "conflicts=1" in p.stdout, p.stdout
    [got] = one(fed, "C", ind["id"])
    assert "10.17.3.1" in got["pattern"]
    [k] = conflicts(fed, "C")
    assert (k["reason"], k["action"], k["other"]["source_peer"]) == \
        ("other-copy", "rejected", "S2")


# ---- unsigned objects: the writer that stored it first versions it ----------

def test_only_the_first_writer_versions_an_unsigned_object(fed):
    """STIX 2.1 §3.6: only the creator versions an object. A partner's
    object is stored unsigned, so no key says who created it: the store's
    record of the org that stored it first does. Another partner's newer
    version (a revocation too) is refused when it may read the object, and
    stored as its own copy when it may not (a refusal would tell it the
    object exists); the first writer versions on, the own org versions
    anything. (Until session 9 Q's revocation became current for everyone.)"""
    a = fed.node("A")
    toks = {}
    for org, read in (("P", True), ("Q", True), ("W", False)):
        a.org(org, "partner")
        toks[org] = a.token(org)
        a.grant(org, fed.coll["A"], read, True)
    v1 = indicator(TLP_GREEN, value="10.17.7.1")
    a.post_ok(fed.coll["A"], [v1], token=toks["P"], root="europe")
    [got] = one(fed, "A", v1["id"])
    assert sig_of(got) is None and got["modified"] == v1["modified"]
    forged = [dict(v1, modified="2026-02-01T00:00:00.000Z", name="Q's"),
              dict(v1, modified="2026-03-01T00:00:00.000Z", revoked=True)]
    for f in forged:
        why = failure(a.post(fed.coll["A"], [f], token=toks["Q"], root="europe"))
        assert "only the organisation that created" in why, why
    # re-posting the same bytes of a stored version is no forgery
    a.post_ok(fed.coll["A"], [v1], token=toks["Q"], root="europe")
    p2 = dict(v1, modified="2026-04-01T00:00:00.000Z", name="P's second")
    a.post_ok(fed.coll["A"], [p2], token=toks["P"], root="europe")
    # W may not read the object: its version is its own, current for nobody else
    a.post_ok(fed.coll["A"], [dict(v1, modified="2026-05-01T00:00:00.000Z", revoked=True)],
              token=toks["W"], root="europe")
    for tok in ("admin", toks["P"], toks["Q"]):
        [cur] = one(fed, "A", v1["id"], token=tok)
        assert cur["modified"] == p2["modified"] and "revoked" not in cur, tok
        got = one(fed, "A", v1["id"], token=tok, params={"match[version]": "all"})
        assert sorted(o["modified"] for o in got) == [v1["modified"], p2["modified"]], tok
    ks = conflicts(fed, "A")
    assert sorted((k["reason"], k["action"], k["other"]["org"]) for k in ks) == sorted([
        ("other-creator", "rejected", "Q"), ("other-creator", "rejected", "Q"),
        ("other-creator", "writer-only", "W")]), ks
    assert {k["object_id"] for k in ks} == {v1["id"]}
    # the own org may version it (signed here: its key outranks no signature)
    mine = dict(v1, modified="2026-06-01T00:00:00.000Z", name="own")
    a.post_ok(fed.coll["A"], [mine], root="europe")
    [cur] = one(fed, "A", v1["id"], token=toks["Q"])
    assert cur["modified"] == mine["modified"] and sig_of(cur) is not None


def test_relayed_unsigned_object_is_versioned_by_the_first_path(fed):
    """Unsigned objects relayed by a peer: the writer that stored the object
    first here is that peer (the node cannot know who made it upstream). A
    hostile peer H serving a newer version (a revocation) of an unsigned
    object C first received from A is refused (a conflict, reason
    other-creator); A's later versions keep arriving."""
    a = fed.node("A")
    a.org("P", "partner")
    ptok = a.token("P")
    a.grant("P", fed.coll["A"], True, True)
    serve = forger(fed, "H")
    fed.node("C")
    v1 = indicator(TLP_GREEN, value="10.17.8.1")
    a.post_ok(fed.coll["A"], [v1], token=ptok, root="europe")
    serve([dict(v1, modified="2026-02-01T00:00:00.000Z", revoked=True)])
    fed.link("A", "C")
    fed.link("H", "C")
    fed.sync("C", peer="A")
    p = fed.sync("C", peer="H")
    assert "conflicts=1" in p.stdout, p.stdout
    [cur] = one(fed, "C", v1["id"])
    assert cur["modified"] == v1["modified"] and "revoked" not in cur and sig_of(cur) is None
    v2 = dict(v1, modified="2026-03-01T00:00:00.000Z", name="P's second")
    a.post_ok(fed.coll["A"], [v2], token=ptok, root="europe")
    p = fed.sync("C", peer="A")
    assert "conflicts=0" in p.stdout and "pulled=1" in p.stdout, p.stdout
    [cur] = one(fed, "C", v1["id"])
    assert cur["modified"] == v2["modified"]
    [k] = conflicts(fed, "C")
    assert (k["object_id"], k["reason"], k["action"], k["other"]["source_peer"]) == \
        (v1["id"], "other-creator", "rejected", "H")


# ---- item 6: a signature block under a look-alike key ------------------------

def test_signature_block_under_a_differently_cased_key_is_refused(fed):
    fed.node("A")
    b = fed.node("B")
    fed.link("A", "B")
    ind = indicator(TLP_GREEN, value="10.17.6.1")
    fed.post("A", [ind])
    [signed] = one(fed, "A", ind["id"])
    moved = json.loads(json.dumps(signed))
    block = moved["extensions"].pop(SIG_EXT)
    moved["extensions"][SIG_EXT.upper().replace("EXTENSION-DEFINITION", "extension-definition")] \
        = block
    b.org("P", "partner")
    tok = b.token("P")
    b.grant("P", fed.coll["B"], True, True)
    st = b.post(fed.coll["B"], [moved], token=tok, root="europe").json()
    assert st["failure_count"] == 1 and "another case" in st["failures"][0]["message"], st
    assert one(fed, "B", ind["id"]) == []
