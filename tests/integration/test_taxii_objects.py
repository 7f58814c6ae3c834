"""TAXII 2.1 collection content: add objects, status, objects, object,
manifest, versions, delete, filters and paging (TAXII 2.1 §3.4-§3.7, §4.3,
§5.3-§5.8)."""
import json
import threading
import uuid

from node import (STIX, TAXII, as_sent, TAXII_TS_RE, UUID_RE, assert_taxii_error,  # noqa
                  indicator)
from pgcluster import node_on_both_stores  # noqa: F401 (fixture `node`: SQLite and PostgreSQL)


def coll_paths(cid, root="api1"):
    base = f"/{root}/collections/{cid}/"
    return base + "objects/", base + "manifest/"


def test_post_returns_complete_status_and_stores(node):
    cid = node.collection()
    objs = [indicator() for _ in range(3)]
    r = node.post(cid, objs)
    assert r.status_code == 202 and r.headers["Content-Type"] == TAXII
    st = r.json()
    assert UUID_RE.fullmatch(st["id"])
    assert st["status"] == "complete"
    assert (st["total_count"], st["success_count"], st["failure_count"], st["pending_count"]) \
        == (3, 3, 0, 0)
    assert TAXII_TS_RE.match(st["request_timestamp"])
    assert {(s["id"], s["version"]) for s in st["successes"]} == \
        {(o["id"], o["modified"]) for o in objs}
    assert "failures" not in st and "pendings" not in st
    # the status stays readable, identical
    again = node.get(f"/api1/status/{st['id']}/")
    assert again.status_code == 200 and again.json() == st
    got = node.get(coll_paths(cid)[0]).json()["objects"]
    assert [o["id"] for o in got] == [o["id"] for o in objs]
    # stored as sent, except the node's signature on objects created here
    # (docs/design.md §6), which lives in an extension of its own
    assert [unsigned(g, o) for g, o in zip(got, objs)] == objs


def unsigned(got, sent):
    return as_sent(got, sent)


def test_exact_duplicate_is_success(node):
    cid = node.collection()
    o = indicator()
    node.post_ok(cid, [o])
    st = node.post_ok(cid, [o, o])
    assert st["success_count"] == 2
    assert len(node.get(coll_paths(cid)[0]).json()["objects"]) == 1


def test_invalid_objects_reported_valid_ones_stored(node):
    cid = node.collection()
    good = indicator()
    bad = indicator()
    del bad["pattern"]
    not_obj = 42
    r = node.post(cid, [good, bad, not_obj])
    assert r.status_code == 202
    st = r.json()
    assert (st["total_count"], st["success_count"], st["failure_count"]) == (3, 1, 2)
    fails = {f["id"]: f for f in st["failures"]}
    assert bad["id"] in fails
    assert "pattern" in fails[bad["id"]]["message"]
    assert fails[bad["id"]]["version"] == bad["modified"]
    assert any("not a JSON object" in f["message"] for f in st["failures"])
    ids = [o["id"] for o in node.get(coll_paths(cid)[0]).json()["objects"]]
    assert ids == [good["id"]]


def test_stix_20_object_is_a_failure(node):
    cid = node.collection()
    o = indicator()
    o["spec_version"] = "2.0"
    st = node.post(cid, [o]).json()
    assert st["failure_count"] == 1


def test_post_body_errors(node):
    cid = node.collection()
    path = coll_paths(cid)[0]
    e = assert_taxii_error(node.post(cid, b"{not json"), 422)  # "a malformed body" (§5.5)
    assert "offset" in e["description"]
    assert_taxii_error(node.post(cid, json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                                  "objects": [indicator()]})), 422)
    assert_taxii_error(node.post(cid, json.dumps(indicator())), 422)
    assert_taxii_error(node.post(cid, b"[]"), 422)
    assert_taxii_error(node.post(cid, b'{"objects": []}'), 422)
    assert_taxii_error(node.post(cid, b'{"objects": {}}'), 422)
    # content type (T25): version-less taxii is fine, others are 415
    body = json.dumps({"objects": [indicator()]})
    r = node.req("POST", path, data=body, headers={"Content-Type": "application/taxii+json"})
    assert r.status_code == 202
    for ct in ["application/json", STIX, "application/taxii+json;version=2.0", None]:
        r = node.req("POST", path, data=body, headers={"Content-Type": ct})
        assert_taxii_error(r, 415)
    assert_taxii_error(node.post(cid, [indicator()], headers={"Accept": "application/json"}), 406)
    assert node.get(path).json().get("objects") is not None


