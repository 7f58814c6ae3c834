"""Leak tests: a requester without a grant, or below an object's TLP, must
never learn of it through any endpoint, filter, paging token, count, header
or error message (docs/design.md §5, TAXII 2.1 §8.2.2 and App. B)."""
import uuid

import pytest

from node import (TLP_AMBER, TLP_AMBER_STRICT, TLP_CLEAR, TLP_GREEN, TLP_RED,  # noqa: F401
                  assert_taxii_error, indicator)
from pgcluster import node_on_both_stores  # noqa: F401 (fixture `node`: SQLite and PostgreSQL)


@pytest.fixture(scope="module")
def world(node):
    """One collection with objects at every TLP level, written by the own
    org (local), plus one AMBER object written by a partner (not local)."""
    node.org("l_partner", "partner")
    node.org("l_partner_w", "partner")
    node.org("l_cons", "constituent")
    node.org("l_nogrant", "partner")
    toks = {"own": node.admin_token}
    for org in ("l_partner", "l_partner_w", "l_cons", "l_nogrant"):
        toks[org] = node.token(org)
    cid = node.collection(grants=(("own", True, True), ("l_partner", True, False),
                                  ("l_partner_w", True, True), ("l_cons", True, False)))
    objs = {
        "clear": indicator(TLP_CLEAR),
        "green": indicator(TLP_GREEN),
        "red": indicator(TLP_RED),
        "amber": indicator(TLP_AMBER),
        "strict": indicator(TLP_AMBER_STRICT),
        "nomark": indicator(),  # the collection default: GREEN
    }
    order = ["clear", "red", "green", "amber", "strict", "nomark"]
    for k in order:
        node.post_ok(cid, [objs[k]])
    objs["p_amber"] = indicator(TLP_AMBER)
    node.post_ok(cid, [objs["p_amber"]], token=toks["l_partner_w"])
    objs["red_last"] = indicator(TLP_RED)
    node.post_ok(cid, [objs["red_last"]])
    order += ["p_amber", "red_last"]
    return {"cid": cid, "toks": toks, "objs": objs, "order": order}


