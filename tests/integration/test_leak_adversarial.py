"""Adversarial leak tests: a hostile partner (or an org with no grant)
attacks Meridian's access control through the real interfaces only (a
real `meridian serve` on 127.0.0.1, the real CLI, real HTTP). The rule under
attack (docs/design.md §5, issue 3): a requester without a grant, or below an
object's TLP level, must never learn of the object by any endpoint, filter,
paging token, count, header or error message.

Each test is one attack; a test fails when the attack learns something.
Attacks that still succeed and need a larger fix are xfail(strict=True)
with the reason, so the day they are fixed the suite says so.
"""
import base64
import json
import uuid

import pytest
import requests

from node import (TLP_AMBER, TLP_AMBER_STRICT, TLP_CLEAR, TLP_GREEN, TLP_RED,  # noqa: F401
                  assert_taxii_error, indicator, node)

TLP1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
UNKNOWN_MARKING = "marking-definition--0b6e2c9e-7a47-4a55-9b8e-3c1f0e0b9d11"

HIDDEN_TITLE = "Operation Nightjar (secret)"


@pytest.fixture(scope="module")
def w(node):
    """The world under attack. Collection `secret` (api1, alias `nightjar`)
    holds objects at every level written by the own org, and grants:
    x_p (partner, read+write), x_pr (partner, read only), x_pw (partner,
    write only), x_c (constituent, read). x_ng (partner) has no grant at
    all; x_other (partner) has read on a collection in another API root
    (community) only."""
    for org, rel in (("x_p", "partner"), ("x_pr", "partner"), ("x_pw", "partner"),
                     ("x_c", "constituent"), ("x_ng", "partner"), ("x_other", "partner")):
        node.org(org, rel)
    toks = {"own": node.admin_token}
    for org in ("x_p", "x_pr", "x_pw", "x_c", "x_ng", "x_other"):
        toks[org] = node.token(org)
    cid = node.collection(title=HIDDEN_TITLE, alias="nightjar",
                          grants=(("own", True, True), ("x_p", True, True),
                                  ("x_pr", True, False), ("x_pw", False, True),
                                  ("x_c", True, False)))
    other = node.collection(root="asia", title="asia feed",
                            grants=(("own", True, True), ("x_other", True, True)))
    objs = {
        "clear": indicator(TLP_CLEAR, value="10.9.0.1"),
        "green": indicator(TLP_GREEN, value="10.9.0.2"),
        "amber": indicator(TLP_AMBER, value="10.9.0.3"),
        "red": indicator(TLP_RED, value="10.9.0.4"),
        "red1": indicator(TLP1_RED, value="10.9.0.5"),
        "granular_red": indicator(TLP_CLEAR, value="10.9.0.6", granular_markings=[
            {"marking_ref": TLP_RED, "selectors": ["pattern"]}]),
        "mixed": indicator(value="10.9.0.7", object_marking_refs=[TLP1_WHITE, TLP_RED]),
        "red_tail": indicator(TLP_RED, value="10.9.0.8"),
    }
    order = list(objs)
    for k in order:
        node.post_ok(cid, [objs[k]])
    # targets for the tests that post under a hidden id (they change what
    # is visible of that id, so each has its own)
    for k in ("t_dup", "t_same", "t_old", "t_newer"):
        objs[k] = indicator(TLP_RED, value="10.9.0.9")
        node.post_ok(cid, [objs[k]])
    return {"cid": cid, "other": other, "toks": toks, "objs": objs, "order": order}


HIDDEN_FROM_PARTNER = ("red", "red1", "granular_red", "mixed", "red_tail")


def base(w):
    return f"/api1/collections/{w['cid']}/"


def ghost_id():
    return f"indicator--{uuid.uuid4()}"


def same_error(a, b, status):
    """Two answers an attacker cannot tell apart: status, headers that
    matter, and the body byte for byte."""
    ea = assert_taxii_error(a, status)
    eb = assert_taxii_error(b, status)
    assert ea == eb, (ea, eb)
    assert a.content == b.content
    for h in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last", "WWW-Authenticate"):
        assert a.headers.get(h) == b.headers.get(h), h


# ---- collections: existence, title, can_read/can_write ---------------------

def test_ungranted_org_never_sees_collection(node, w):
    tok = w["toks"]["x_ng"]
    r = node.get("/api1/collections/", token=tok)
    # no grant in api1 at all: the root itself does not exist for x_ng
    same_error(r, node.get("/nosuchroot/collections/", token=tok), 404)
    assert w["cid"] not in r.text and HIDDEN_TITLE not in r.text and "nightjar" not in r.text
    for ident, fake in ((w["cid"], str(uuid.uuid4())), ("nightjar", "nosuchalias")):
        same_error(node.get(f"/api1/collections/{ident}/", token=tok),
                   node.get(f"/api1/collections/{fake}/", token=tok), 404)
        r = node.get(f"/api1/collections/{ident}/", token=tok)
        assert HIDDEN_TITLE not in r.text and w["cid"] not in r.text
    # HEAD, a method the path does not take, and a bad Accept: still 404
    for method in ("HEAD", "PUT", "PATCH"):
        a = node.req(method, base(w), token=tok)
        b = node.req(method, f"/api1/collections/{uuid.uuid4()}/", token=tok)
        assert a.status_code == b.status_code, (method, a.status_code, b.status_code)
        assert a.headers.get("Allow") == b.headers.get("Allow")
        assert a.content == b.content
    a = node.get(base(w) + "manifest/", token=tok, accept="text/plain")
    b = node.get(f"/api1/collections/{uuid.uuid4()}/manifest/", token=tok, accept="text/plain")
    same_error(a, b, 404)


def test_collection_in_another_community_is_invisible(node, w):
    """A partner of API root `asia` learns nothing about api1's collection,
    not even through its own root's paths."""
    tok = w["toks"]["x_other"]
    assert w["cid"] not in node.get("/api1/collections/", token=tok).text
    same_error(node.get(f"/asia/collections/{w['cid']}/objects/", token=tok),
               node.get(f"/asia/collections/{uuid.uuid4()}/objects/", token=tok), 404)
    same_error(node.get(f"/api1/collections/{w['cid']}/objects/", token=tok),
               node.get(f"/api1/collections/{uuid.uuid4()}/objects/", token=tok), 404)