def test_status_is_private_to_the_poster(node):
    node.org("otherorg", "constituent")
    tok = node.token("otherorg")
    cid = node.collection(grants=(("own", True, True), ("otherorg", True, True)))
    st = node.post_ok(cid, [indicator()])
    assert_taxii_error(node.get(f"/api1/status/{st['id']}/", token=tok), 404)
    node.collection("api2")
    assert_taxii_error(node.get(f"/api2/status/{st['id']}/"), 404)


def test_objects_envelope_and_headers(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    r = node.get(objects)
    assert r.status_code == 200 and r.json() == {}
    objs = [indicator() for _ in range(5)]
    node.post_ok(cid, objs)
    r = node.get(objects)
    env = r.json()
    assert env["more"] is False and "next" not in env
    assert len(env["objects"]) == 5
    first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
    assert TAXII_TS_RE.match(first) and TAXII_TS_RE.match(last) and first < last
    m = node.get(manifest)
    recs = m.json()["objects"]
    assert [x["id"] for x in recs] == [o["id"] for o in objs]
    for rec, o in zip(recs, objs):
        assert TAXII_TS_RE.match(rec["date_added"])
        assert rec["version"] == o["modified"]
        assert rec["media_type"] == STIX
    assert recs[0]["date_added"] == m.headers["X-TAXII-Date-Added-First"]
    assert recs[-1]["date_added"] == m.headers["X-TAXII-Date-Added-Last"]
    dates = [x["date_added"] for x in recs]
    assert dates == sorted(dates) and len(set(dates)) == 5


def test_paging_never_skips_or_repeats(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    objs = [indicator() for _ in range(57)]
    for i in range(0, 57, 19):
        node.post_ok(cid, objs[i:i + 19])
    for limit in (1, 7, 56, 57, 100):
        got, pages = node.page_all(objects, limit=limit)
        assert [o["id"] for o in got] == [o["id"] for o in objs], limit
        assert pages == max(1, -(-57 // limit)), limit
        recs, _ = node.page_all(manifest, limit=limit)
        assert [x["id"] for x in recs] == [o["id"] for o in objs]


def test_paging_while_writers_add(node):
    """Objects added during paging come at the end; none is skipped or
    repeated, and paging terminates."""
    cid = node.collection()
    objects = coll_paths(cid)[0]
    first = [indicator() for _ in range(30)]
    node.post_ok(cid, first)
    later = [indicator() for _ in range(30)]
    stop = threading.Event()

    def writer():
        for o in later:
            if stop.is_set():
                return
            node.post_ok(cid, [o])

    t = threading.Thread(target=writer)
    t.start()
    try:
        got, _ = node.page_all(objects, limit=4)
    finally:
        t.join(timeout=60)
        stop.set()
    ids = [o["id"] for o in got]
    assert len(ids) == len(set(ids))
    assert ids[:30] == [o["id"] for o in first]
    assert set(ids[30:]) <= {o["id"] for o in later}


def test_limit_and_next_validation(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    node.post_ok(cid, [indicator() for _ in range(3)])
    for q in ["limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=1&limit=2",
              "added_after=yesterday", "added_after=2026-13-01T00:00:00Z",
              "added_after=2026-01-01T00:00:00Z&added_after=2026-01-01T00:00:00Z",
              "match[version]=bogus", "match[version]=all,first", "match[version]=last,last",
              "match[type]=indicator&match[type]=malware", "match[type]=", "match[type]=a,,b",
              "match[type]=bad type", "match[id]=nodashes", "match[spec_version]=two",
              "match[spec_version]=2.1&match[spec_version]=2.1", "next=bogus", "next=",
              "next=" + "A" * 66]:
        for path in (objects, manifest):
            r = node.get(path + "?" + q)
            e = assert_taxii_error(r, 400)
            assert "description" in e, q
    # a value echoed up to 64 bytes, cut inside a character: the 400 still
    # says what is wrong (it had no description: JSON takes no broken UTF-8)
    for key, val in (("match[version]", "a" * 63 + "\u00e9"), ("match[id]", "x--" + "y" * 60 + "\u00e9z"),
                     ("match[type]", "\u20ac" * 30)):
        e = assert_taxii_error(node.get(objects, params={key: val}), 400)
        assert key in e.get("description", ""), (key, e)


def test_limit_caps_and_more(node):
    cid = node.collection()
    objects = coll_paths(cid)[0]
    node.post_ok(cid, [indicator() for _ in range(3)])
    r = node.get(objects, params={"limit": "2"}).json()
    assert len(r["objects"]) == 2 and r["more"] is True and r["next"]
    r = node.get(objects, params={"limit": "3"}).json()
    assert len(r["objects"]) == 3 and r["more"] is False
    r = node.get(objects, params={"limit": str(2**53 - 1)}).json()
    assert len(r["objects"]) == 3


def test_next_is_bound_to_filters(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    node.post_ok(cid, [indicator() for _ in range(4)])
    nxt = node.get(objects, params={"limit": "1"}).json()["next"]
    assert node.get(objects, params={"limit": "1", "next": nxt}).status_code == 200
    assert node.get(objects, params={"limit": "2", "next": nxt}).status_code == 200
    assert_taxii_error(node.get(objects, params={"next": nxt, "match[type]": "indicator"}), 400)
    assert_taxii_error(node.get(manifest, params={"next": nxt}), 400)
    other = node.collection()
    assert_taxii_error(node.get(coll_paths(other)[0], params={"next": nxt}), 400)
    flipped = nxt[:10] + ("A" if nxt[10] != "A" else "B") + nxt[11:]
    assert_taxii_error(node.get(objects, params={"next": flipped}), 400)


def test_added_after_is_exclusive(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    objs = [indicator() for _ in range(4)]
    node.post_ok(cid, objs)
    recs = node.get(manifest).json()["objects"]
    got = node.get(objects, params={"added_after": recs[1]["date_added"]}).json()["objects"]
    assert [o["id"] for o in got] == [o["id"] for o in objs[2:]]
    # any RFC 3339 UTC form is accepted (TAXII 2.1 §3.4)
    got = node.get(objects, params={"added_after": "2000-01-01T00:00:00Z"}).json()["objects"]
    assert len(got) == 4
    assert node.get(objects, params={"added_after": recs[3]["date_added"]}).json() == {}


def test_match_filters(node):
    cid = node.collection()
    objects, manifest = coll_paths(cid)
    ind = [indicator() for _ in range(3)]
    mal = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "name": "x", "is_family": False}
    node.post_ok(cid, ind + [mal])
    got = node.get(objects, params={"match[type]": "malware"}).json()["objects"]
    assert [o["id"] for o in got] == [mal["id"]]
    got = node.get(objects, params={"match[type]": "malware,indicator"}).json()["objects"]
    assert len(got) == 4
    assert node.get(objects, params={"match[type]": "attack-pattern"}).json() == {}
    got = node.get(objects, params={"match[id]": f"{ind[0]['id']},{ind[2]['id']}"}).json()
    assert [o["id"] for o in got["objects"]] == [ind[0]["id"], ind[2]["id"]]
    got = node.get(objects, params={"match[id]": ind[0]["id"], "match[type]": "malware"})
    assert got.json() == {}
    got = node.get(objects, params={"match[spec_version]": "2.1"}).json()["objects"]
    assert len(got) == 4
    assert node.get(objects, params={"match[spec_version]": "2.0"}).json() == {}


def versions_fixture(node):
    cid = node.collection()
    oid = f"indicator--{uuid.uuid4()}"
    vs = ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.123Z"]
    for v in vs:
        node.post_ok(cid, [indicator(ident=oid, created=vs[0], modified=v)])
    return cid, oid, vs


def test_versions_and_match_version(node):
    cid, oid, vs = versions_fixture(node)
    objects, manifest = coll_paths(cid)
    one = f"/api1/collections/{cid}/objects/{oid}/"
    got = node.get(objects).json()["objects"]
    assert [o["modified"] for o in got] == [vs[2]]  # last by default
    assert [o["modified"] for o in node.get(objects, params={"match[version]": "first"})
            .json()["objects"]] == [vs[0]]
    assert [o["modified"] for o in node.get(objects, params={"match[version]": "all"})
            .json()["objects"]] == vs
    got = node.get(objects, params={"match[version]": f"{vs[1]},{vs[0]}"}).json()["objects"]
    assert sorted(o["modified"] for o in got) == vs[:2]
    # a timestamp matches by value, whatever its precision
    got = node.get(objects, params={"match[version]": "2026-02-01T00:00:00Z"}).json()
    assert [o["modified"] for o in got["objects"]] == [vs[1]]
    assert [o["modified"] for o in node.get(one).json()["objects"]] == [vs[2]]
    r = node.get(one, params={"match[version]": "all"})
    assert [o["modified"] for o in r.json()["objects"]] == vs
    assert TAXII_TS_RE.match(r.headers["X-TAXII-Date-Added-First"])
    v = node.get(one + "versions/")
    assert v.status_code == 200 and v.headers["Content-Type"] == TAXII
    assert v.json()["versions"] == vs and v.json()["more"] is False
    assert TAXII_TS_RE.match(v.headers["X-TAXII-Date-Added-Last"])
    allv, pages = node.page_all(one + "versions/", limit=1)
    assert allv == vs and pages == 3
    m = node.get(manifest, params={"match[version]": "all"}).json()["objects"]
    assert [x["version"] for x in m] == vs


def test_object_and_versions_404(node):
    cid = node.collection()
    missing = f"indicator--{uuid.uuid4()}"
    assert_taxii_error(node.get(f"/api1/collections/{cid}/objects/{missing}/"), 404)
    assert_taxii_error(node.get(f"/api1/collections/{cid}/objects/{missing}/versions/"), 404)


def test_delete_removes_object(node):
    cid, oid, vs = versions_fixture(node)
    objects, manifest = coll_paths(cid)
    one = f"/api1/collections/{cid}/objects/{oid}/"
    r = node.req("DELETE", one, params={"match[version]": vs[0]})
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII and r.content == b""
    assert node.get(one + "versions/").json()["versions"] == vs[1:]
    assert_taxii_error(node.get(one, params={"match[version]": vs[0]}), 404)
    r = node.req("DELETE", one)
    assert r.status_code == 200
    assert_taxii_error(node.get(one), 404)
    assert node.get(objects).json() == {}
    assert node.get(manifest).json() == {}
    assert_taxii_error(node.req("DELETE", one), 404)
    assert_taxii_error(node.req("DELETE", one, params={"match[version]": "nope"}), 400)


def test_delete_permission_table(node):
    """T38: read/write false/false 404, true/false 403, false/true 403;
    read+write deletes only what the org wrote here. (Until session 9 a
    read+write org deleted any object it could read, the own org's and
    other partners' included: "d_rw" deleting the own org's object was 200
    here. STIX 2.1 §3.6: what an org did not create is not its to withdraw;
    it now gets the 404 of an absent object.)"""
    for org, read, write, want in [("d_none", False, False, 404), ("d_ro", True, False, 403),
                                   ("d_wo", False, True, 403), ("d_rw", True, True, 404)]:
        node.org(org, "constituent")
        tok = node.token(org)
        grants = [("own", True, True)]
        if read or write:
            grants.append((org, read, write))
        cid = node.collection(grants=grants)
        o = indicator()
        node.post_ok(cid, [o])
        r = node.req("DELETE", f"/api1/collections/{cid}/objects/{o['id']}/", token=tok)
        assert r.status_code == want, (org, r.text)
        assert r.headers["Content-Type"] == TAXII
        if want == 404:
            # the own org's object is still there, and answered like a ghost
            assert node.get(f"/api1/collections/{cid}/objects/{o['id']}/").status_code == 200
            ghost = node.req("DELETE", f"/api1/collections/{cid}/objects/{indicator()['id']}/",
                             token=tok)
            assert (ghost.status_code, ghost.json()) == (r.status_code, r.json())


def test_delete_only_what_the_org_wrote(node):
    """A read+write partner or constituent deletes the objects it wrote
    here, not the own org's nor another partner's (404, as for an absent
    object); the own org deletes anything."""
    for org, rel in (("dw_c", "constituent"), ("dw_p", "partner"), ("dw_q", "partner")):
        node.org(org, rel)
    toks = {org: node.token(org) for org in ("dw_c", "dw_p", "dw_q")}
    cid = node.collection(grants=[("own", True, True)] +
                          [(org, True, True) for org in toks])
    path = f"/api1/collections/{cid}/objects/"
    own, objs = indicator(), {org: indicator() for org in toks}
    node.post_ok(cid, [own])
    for org, o in objs.items():
        node.post_ok(cid, [o], token=toks[org])
    for org, tok in toks.items():
        assert_taxii_error(node.req("DELETE", path + own["id"] + "/", token=tok), 404)
        for other, o in objs.items():
            if other != org:
                assert_taxii_error(node.req("DELETE", path + o["id"] + "/", token=tok), 404)
                assert node.get(path + o["id"] + "/", token=toks[other]).status_code == 200
    assert node.get(path + own["id"] + "/").status_code == 200
    # each its own
    r = node.req("DELETE", path + objs["dw_p"]["id"] + "/", token=toks["dw_p"])
    assert r.status_code == 200, r.text
    assert_taxii_error(node.get(path + objs["dw_p"]["id"] + "/"), 404)
    r = node.req("DELETE", path + objs["dw_c"]["id"] + "/", token=toks["dw_c"])
    assert r.status_code == 200, r.text
    # the own org: anyone's
    assert node.req("DELETE", path + objs["dw_q"]["id"] + "/").status_code == 200
    assert node.req("DELETE", path + own["id"] + "/").status_code == 200
    assert node.get(path).json() == {}


def test_read_write_permissions(node):
    """T37: no read -> 403/404 on the read endpoints, no write -> 403 on
    add objects."""
    node.org("p_ro", "constituent")
    node.org("p_wo", "constituent")
    ro, wo = node.token("p_ro"), node.token("p_wo")
    cid = node.collection(grants=(("own", True, True), ("p_ro", True, False),
                                  ("p_wo", False, True)))
    o = indicator()
    node.post_ok(cid, [o])
    objects, manifest = coll_paths(cid)
    for path in (objects, manifest, f"{objects}{o['id']}/", f"{objects}{o['id']}/versions/"):
        assert_taxii_error(node.get(path, token=wo), 403)
        assert node.get(path, token=ro).status_code == 200
    assert_taxii_error(node.post(cid, [indicator()], token=ro), 403)
    assert node.post(cid, [indicator()], token=wo).status_code == 202


def test_unknown_collection_is_404(node):
    node.collection()
    for path in ["/api1/collections/11111111-1111-4111-8111-111111111111/objects/",
                 "/api1/collections/11111111-1111-4111-8111-111111111111/manifest/",
                 "/nosuch/collections/11111111-1111-4111-8111-111111111111/objects/"]:
        assert_taxii_error(node.get(path), 404)
    assert_taxii_error(node.post("11111111-1111-4111-8111-111111111111", [indicator()]), 404)