# What each reader may see (docs/design.md §5 and policy.h's table).
VISIBLE = {
    "own": {"clear", "green", "red", "amber", "strict", "nomark", "p_amber", "red_last"},
    "l_cons": {"clear", "green", "amber", "nomark", "p_amber"},
    "l_partner": {"clear", "green", "amber", "strict", "nomark"},
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_tlp_filter_on_every_endpoint(node, world, who):
    cid, tok, objs = world["cid"], world["toks"][who], world["objs"]
    want = [objs[k]["id"] for k in world["order"] if k in VISIBLE[who]]
    hidden = [objs[k]["id"] for k in world["order"] if k not in VISIBLE[who]]
    base = f"/api1/collections/{cid}/"
    # objects and manifest, whole and paged one by one: exactly the visible
    # rows, in order, and the last page says more=false even when hidden
    # rows follow it.
    for path in ("objects/", "manifest/"):
        r = node.get(base + path, token=tok)
        assert [o["id"] for o in r.json()["objects"]] == want
        for limit in (1, 2, 3):
            got, pages = node.page_all(base + path, token=tok, limit=limit)
            assert [o["id"] for o in got] == want
            assert pages == -(-len(want) // limit)
    # filters do not let a hidden object through, counts included
    for hid in hidden:
        assert node.get(base + "objects/", token=tok, params={"match[id]": hid}).json() == {}
        assert node.get(base + "manifest/", token=tok, params={"match[id]": hid}).json() == {}
        e1 = assert_taxii_error(node.get(base + f"objects/{hid}/", token=tok), 404)
        e2 = assert_taxii_error(node.get(base + f"objects/{hid}/versions/", token=tok), 404)
        # the same answer as for an id that never existed
        ghost = f"indicator--{uuid.uuid4()}"
        assert e1 == assert_taxii_error(node.get(base + f"objects/{ghost}/", token=tok), 404)
        assert e2 == assert_taxii_error(node.get(base + f"objects/{ghost}/versions/",
                                                 token=tok), 404)
        assert node.get(base + "objects/", token=tok,
                        params={"match[id]": hid, "match[version]": "all"}).json() == {}
    for vis in want:
        r = node.get(base + f"objects/{vis}/", token=tok)
        assert r.status_code == 200 and r.json()["objects"][0]["id"] == vis
    # the date-added headers come from visible rows only
    r = node.get(base + "manifest/", token=tok)
    recs = r.json()["objects"]
    assert r.headers["X-TAXII-Date-Added-First"] == recs[0]["date_added"]
    assert r.headers["X-TAXII-Date-Added-Last"] == recs[-1]["date_added"]


def test_no_grant_means_no_collection(node, world):
    cid, tok = world["cid"], world["toks"]["l_nogrant"]
    assert node.get("/api1/collections/", token=tok).json().get("collections", []) == [] or \
        cid not in [c["id"] for c in node.get("/api1/collections/", token=tok).json()
                    ["collections"]]
    ghost = str(uuid.uuid4())
    oid = world["objs"]["clear"]["id"]
    for suffix in ["", "objects/", "manifest/", f"objects/{oid}/", f"objects/{oid}/versions/"]:
        real = node.get(f"/api1/collections/{cid}/{suffix}", token=tok)
        fake = node.get(f"/api1/collections/{ghost}/{suffix}", token=tok)
        assert assert_taxii_error(real, 404) == assert_taxii_error(fake, 404)
        assert cid not in real.text
    real = node.post(cid, [indicator()], token=tok)
    fake = node.post(ghost, [indicator()], token=tok)
    assert assert_taxii_error(real, 404) == assert_taxii_error(fake, 404)
    real = node.req("DELETE", f"/api1/collections/{cid}/objects/{oid}/", token=tok)
    assert_taxii_error(real, 404)
    # and a 406 or 415 never confirms the collection either
    r = node.get(f"/api1/collections/{cid}/objects/", token=tok, accept="text/html")
    assert_taxii_error(r, 404)


def test_next_token_of_another_requester_is_rejected(node, world):
    cid = world["cid"]
    path = f"/api1/collections/{cid}/objects/"
    body = node.get(path, token=world["toks"]["l_partner"], params={"limit": "1"}).json()
    nxt = body["next"]
    for other in ("l_cons", "own"):
        r = node.get(path, token=world["toks"][other], params={"limit": "1", "next": nxt})
        e = assert_taxii_error(r, 400)
        assert "indicator--" not in r.text and e["title"]
    # another token of the same org is another requester too
    tok2 = node.token("l_partner")
    assert_taxii_error(node.get(path, token=tok2, params={"next": nxt}), 400)


def test_delete_cannot_touch_invisible_objects(node, world):
    cid, tok = world["cid"], world["toks"]["l_partner_w"]
    red = world["objs"]["red"]["id"]
    r = node.req("DELETE", f"/api1/collections/{cid}/objects/{red}/", token=tok)
    assert_taxii_error(r, 404)
    assert node.get(f"/api1/collections/{cid}/objects/{red}/").status_code == 200


def test_duplicate_of_invisible_object_reads_like_new(node, world):
    cid, tok = world["cid"], world["toks"]["l_partner_w"]
    red = dict(world["objs"]["red"])
    fresh = indicator(TLP_RED)
    a = node.post(cid, [red], token=tok).json()
    b = node.post(cid, [fresh], token=tok).json()
    for st in (a, b):
        assert (st["success_count"], st["failure_count"]) == (1, 0)
        assert set(st["successes"][0]) == {"id", "version"}
    # reading back: both the same (200, the poster's own bytes); what the
    # partner gets for the collision is its own copy, never the own org's
    # RED row (its date_added is not the hidden row's)
    base = f"/api1/collections/{cid}/"
    for o in (red, fresh):
        r = node.get(base + f"objects/{o['id']}/", token=tok)
        assert r.status_code == 200 and r.json()["objects"] == [o]
    mine = node.get(base + "manifest/", token=tok, params={"match[id]": red["id"]}).json()
    own = node.get(base + "manifest/", params={"match[id]": red["id"]}).json()
    assert [x["date_added"] for x in mine["objects"]] != [x["date_added"] for x in own["objects"]]


def test_versions_hide_invisible_versions(node, world):
    """An object whose marking changed from GREEN to RED: a partner sees the
    GREEN version in versions/, and never the RED one."""
    cid = node.collection(grants=(("own", True, True), ("l_partner", True, False)))
    oid = f"indicator--{uuid.uuid4()}"
    v1 = indicator(TLP_GREEN, ident=oid, modified="2026-01-01T00:00:00.000Z")
    v2 = indicator(TLP_RED, ident=oid, modified="2026-02-01T00:00:00.000Z")
    node.post_ok(cid, [v1, v2])
    tok = world["toks"]["l_partner"]
    base = f"/api1/collections/{cid}/objects/{oid}/"
    assert node.get(base + "versions/", token=tok).json()["versions"] == [v1["modified"]]
    got = node.get(base, token=tok, params={"match[version]": "all"}).json()["objects"]
    assert [o["modified"] for o in got] == [v1["modified"]]
    assert node.get(base + "versions/").json()["versions"] == [v1["modified"], v2["modified"]]


def test_public_collection_anonymous_reads_clear_only(node):
    p = node.cli("collection", "create", "--data", node.data, "--api-root", "pub", "--title",
                 "public", "--public")
    cid = p.stdout.strip()
    clear, green = indicator(TLP_CLEAR), indicator(TLP_GREEN)
    node.post_ok(cid, [clear, green], root="pub")
    base = f"/pub/collections/{cid}/"
    r = node.get(base + "objects/", token=None)
    assert r.status_code == 200
    assert [o["id"] for o in r.json()["objects"]] == [clear["id"]]
    assert_taxii_error(node.get(base + f"objects/{green['id']}/", token=None), 404)
    assert_taxii_error(node.post(cid, [indicator(TLP_CLEAR)], token=None, root="pub"), 401)
    assert_taxii_error(node.get("/pub/collections/", token=None), 401)
    assert_taxii_error(node.get("/pub/", token=None), 401)
    # a private collection stays 401 for anonymous callers, like a missing one
    priv = node.collection("pub")
    assert_taxii_error(node.get(f"/pub/collections/{priv}/objects/", token=None), 401)
    assert_taxii_error(node.get(f"/pub/collections/{uuid.uuid4()}/objects/", token=None), 401)