def test_api_root_without_access_does_not_exist(node, w):
    """An API root in which the requester has no grant on any collection
    (and no public collection) is not listed by discovery, and its
    information and collections endpoints answer like a root that does
    not exist."""
    node.collection(root="hidroot", title="hidden community")
    assert "/hidroot/" in node.get("/taxii2/").json()["api_roots"]
    assert node.get("/hidroot/").status_code == 200
    for who in ("x_ng", "x_other", "x_p"):
        tok = w["toks"][who]
        d = node.get("/taxii2/", token=tok)
        assert d.status_code == 200
        assert "/hidroot/" not in d.json().get("api_roots", []), who
        assert "hidroot" not in d.text
        for suffix in ("", "collections/"):
            same_error(node.get(f"/hidroot/{suffix}", token=tok),
                       node.get(f"/nosuchroot/{suffix}", token=tok), 404)
    # a grant, read or write, on one collection of a root makes it exist
    assert "/asia/" in node.get("/taxii2/", token=w["toks"]["x_other"]).json()["api_roots"]
    assert "/api1/" not in node.get("/taxii2/", token=w["toks"]["x_other"]).json().get(
        "api_roots", [])
    assert "/api1/" in node.get("/taxii2/", token=w["toks"]["x_pw"]).json()["api_roots"]
    assert node.get("/api1/", token=w["toks"]["x_pw"]).status_code == 200
    same_error(node.get("/api1/", token=w["toks"]["x_other"]),
               node.get("/nosuchroot/", token=w["toks"]["x_other"]), 404)


def test_write_only_org_learns_no_rows(node, w):
    tok = w["toks"]["x_pw"]
    r = node.get(base(w), token=tok)
    assert r.status_code == 200
    assert (r.json()["can_read"], r.json()["can_write"]) == (False, True)
    oid = w["objs"]["clear"]["id"]
    for suffix in ("objects/", "manifest/", f"objects/{oid}/", f"objects/{oid}/versions/"):
        a = node.get(base(w) + suffix, token=tok)
        assert_taxii_error(a, 403)
        assert "indicator--" not in a.text
        assert "X-TAXII-Date-Added-First" not in a.headers
    # an existing and a missing object answer the same
    same_error(node.get(base(w) + f"objects/{oid}/", token=tok),
               node.get(base(w) + f"objects/{ghost_id()}/", token=tok), 403)


def test_grant_flags_are_the_requesters_own(node, w):
    for who, rw in (("x_p", (True, True)), ("x_pr", (True, False)), ("x_c", (True, False))):
        c = node.get(base(w), token=w["toks"][who]).json()
        assert (c["can_read"], c["can_write"]) == rw, who
        lst = node.get("/api1/collections/", token=w["toks"][who]).json()["collections"]
        assert [x for x in lst if x["id"] == w["cid"]][0]["can_write"] is rw[1]


# ---- rows: ids, filters, paging, headers ------------------------------------

@pytest.mark.parametrize("key", HIDDEN_FROM_PARTNER)
def test_hidden_marking_variants_invisible(node, w, key):
    """TLP 2.0 RED, TLP 1.0 RED, a granular RED marking on a CLEAR object,
    and WHITE+RED together: all RED for a partner, on every endpoint."""
    tok, oid = w["toks"]["x_p"], w["objs"][key]["id"]
    for suffix in (f"objects/{oid}/", f"objects/{oid}/versions/"):
        same_error(node.get(base(w) + suffix, token=tok),
                   node.get(base(w) + suffix.replace(oid, ghost_id()), token=tok), 404)
    for path in ("objects/", "manifest/"):
        for ver in ("all", "first", "last", w["objs"][key]["modified"]):
            r = node.get(base(w) + path, token=tok,
                         params={"match[id]": oid, "match[version]": ver})
            assert r.status_code == 200 and r.json() == {}, (path, ver, r.text)
            assert "X-TAXII-Date-Added-First" not in r.headers
        r = node.get(base(w) + path, token=tok)
        assert oid not in r.text
    assert node.get(base(w) + f"objects/{oid}/", token=w["toks"]["own"]).status_code == 200


def test_match_type_of_hidden_only_type(node, w):
    """match[type] of a type that only RED objects have: `{}` and no
    headers, the same as a type nobody posted."""
    mal = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "name": "nightjar loader", "is_family": False, "object_marking_refs": [TLP_RED]}
    node.post_ok(w["cid"], [mal])
    tok = w["toks"]["x_p"]
    for path in ("objects/", "manifest/"):
        a = node.get(base(w) + path, token=tok, params={"match[type]": "malware"})
        b = node.get(base(w) + path, token=tok, params={"match[type]": "tool"})
        assert a.status_code == b.status_code == 200
        assert a.content == b.content == b"{}"
        assert "X-TAXII-Date-Added-Last" not in a.headers
    assert "malware" in node.get(base(w) + "objects/", params={"match[type]": "malware"}).text


def test_added_after_probing_reveals_no_hidden_date(node, w):
    """The own org sees a RED row at the end; a partner asking for
    everything added after the last row it can see gets `{}` with no date
    headers, and its last page's headers are its own rows' dates."""
    own_recs = node.get(base(w) + "manifest/").json()["objects"]
    tok = w["toks"]["x_p"]
    mine = node.get(base(w) + "manifest/", token=tok)
    recs = mine.json()["objects"]
    hidden_dates = {r["date_added"] for r in own_recs} - {r["date_added"] for r in recs}
    assert hidden_dates
    assert mine.headers["X-TAXII-Date-Added-Last"] == recs[-1]["date_added"]
    for d in hidden_dates:
        assert d not in mine.text and d not in json.dumps(dict(mine.headers))
    r = node.get(base(w) + "manifest/", token=tok,
                 params={"added_after": recs[-1]["date_added"]})
    assert r.status_code == 200 and r.json() == {}
    assert "X-TAXII-Date-Added-First" not in r.headers
    assert "X-TAXII-Date-Added-Last" not in r.headers
    # probing each hidden date_added one microsecond before: still only
    # visible rows, and the headers never carry the hidden value
    for d in sorted(hidden_dates):
        r = node.get(base(w) + "objects/", token=tok, params={"added_after": d})
        for o in r.json().get("objects", []):
            assert o["id"] not in {w["objs"][k]["id"] for k in HIDDEN_FROM_PARTNER}
        assert r.headers.get("X-TAXII-Date-Added-First") not in hidden_dates
        assert r.headers.get("X-TAXII-Date-Added-Last") not in hidden_dates


def test_more_is_false_when_only_hidden_rows_follow(node, w):
    """limit=1 paging up to the last visible row: more=false and no next,
    although RED rows follow it."""
    tok = w["toks"]["x_p"]
    for path in ("objects/", "manifest/"):
        recs = node.get(base(w) + "manifest/", token=tok).json()["objects"]
        r = node.get(base(w) + path, token=tok,
                     params={"limit": "1", "added_after": recs[-2]["date_added"]})
        body = r.json()
        assert body["more"] is False and "next" not in body, body
        assert len(body["objects"]) == 1


# ---- next tokens -------------------------------------------------------------

def _next(node, w, who="x_p", path="objects/", params=None):
    p = {"limit": "1"}
    p.update(params or {})
    body = node.get(base(w) + path, token=w["toks"][who], params=p).json()
    assert body["more"] is True
    return body["next"]


def _bad_next(node, path, tok, params):
    r = node.get(path, token=tok, params=params)
    assert_taxii_error(r, 400)
    assert "indicator--" not in r.text
    return r


def test_next_token_abuse(node, w):
    nxt = _next(node, w)
    tok = w["toks"]["x_p"]
    # another org, the own org included (who could see more): 400
    for other in ("x_pr", "x_c", "own"):
        _bad_next(node, base(w) + "objects/", w["toks"][other], {"limit": "1", "next": nxt})
    # every single-byte alteration: 400, never a page
    for i in range(0, len(nxt), max(1, len(nxt) // 24)):
        ch = "A" if nxt[i] != "A" else "B"
        _bad_next(node, base(w) + "objects/", tok,
                  {"limit": "1", "next": nxt[:i] + ch + nxt[i + 1:]})
    # truncated, extended, empty-ish
    for bad in (nxt[:-1], nxt + "A", nxt[: len(nxt) // 2], "x"):
        _bad_next(node, base(w) + "objects/", tok, {"limit": "1", "next": bad})
    # another endpoint, another collection, other filters
    _bad_next(node, base(w) + "manifest/", tok, {"limit": "1", "next": nxt})
    other = node.collection(grants=(("own", True, True), ("x_p", True, True)))
    node.post_ok(other, [indicator(TLP_CLEAR), indicator(TLP_CLEAR)])
    _bad_next(node, f"/api1/collections/{other}/objects/", tok, {"limit": "1", "next": nxt})
    for extra in ({"match[type]": "indicator"}, {"match[version]": "all"},
                  {"added_after": "2000-01-01T00:00:00Z"}, {"match[id]": ghost_id()},
                  {"match[spec_version]": "2.1"}, {"match[spec_version]": "2.0"}):
        _bad_next(node, base(w) + "objects/", tok, dict({"limit": "1", "next": nxt}, **extra))
    # the genuine token still works for its owner
    r = node.get(base(w) + "objects/", token=tok, params={"limit": "1", "next": nxt})
    assert r.status_code == 200 and r.json()["objects"]


def test_next_token_after_revocation(node, w):
    node.org("x_rev", "partner")
    node.grant("x_rev", w["cid"], True, False)
    p = node.cli("token", "create", "--data", node.data, "--org", "x_rev", "--name", "x_rev_t")
    tok = p.stdout.strip()
    body = node.get(base(w) + "objects/", token=tok, params={"limit": "1"}).json()
    nxt = body["next"]
    node.cli("token", "revoke", "--data", node.data, "x_rev_t")
    r = node.get(base(w) + "objects/", token=tok, params={"limit": "1", "next": nxt})
    assert_taxii_error(r, 401)
    assert "indicator--" not in r.text
    # a new token of the same org cannot pick the cursor up either
    tok2 = node.token("x_rev")
    _bad_next(node, base(w) + "objects/", tok2, {"limit": "1", "next": nxt})


def test_next_token_content_reveals_nothing(node, w):
    """A next token is opaque: decoding it shows no object id, no
    collection id and no TLP level."""
    nxt = _next(node, w)
    raw = nxt.encode()
    for dec in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            raw += dec(nxt + "=" * (-len(nxt) % 4))
        except Exception:
            pass
    for k in w["objs"]:
        assert w["objs"][k]["id"].split("--")[1].encode() not in raw
    assert w["cid"].encode() not in raw


# ---- status resources --------------------------------------------------------

def test_status_of_someone_elses_post(node, w):
    st = node.post_ok(w["cid"], [indicator(TLP_RED, value="10.9.1.1")])
    sid = st["id"]
    for who in ("x_p", "x_pr", "x_c", "x_ng", "x_other"):
        same_error(node.get(f"/api1/status/{sid}/", token=w["toks"][who]),
                   node.get(f"/api1/status/{uuid.uuid4()}/", token=w["toks"][who]), 404)
    # and through another API root, even for the poster's own org
    assert_taxii_error(node.get(f"/asia/status/{sid}/"), 404)
    assert node.get(f"/api1/status/{sid}/").status_code == 200


def test_status_of_failed_post_names_only_what_was_posted(node, w):
    """A partner posting an invalid object with a hidden object's id gets a
    failure message about its own bytes, never about the stored one."""
    red = w["objs"]["red"]
    bad = dict(red)
    bad["pattern"] = "not a pattern"
    bad.pop("object_marking_refs")
    r = node.post(w["cid"], [bad], token=w["toks"]["x_p"])
    st = r.json()
    assert st["failure_count"] == 1
    msg = json.dumps(st)
    assert "10.9.0.4" not in msg and "red" not in msg.lower().replace("required", "")


# ---- POST tricks -------------------------------------------------------------

def test_post_duplicate_of_hidden_reports_like_new(node, w):
    tok = w["toks"]["x_p"]
    a = node.post(w["cid"], [w["objs"]["t_dup"]], token=tok)
    b = node.post(w["cid"], [indicator(TLP_RED)], token=tok)
    sa, sb = a.json(), b.json()
    assert a.status_code == b.status_code == 202
    for k in ("total_count", "success_count", "failure_count", "pending_count", "status"):
        assert sa[k] == sb[k], k
    assert set(sa["successes"][0]) == set(sb["successes"][0]) == {"id", "version"}
    # the hidden row did not become readable by being re-posted: the
    # partner reads back its own copy (docs/taxii.md, re-posting a version),
    # never the hidden row's date_added
    oid = w["objs"]["t_dup"]["id"]
    r = node.get(base(w) + f"objects/{oid}/", token=tok)
    assert r.status_code == 200 and r.json()["objects"] == [w["objs"]["t_dup"]]
    mine = node.get(base(w) + "manifest/", token=tok, params={"match[id]": oid}).json()
    own = node.get(base(w) + "manifest/", params={"match[id]": oid}).json()
    assert len(mine["objects"]) == len(own["objects"]) == 1
    assert mine["objects"][0]["date_added"] > own["objects"][0]["date_added"]


def test_post_same_version_as_hidden_then_read_back(node, w):
    tok = w["toks"]["x_p"]
    red = w["objs"]["t_same"]
    mine = dict(red, name="partner's copy")
    mine["object_marking_refs"] = [TLP_CLEAR]
    node.post_ok(w["cid"], [mine], token=tok)
    fresh = indicator(TLP_CLEAR, value="10.9.2.2")
    node.post_ok(w["cid"], [fresh], token=tok)
    assert node.get(base(w) + f"objects/{fresh['id']}/", token=tok).status_code == 200
    # the same answer for the collision as for the fresh object
    assert node.get(base(w) + f"objects/{red['id']}/", token=tok).status_code == 200


def test_post_old_version_under_hidden_id_then_read_back(node, w):
    tok = w["toks"]["x_p"]
    red = w["objs"]["t_old"]  # modified 2026-01-01
    old = indicator(TLP_CLEAR, ident=red["id"], created="2020-01-01T00:00:00.000Z",
                    value="10.9.3.3")
    node.post_ok(w["cid"], [old], token=tok)
    free = indicator(TLP_CLEAR, created="2020-01-01T00:00:00.000Z", value="10.9.3.4")
    node.post_ok(w["cid"], [free], token=tok)
    a = node.get(base(w) + f"objects/{red['id']}/", token=tok)
    b = node.get(base(w) + f"objects/{free['id']}/", token=tok)
    assert a.status_code == b.status_code == 200, (a.status_code, b.status_code)


def test_default_last_does_not_betray_a_newer_hidden_version(node, w):
    oid = f"indicator--{uuid.uuid4()}"
    v1 = indicator(TLP_GREEN, ident=oid, value="10.9.9.1")
    v2 = indicator(TLP_RED, ident=oid, modified="2026-02-01T00:00:00.000Z", value="10.9.9.2")
    lone = indicator(TLP_GREEN, value="10.9.9.3")
    node.post_ok(w["cid"], [v1, v2, lone])
    tok = w["toks"]["x_p"]
    assert node.get(base(w) + f"objects/{oid}/versions/", token=tok).json()["versions"] == \
        [v1["modified"]]
    a = node.get(base(w) + f"objects/{oid}/", token=tok)
    b = node.get(base(w) + f"objects/{lone['id']}/", token=tok)
    assert a.status_code == b.status_code == 200, (a.status_code, b.status_code)


def test_newer_version_with_clear_marking_does_not_expose_hidden_body(node, w):
    """A partner posts a newer version of an own RED object marked CLEAR:
    only the partner's own bytes become readable; the RED version's body
    and version stay hidden from everyone but its readers."""
    red = dict(w["objs"]["t_newer"])
    tok = w["toks"]["x_p"]
    newer = indicator(TLP_CLEAR, ident=red["id"], created=red["created"],
                      modified="2026-06-01T00:00:00.000Z", value="10.9.4.4")
    node.post_ok(w["cid"], [newer], token=tok)
    for who in ("x_p", "x_pr", "x_c"):
        t = w["toks"][who]
        for params in ({}, {"match[version]": "all"}, {"match[version]": "first"}):
            r = node.get(base(w) + f"objects/{red['id']}/", token=t, params=params)
            assert "10.9.0.9" not in r.text, (who, params)
            assert [o["modified"] for o in r.json().get("objects", [])] in \
                ([newer["modified"]], []), (who, params)
        v = node.get(base(w) + f"objects/{red['id']}/versions/", token=t).json()
        assert v["versions"] == [newer["modified"]], (who, v)
    # the own org still has the RED version
    v = node.get(base(w) + f"objects/{red['id']}/versions/").json()["versions"]
    assert red["modified"] in v


def test_uppercase_tlp_id_is_not_a_downgrade(node, w):
    """A RED marking id spelt in upper case must not become the GREEN
    default: either the validator refuses the object or it is RED."""
    o = indicator(value="10.9.5.5", object_marking_refs=[TLP_RED.upper().replace(
        "MARKING-DEFINITION", "marking-definition")])
    r = node.post(w["cid"], [o])
    assert r.status_code == 202
    st = r.json()
    if st["success_count"] == 1:
        assert node.get(base(w) + f"objects/{o['id']}/", token=w["toks"]["x_p"]).status_code \
            == 404


def test_unknown_marking_falls_back_to_default_not_clear(node):
    """An object with only a non-TLP marking is the collection default
    (GREEN), so anonymous readers of a public collection never get it."""
    p = node.cli("collection", "create", "--data", node.data, "--api-root", "pubx",
                 "--title", "public x", "--public")
    cid = p.stdout.strip()
    o = indicator(value="10.9.6.6", object_marking_refs=[UNKNOWN_MARKING])
    both = indicator(value="10.9.6.7", object_marking_refs=[TLP_CLEAR, UNKNOWN_MARKING])
    gran = indicator(TLP_CLEAR, value="10.9.6.8", granular_markings=[
        {"marking_ref": TLP_AMBER, "selectors": ["name"]}])
    node.post_ok(cid, [o, both, gran], root="pubx")
    r = node.get(f"/pubx/collections/{cid}/objects/", token=None)
    assert [x["id"] for x in r.json()["objects"]] == [both["id"]]
    for hid in (o["id"], gran["id"]):
        same_error(node.get(f"/pubx/collections/{cid}/objects/{hid}/", token=None),
                   node.get(f"/pubx/collections/{cid}/objects/{ghost_id()}/", token=None), 404)


# ---- DELETE -------------------------------------------------------------------

def test_delete_answers_do_not_confirm_existence(node, w):
    red = w["objs"]["red"]["id"]
    clear = w["objs"]["clear"]["id"]
    # read+write partner: hidden and ghost are the same 404, hidden survives
    tok = w["toks"]["x_p"]
    same_error(node.req("DELETE", base(w) + f"objects/{red}/", token=tok),
               node.req("DELETE", base(w) + f"objects/{ghost_id()}/", token=tok), 404)
    same_error(node.req("DELETE", base(w) + f"objects/{red}/", token=tok,
                        params={"match[version]": w["objs"]["red"]["modified"]}),
               node.req("DELETE", base(w) + f"objects/{ghost_id()}/", token=tok,
                        params={"match[version]": w["objs"]["red"]["modified"]}), 404)
    # read-only and write-only: 403 for visible, hidden and ghost alike
    for who in ("x_pr", "x_pw"):
        t = w["toks"][who]
        answers = [node.req("DELETE", base(w) + f"objects/{x}/", token=t)
                   for x in (clear, red, ghost_id())]
        for a in answers[1:]:
            same_error(answers[0], a, 403)
    # no grant: 404, as for a collection that does not exist
    t = w["toks"]["x_ng"]
    same_error(node.req("DELETE", base(w) + f"objects/{red}/", token=t),
               node.req("DELETE", f"/api1/collections/{uuid.uuid4()}/objects/{red}/", token=t),
               404)
    assert node.get(base(w) + f"objects/{red}/").status_code == 200


# ---- authentication edge cases ------------------------------------------------

def test_auth_edge_cases(node, w):
    tok = w["toks"]["x_p"]
    path = base(w) + "objects/"
    url = node.url + path
    ok = requests.get(url, headers={"Accept": "application/taxii+json;version=2.1",
                                    "Authorization": f"Bearer {tok}"}, timeout=10)
    assert ok.status_code == 200
    prefix = tok[:12]
    variants = {
        "swapcase": f"Bearer {tok.swapcase()}",
        "upper": f"Bearer {tok.upper()}",
        "prefix": f"Bearer {prefix}",
        "truncated": f"Bearer {tok[:-1]}",
        "extended": f"Bearer {tok}A",
        "basic-empty-pw": "Basic " + base64.b64encode(f"{tok}:".encode()).decode(),
        "basic-token-as-user": "Basic " + base64.b64encode(f"{tok}:x".encode()).decode(),
        "basic-no-colon": "Basic " + base64.b64encode(tok.encode()).decode(),
        "basic-empty": "Basic ",
        "bearer-empty": "Bearer ",
        "long": "Bearer " + "A" * 20000,
        "long-after": f"Bearer {tok}" + "A" * 20000,
        "nul": f"Bearer {tok[:10]}%00{tok[10:]}",
        "double": f"Bearer {tok} Bearer {tok}",
        "other-scheme": f"Token {tok}",
    }
    answers = {}
    for name, h in variants.items():
        r = requests.get(url, headers={"Accept": "application/taxii+json;version=2.1",
                                       "Authorization": h}, timeout=10)
        answers[name] = r
        assert r.status_code in (400, 401, 431), (name, r.status_code, r.text[:200])
        assert "indicator--" not in r.text, name
        assert w["cid"] not in r.text, name
    # an unauthenticated caller cannot tell a real collection from a fake one
    r1 = node.get(path, token=None)
    r2 = node.get(f"/api1/collections/{uuid.uuid4()}/objects/", token=None)
    same_error(r1, r2, 401)
    # revoked token: 401 at once, on every endpoint
    node.org("x_rv2", "partner")
    node.grant("x_rv2", w["cid"], True, True)
    p = node.cli("token", "create", "--data", node.data, "--org", "x_rv2", "--name", "rv2")
    t2 = p.stdout.strip()
    assert node.get(path, token=t2).status_code == 200
    node.cli("token", "revoke", "--data", node.data, "rv2")
    for suffix in ("", "objects/", "manifest/"):
        same_error(node.get(base(w) + suffix, token=t2),
                   node.get(f"/api1/collections/{uuid.uuid4()}/{suffix}", token=t2), 401)
    assert_taxii_error(node.post(w["cid"], [indicator()], token=t2), 401)
    # the server still answers the rightful owner
    assert node.get(path, token=tok).status_code == 200


# ---- CLI export ------------------------------------------------------------------

def _export(node, w, *extra):
    p = node.cli("export", "--data", node.data, "--collection", w["cid"], *extra)
    return p


def test_export_as_org_is_policy_filtered(node, w):
    hidden = {w["objs"][k]["id"] for k in HIDDEN_FROM_PARTNER}
    for fmt in ("stix", "csv"):
        for latest in ((), ("--latest",)):
            p = _export(node, w, "--as-org", "x_p", "--format", fmt, *latest)
            for hid in hidden:
                assert hid not in p.stdout, (fmt, latest, hid)
            assert "10.9.0.4" not in p.stdout
            assert w["objs"]["clear"]["id"] in p.stdout
            # no grant: nothing but the empty bundle / header
            p = _export(node, w, "--as-org", "x_ng", "--format", fmt, *latest)
            assert "indicator--" not in p.stdout, (fmt, latest)
            assert "10.9." not in p.stderr
    # the own org's export has them (the test can fail)
    assert w["objs"]["red"]["id"] in _export(node, w).stdout


# ---- the node's JSON API ------------------------------------------------------------

def api(node, path, token):
    return requests.get(node.url + path, headers={"Authorization": f"Bearer {token}"},
                        timeout=10)


def test_verification_api_hides_collection_and_rows(node, w):
    for who in ("x_ng", "x_other"):
        a = api(node, f"/api/v1/verification/{w['cid']}/", w["toks"][who])
        b = api(node, f"/api/v1/verification/{uuid.uuid4()}/", w["toks"][who])
        assert a.status_code == b.status_code == 404
        assert a.content == b.content
    r = api(node, f"/api/v1/verification/{w['cid']}/", w["toks"]["x_p"])
    assert r.status_code == 200
    for k in HIDDEN_FROM_PARTNER:
        assert w["objs"][k]["id"] not in r.text
    assert w["objs"]["clear"]["id"] in r.text


def _sighting(ind_id, tlp, count=5):
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
            "sighting_of_ref": ind_id, "count": count, "object_marking_refs": [tlp]}


def test_sightings_rollup_counts_only_readable_sightings(node, w):
    red_ind = w["objs"]["red"]["id"]
    green_ind = w["objs"]["green"]["id"]
    node.post_ok(w["cid"], [_sighting(red_ind, TLP_RED, 7), _sighting(green_ind, TLP_RED, 3),
                            _sighting(green_ind, TLP_GREEN, 2)])
    # a sighting in the asia collection the api1 partners cannot read
    node.post_ok(w["other"], [_sighting(green_ind, TLP_CLEAR, 11)], root="asia")
    tok = w["toks"]["x_p"]
    a = api(node, f"/api/v1/sightings/{red_ind}", tok)
    b = api(node, f"/api/v1/sightings/{ghost_id()}", tok)
    assert a.status_code == b.status_code == 200
    ja, jb = a.json(), b.json()
    ja.pop("indicator"), jb.pop("indicator")
    assert ja == jb, (ja, jb)
    g = api(node, f"/api/v1/sightings/{green_ind}", tok).json()
    assert (g["count"], g["sightings"]) == (2, 1), g
    lst = api(node, "/api/v1/sightings/", tok).json()["indicators"]
    assert red_ind not in json.dumps(lst)
    assert [e["count"] for e in lst if e["indicator"] == green_ind] == [2]
    # no grant at all: nothing
    lst = api(node, "/api/v1/sightings/", w["toks"]["x_ng"]).json()["indicators"]
    assert lst == []
    # the own org sees the full counts (the test can fail)
    own = api(node, f"/api/v1/sightings/{green_ind}", node.admin_token).json()
    assert own["count"] == 16, own


def test_api_errors_name_nothing_hidden(node, w):
    tok = w["toks"]["x_ng"]
    for path in (f"/api/v1/verification/{w['cid']}/", f"/api/v1/verification/{w['cid']}",
                 f"/api/v1/sightings/{w['objs']['red']['id']}", "/api/v1/peers/",
                 f"/api/v1/nosuch/{w['cid']}/"):
        r = api(node, path, tok)
        assert w["cid"] not in r.text and HIDDEN_TITLE not in r.text, path
        assert "10.9.0.4" not in r.text
    r = api(node, "/api/v1/peers/", w["toks"]["x_p"])
    assert r.status_code in (403, 404), r.status_code


# ---- more TAXII attacks -------------------------------------------------------------

def test_red_by_partner_is_its_own_only(node, w):
    """A partner's RED post: it reads it back; other partners, the
    constituent and even the own org do not (the relation gives nothing),
    and created_by_ref naming someone else changes nothing."""
    ident = f"identity--{uuid.uuid4()}"
    o = indicator(TLP_RED, value="10.9.7.7", created_by_ref=ident)
    node.post_ok(w["cid"], [o], token=w["toks"]["x_p"])
    assert node.get(base(w) + f"objects/{o['id']}/", token=w["toks"]["x_p"]).status_code == 200
    for who in ("x_pr", "x_c", "own"):
        same_error(node.get(base(w) + f"objects/{o['id']}/", token=w["toks"][who]),
                   node.get(base(w) + f"objects/{ghost_id()}/", token=w["toks"][who]), 404)


def test_amber_by_partner_is_not_one_hop(node, w):
    """AMBER written by a partner (TAXII POST or import --as-org) is not
    created on this node: other partners never read it."""
    a = indicator(TLP_AMBER, value="10.9.8.1")
    node.post_ok(w["cid"], [a], token=w["toks"]["x_p"])
    b = indicator(TLP_AMBER_STRICT, value="10.9.8.2")
    f = node.data / "imp.json"
    f.write_text(json.dumps({"objects": [b]}))
    node.cli("import", "--data", node.data, "--collection", w["cid"], "--as-org", "x_p", f)
    for oid in (a["id"], b["id"]):
        same_error(node.get(base(w) + f"objects/{oid}/", token=w["toks"]["x_pr"]),
                   node.get(base(w) + f"objects/{ghost_id()}/", token=w["toks"]["x_pr"]), 404)
        p = node.cli("export", "--data", node.data, "--collection", w["cid"], "--as-org", "x_pr")
        assert oid not in p.stdout


def test_match_id_list_mixing_hidden_and_visible(node, w):
    tok = w["toks"]["x_p"]
    vis = w["objs"]["clear"]["id"]
    ids = [w["objs"][k]["id"] for k in HIDDEN_FROM_PARTNER] + [vis]
    for path in ("objects/", "manifest/"):
        r = node.get(base(w) + path, token=tok, params={"match[id]": ",".join(ids),
                                                        "limit": "1"})
        body = r.json()
        assert [o["id"] for o in body["objects"]] == [vis]
        assert body["more"] is False and "next" not in body
        assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"]


def test_grant_withdrawn_mid_paging(node, w):
    node.org("x_wd", "partner")
    node.grant("x_wd", w["cid"], True, False)
    tok = node.token("x_wd")
    nxt = node.get(base(w) + "objects/", token=tok, params={"limit": "1"}).json()["next"]
    node.grant("x_wd", w["cid"], False, False)
    same_error(node.get(base(w) + "objects/", token=tok, params={"limit": "1", "next": nxt}),
               node.get(f"/api1/collections/{uuid.uuid4()}/objects/", token=tok,
                        params={"limit": "1", "next": nxt}), 404)


def test_odd_spellings_of_a_hidden_id(node, w):
    """Upper case, percent-encoding and a trailing junk segment: never the
    hidden object, and the same answer as for a ghost."""
    tok = w["toks"]["x_p"]
    oid = w["objs"]["red"]["id"]
    g = ghost_id()
    for f in (str.upper, lambda s: s.replace("--", "%2D%2D"), lambda s: s + "%2F",
              lambda s: s + "/versions/.."):
        a = node.get(base(w) + f"objects/{f(oid)}/", token=tok)
        b = node.get(base(w) + f"objects/{f(g)}/", token=tok)
        assert a.status_code == b.status_code and a.status_code in (400, 404), a.status_code
        assert "10.9.0.4" not in a.text
        assert a.text.replace(f(oid), "X").replace(oid, "X") == \
            b.text.replace(f(g), "X").replace(g, "X")


def test_head_and_content_length_match_visible_rows(node, w):
    tok = w["toks"]["x_p"]
    for path in ("objects/", "manifest/"):
        g = node.get(base(w) + path, token=tok)
        h = node.req("HEAD", base(w) + path, token=tok)
        assert h.status_code == 200
        assert int(h.headers["Content-Length"]) == len(g.content)
    oid = w["objs"]["red"]["id"]
    a = node.req("HEAD", base(w) + f"objects/{oid}/", token=tok)
    b = node.req("HEAD", base(w) + f"objects/{ghost_id()}/", token=tok)
    assert a.status_code == b.status_code == 404
    assert a.headers.get("Content-Length") == b.headers.get("Content-Length")


# ---- federation -------------------------------------------------------------------

@pytest.fixture
def fed(meridian_bin, tmp_path):
    from test_fed_propagation import Fed
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def _all_versions_ids(fed, name):
    n = fed.nodes[name]
    items, _ = n.page_all(n.objects_path(fed.coll[name], n.root),
                          params={"match[version]": "all"})
    return [o["id"] for o in items]


def test_fed_nothing_hidden_travels(fed):
    """A <- B <- C by pull, and B -> C by push. At A: AMBER written by a
    partner of A (not one hop), granular RED, upper-case RED, TLP 1.0 RED,
    a GREEN object whose newer version is RED, AMBER+STRICT created at A.
    B may receive only CLEAR, GREEN (v1 at most), and A's own AMBER+STRICT;
    C only what B may forward: CLEAR and GREEN of the community."""
    for name in "ABC":
        fed.node(name)
    fed.link("A", "B", "pull")
    fed.link("B", "C", "pull")
    fed.link("C", "B", "push")
    a = fed.nodes["A"]
    a.org("a_partner", "partner")
    ptok = a.token("a_partner")
    a.grant("a_partner", fed.coll["A"], True, True)
    p_amber = indicator(TLP_AMBER, value="10.8.0.1")
    a.post_ok(fed.coll["A"], [p_amber], token=ptok, root="europe")
    gran = indicator(TLP_CLEAR, value="10.8.0.2", granular_markings=[
        {"marking_ref": TLP_RED, "selectors": ["name"]}])
    upper = indicator(value="10.8.0.3", object_marking_refs=[
        "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"])
    red1 = indicator(TLP1_RED, value="10.8.0.4")
    oid = f"indicator--{uuid.uuid4()}"
    v1 = indicator(TLP_GREEN, ident=oid, value="10.8.0.5")
    v2 = indicator(TLP_RED, ident=oid, modified="2026-05-01T00:00:00.000Z", value="10.8.0.6")
    strict = indicator(TLP_AMBER_STRICT, value="10.8.0.7")
    clear = indicator(TLP_CLEAR, value="10.8.0.8")
    fed.post("A", [gran, upper, red1, v1, v2, strict, clear])
    fed.sync("B")
    at_b = fed.nodes["B"].get(fed.nodes["B"].objects_path(fed.coll["B"], "europe"),
                              params={"match[version]": "all"}).text
    for o in (p_amber, gran, upper, red1, v2):
        assert o["pattern"] not in at_b, o["pattern"]
    assert clear["pattern"] in at_b and strict["pattern"] in at_b
    fed.sync("C")
    fed.sync("B", peer="C")
    at_c = fed.nodes["C"].get(fed.nodes["C"].objects_path(fed.coll["C"], "europe"),
                              params={"match[version]": "all"}).text
    for o in (p_amber, gran, upper, red1, v2, strict):
        assert o["pattern"] not in at_c, o["pattern"]
    assert clear["pattern"] in at_c


def test_fed_red_for_a_named_recipient_goes_no_further(fed, tmp_path):
    """RED imported at A for recipient B: B's pull may fetch it (B is a
    named recipient), but neither C's pull from B nor B's push to C
    carries it on."""
    for name in "ABC":
        fed.node(name)
    fed.link("A", "B", "pull")
    fed.link("B", "C", "pull")
    fed.link("C", "B", "push")
    a = fed.nodes["A"]
    red = indicator(TLP_RED, value="10.8.1.1")
    f = tmp_path / "red.json"
    f.write_text(json.dumps({"objects": [red]}))
    a.cli("import", "--data", a.data, "--collection", fed.coll["A"], "--recipient", "B", f)
    fed.sync("B")
    fed.sync("C")
    fed.sync("B", peer="C")
    c = fed.nodes["C"]
    r = c.get(c.objects_path(fed.coll["C"], "europe"), params={"match[version]": "all"})
    assert red["id"] not in r.text
    # export at B as C's org: nothing either
    b = fed.nodes["B"]
    p = b.cli("export", "--data", b.data, "--collection", fed.coll["B"], "--as-org", "C")
    assert red["id"] not in p.stdout


def test_fed_amber_by_default_travels_one_hop_only(fed):
    for name in "ABC":
        fed.node(name)
    a = fed.nodes["A"]
    p = a.cli("collection", "create", "--data", a.data, "--api-root", "europe", "--title",
              "A amber by default", "--default-tlp", "amber")
    fed.coll["A"] = p.stdout.strip()
    a.grant("own", fed.coll["A"], True, True)
    fed.link("A", "B", "pull")
    fed.link("B", "C", "pull")
    unmarked = indicator(value="10.8.2.1")  # AMBER at A by the collection default
    fed.post("A", [unmarked])
    fed.sync("B")
    fed.sync("C")
    # One hop: B has it, and A wrote the default into the signed object, so
    # B knows it is AMBER (policy.h: policy_tlp_needs_mark).
    b = fed.nodes["B"]
    r = b.get(b.objects_path(fed.coll["B"], "europe"), params={"match[version]": "all"})
    got = [o for o in r.json().get("objects", []) if o["id"] == unmarked["id"]]
    assert len(got) == 1, "AMBER must still go one hop"
    assert TLP_AMBER in got[0]["object_marking_refs"]
    c = fed.nodes["C"]
    r = c.get(c.objects_path(fed.coll["C"], "europe"), params={"match[version]": "all"})
    assert unmarked["id"] not in r.text


def test_sightings_rollup_never_names_a_hidden_identity(node, w):
    """A GREEN sighting whose creator identity is RED: the roll-up shows
    the reader the identity id it can already see, never the hidden
    identity's name."""
    ident = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "Nightjar Informant", "identity_class": "individual",
             "object_marking_refs": [TLP_RED]}
    ind = w["objs"]["clear"]["id"]
    s = _sighting(ind, TLP_GREEN, 4)
    s["created_by_ref"] = ident["id"]
    node.post_ok(w["cid"], [ident, s])
    tok = w["toks"]["x_p"]
    for path in (f"/api/v1/sightings/{ind}", "/api/v1/sightings/"):
        r = api(node, path, tok)
        assert r.status_code == 200
        assert "Nightjar Informant" not in r.text, path
    # the own org may read neither (RED, created by itself: yes it may)
    assert "Nightjar Informant" in api(node, f"/api/v1/sightings/{ind}", node.admin_token).text


def test_public_collection_next_token_is_bound_to_the_anonymous_reader(node):
    p = node.cli("collection", "create", "--data", node.data, "--api-root", "puby",
                 "--title", "public y", "--public")
    cid = p.stdout.strip()
    node.post_ok(cid, [indicator(TLP_CLEAR), indicator(TLP_CLEAR), indicator(TLP_RED)],
                 root="puby")
    path = f"/puby/collections/{cid}/objects/"
    body = node.get(path, token=None, params={"limit": "1"}).json()
    assert body["more"] is True
    node.org("x_anon2", "partner")
    tok = node.token("x_anon2")
    r = node.get(path, token=tok, params={"limit": "1", "next": body["next"]})
    assert_taxii_error(r, 400)
    # anonymous paging to the end: CLEAR only, more=false at the last CLEAR
    items, pages = node.page_all(path, token=None, limit=1)
    assert len(items) == 2 and pages == 2


def _raw_post(node, path, token, headers, body=b""):
    import socket
    host, port = node.addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        req = [f"POST {path} HTTP/1.1", f"Host: {node.addr}", f"Authorization: Bearer {token}",
               "Accept: application/taxii+json;version=2.1", "Connection: close"]
        req += [f"{k}: {v}" for k, v in headers.items()]
        s.sendall(("\r\n".join(req) + "\r\n\r\n").encode() + body)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data and len(data) > 4096:
                break
        return data
    finally:
        s.close()


def _status_and_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].split(b" ")[1], body


def test_post_limits_and_media_type_do_not_confirm_a_collection(node, w):
    """413 (announced body too large) and 415 (wrong Content-Type) sent by
    an org without a grant: the same answer for the real collection and a
    ghost, so neither check runs before the access check."""
    tok = w["toks"]["x_ng"]
    real = f"/api1/collections/{w['cid']}/objects/"
    fake = f"/api1/collections/{uuid.uuid4()}/objects/"
    for headers, body in (
            ({"Content-Type": "application/taxii+json;version=2.1",
              "Content-Length": str(200 * 1024 * 1024 * 1024)}, b""),
            ({"Content-Type": "text/plain", "Content-Length": "2"}, b"{}"),
            ({"Content-Type": "application/taxii+json;version=2.1",
              "Transfer-Encoding": "chunked"}, b"2\r\n{}\r\n0\r\n\r\n")):
        a = _status_and_body(_raw_post(node, real, tok, headers, body))
        b = _status_and_body(_raw_post(node, fake, tok, headers, body))
        assert a == b, (headers, a, b)
        assert a[0] in (b"404", b"413"), a


def _ipv4(value, tlp=None):
    ns = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 SCO namespace
    o = {"type": "ipv4-addr", "spec_version": "2.1",
         "id": f"ipv4-addr--{uuid.uuid5(ns, json.dumps({'value': value}))}", "value": value}
    if tlp:
        o["object_marking_refs"] = [tlp]
    return o


def test_status_version_of_a_duplicate_sco_reveals_nothing(node, w):
    """SCO ids are deterministic (UUIDv5 of the value), and an SCO's status
    version is its date_added. A partner posting the SCO of a value the own
    org holds as RED must not get back the hidden row's (old) date_added:
    its answer must look like the one for a value nobody posted."""
    import time
    hidden = _ipv4("203.0.113.66", TLP_RED)
    node.post_ok(w["cid"], [hidden])
    time.sleep(1.2)
    tok = w["toks"]["x_p"]
    probe = dict(_ipv4("203.0.113.66"))
    fresh = _ipv4(f"198.51.100.{uuid.uuid4().int % 250}")
    st = node.post_ok(w["cid"], [probe, fresh], token=tok)
    ver = {d["id"]: d["version"] for d in st["successes"]}
    hidden_date = node.get(base(w) + "manifest/",
                           params={"match[id]": hidden["id"]}).json()["objects"][0]["date_added"]
    assert ver[probe["id"]] != hidden_date, (ver, hidden_date)
    # a date of this request (the hidden row is over a second older)
    assert ver[probe["id"]] > hidden_date, (ver, hidden_date)
    assert ver[probe["id"]] <= st["request_timestamp"], (ver, st["request_timestamp"])
    # the own org's own duplicate still gets the true date_added
    own = node.post_ok(w["cid"], [hidden])
    man = node.get(base(w) + "manifest/", params={"match[id]": hidden["id"]}).json()
    assert own["successes"][0]["version"] == man["objects"][0]["version"]


def test_sco_read_back_oracle(node, w):
    hidden = _ipv4("203.0.113.77", TLP_RED)
    node.post_ok(w["cid"], [hidden])
    tok = w["toks"]["x_p"]
    probe, fresh = _ipv4("203.0.113.77"), _ipv4("203.0.113.78")
    node.post_ok(w["cid"], [probe, fresh], token=tok)
    a = node.get(base(w) + f"objects/{probe['id']}/", token=tok)
    b = node.get(base(w) + f"objects/{fresh['id']}/", token=tok)
    assert a.status_code == b.status_code == 200, (a.status_code, b.status_code)


def test_writer_copy_and_hidden_copy_are_one_object_to_each_reader(node, w):
    """After a partner's copy of an SCO the own org holds as RED: a reader
    of both copies (own) gets one object, one version, one manifest record:
    the original; readers of the partner's copy only get that copy; the
    partner's DELETE removes its copy and nothing else."""
    hidden = _ipv4("203.0.113.99", TLP_RED)
    node.post_ok(w["cid"], [hidden])
    copy = _ipv4("203.0.113.99", TLP_CLEAR)
    node.post_ok(w["cid"], [copy], token=w["toks"]["x_p"])
    oid = hidden["id"]

    def bare(objs):  # without the node's signature extension (own posts are signed)
        return [{k: v for k, v in o.items() if k != "extensions"} for o in objs]

    for who, want in (("own", hidden), ("x_p", copy), ("x_pr", copy), ("x_c", copy)):
        tok = w["toks"][who]
        objs = node.get(base(w) + f"objects/{oid}/", token=tok).json()["objects"]
        assert bare(objs) == [want], (who, objs)
        for ver in ("all", "first", "last"):
            got = node.get(base(w) + "objects/", token=tok,
                           params={"match[id]": oid, "match[version]": ver}).json()["objects"]
            assert bare(got) == [want], (who, ver, got)
        assert len(node.get(base(w) + f"objects/{oid}/versions/", token=tok)
                   .json()["versions"]) == 1, who
        man = node.get(base(w) + "manifest/", token=tok, params={"match[id]": oid}).json()
        assert len(man["objects"]) == 1, (who, man)
        listed = [o for o in node.get(base(w) + "objects/", token=tok,
                                      params={"match[type]": "ipv4-addr"}).json()["objects"]
                  if o["id"] == oid]
        assert bare(listed) == [want], (who, listed)
    r = node.req("DELETE", base(w) + f"objects/{oid}/", token=w["toks"]["x_p"])
    assert r.status_code == 200
    assert bare(node.get(base(w) + f"objects/{oid}/").json()["objects"]) == [hidden]
    same_error(node.get(base(w) + f"objects/{oid}/", token=w["toks"]["x_pr"]),
               node.get(base(w) + f"objects/{ghost_id()}/", token=w["toks"]["x_pr"]), 404)


def test_versions_next_token_is_bound_to_its_object(node, w):
    ids = []
    for n in range(2):
        oid = f"indicator--{uuid.uuid4()}"
        node.post_ok(w["cid"], [indicator(TLP_GREEN, ident=oid, value=f"10.9.10.{n}"),
                                indicator(TLP_GREEN, ident=oid, value=f"10.9.10.{n}",
                                          modified="2026-03-01T00:00:00.000Z"),
                                indicator(TLP_RED, ident=oid, value=f"10.9.11.{n}",
                                          modified="2026-04-01T00:00:00.000Z")])
        ids.append(oid)
    tok = w["toks"]["x_p"]
    body = node.get(base(w) + f"objects/{ids[0]}/versions/", token=tok,
                    params={"limit": "1"}).json()
    assert body["more"] is True
    _bad_next(node, base(w) + f"objects/{ids[1]}/versions/", tok,
              {"limit": "1", "next": body["next"]})
    _bad_next(node, base(w) + f"objects/{ids[0]}/", tok, {"limit": "1", "next": body["next"]})
    last = node.get(base(w) + f"objects/{ids[0]}/versions/", token=tok,
                    params={"limit": "1", "next": body["next"]})
    assert last.json() == {"more": False, "versions": ["2026-03-01T00:00:00.000Z"]}, last.text


def test_home_made_tlp_marking_definitions_are_refused(node, w):
    """A TLP marking-definition under a new id (TLP 1.0 style or the TLP
    2.0 extension) would be a non-TLP marking, i.e. the GREEN default, for
    objects its author meant as RED: the validator must refuse it."""
    md1 = {"type": "marking-definition", "spec_version": "2.1",
           "id": f"marking-definition--{uuid.uuid4()}", "created": "2026-01-01T00:00:00.000Z",
           "definition_type": "tlp", "name": "TLP:RED", "definition": {"tlp": "red"}}
    md2 = {"type": "marking-definition", "spec_version": "2.1",
           "id": f"marking-definition--{uuid.uuid4()}", "created": "2026-01-01T00:00:00.000Z",
           "name": "TLP:RED", "extensions": {
               "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                   "extension_type": "property-extension", "tlp_2_0": "red"}}}
    for md in (md1, md2):
        st = node.post(w["cid"], [md], token=w["toks"]["x_p"]).json()
        assert (st["success_count"], st["failure_count"]) == (0, 1), st
        assert "tlp" in st["failures"][0]["message"].lower()
