"""TAXII 2.1 transport, authentication, negotiation and the resources
outside collections (TAXII 2.1 §1.6, §2, §3.1-§3.2, §4, §5.1-§5.2)."""
import base64
import re

import requests

from node import TAXII, STIX, assert_taxii_error, wait_for
from pgcluster import node_on_both_stores  # noqa: F401 (fixture `node`: SQLite and PostgreSQL)


def test_discovery(node):
    r = node.get("/taxii2/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == TAXII
    d = r.json()
    assert isinstance(d["title"], str) and d["title"]
    node.collection("api1")
    d = node.get("/taxii2/").json()
    assert "/api1/" in d["api_roots"]
    assert d["default"] in d["api_roots"]
    for url in d["api_roots"]:
        assert url.startswith("/") and not url.startswith("//") and url.endswith("/")
        assert "?" not in url


def test_api_root(node):
    node.collection("api1")
    r = node.get("/api1/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    a = r.json()
    assert a["title"]
    assert TAXII in a["versions"]
    assert isinstance(a["max_content_length"], int) and a["max_content_length"] > 0
    assert_taxii_error(node.get("/nosuchroot/"), 404)


def test_unauthenticated_gets_401_with_challenge(node):
    cid = node.collection("api1")
    for path in ["/taxii2/", "/api1/", "/api1/collections/", f"/api1/collections/{cid}/",
                 f"/api1/collections/{cid}/objects/", f"/api1/collections/{cid}/manifest/",
                 "/nosuchroot/collections/x/objects/"]:
        r = node.get(path, token=None)
        assert_taxii_error(r, 401)
        challenge = r.headers["WWW-Authenticate"]
        assert "Basic" in challenge and "Bearer" in challenge


def test_bad_credentials_are_401(node):
    for auth in ["Bearer mrd_" + "A" * 43, "Bearer", "Basic !!!notbase64", "Digest x=1",
                 "Basic " + base64.b64encode(b"user:wrong").decode()]:
        r = requests.get(node.url + "/taxii2/", headers={"Accept": TAXII, "Authorization": auth},
                         timeout=10)
        assert_taxii_error(r, 401)


def test_basic_auth_with_token_as_password(node):
    for user in ["", "anyone", "x:y"]:
        r = requests.get(node.url + "/taxii2/", headers={"Accept": TAXII},
                         auth=(user, node.admin_token), timeout=10)
        assert r.status_code == 200, (user, r.text)


def test_revoked_token_is_401(node):
    node.org("revokee", "constituent")
    tok = node.token("revokee")
    assert node.get("/taxii2/", token=tok).status_code == 200
    node.cli("token", "revoke", tok[:12], "--data", node.data)
    assert_taxii_error(node.get("/taxii2/", token=tok), 401)


def test_accept_negotiation(node):
    cid = node.collection("api1")
    ok = [TAXII, "application/taxii+json", "application/taxii+json; version=2.1",
          'application/taxii+json;version="2.1"', "APPLICATION/TAXII+JSON;version=2.1",
          f"{TAXII},{STIX}", "application/json, */*", "*/*", "application/*",
          "text/html;q=0.9, application/taxii+json;q=0.5"]
    bad = [None, "application/json", "application/taxii+json;version=2.0", STIX, "text/html",
           "application/taxii+json;q=0"]
    for path in ["/taxii2/", "/api1/", "/api1/collections/", f"/api1/collections/{cid}/",
                 f"/api1/collections/{cid}/objects/", f"/api1/collections/{cid}/manifest/"]:
        for a in ok:
            r = node.get(path, accept=a)
            assert r.status_code == 200, (path, a, r.text)
            assert r.headers["Content-Type"] == TAXII
        for a in bad:
            assert_taxii_error(node.get(path, accept=a), 406)


def test_paths_must_end_with_slash_and_unknown_paths_404(node):
    cid = node.collection("api1")
    for path in ["/taxii2", "/api1", f"/api1/collections/{cid}", "//", "/taxii2/x/",
                 f"/api1/collections/{cid}/objects", f"/api1/collections/{cid}/bogus/",
                 "/api1/status/", "/api1/x/y/z/w/v/u/t/s/r/q/"]:
        assert_taxii_error(node.get(path), 404)
    # "/" is the analyst console's page (docs/console.md), not a TAXII resource
    r = node.get("/")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Meridian console" in r.text


def test_method_not_allowed(node):
    cid = node.collection("api1")
    r = node.req("PUT", f"/api1/collections/{cid}/objects/", data="{}")
    assert_taxii_error(r, 405)
    assert "POST" in r.headers["Allow"]
    assert_taxii_error(node.req("DELETE", "/taxii2/"), 405)
    assert_taxii_error(node.req("POST", "/api1/collections/", data="{}"), 405)


def test_collections_and_collection(node):
    cid = node.collection("colls", title="First", alias="first-alias")
    node.collection("colls", title="Second")
    r = node.get("/colls/collections/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    colls = r.json()["collections"]
    assert [c["title"] for c in colls] == ["First", "Second"]  # creation order, stable
    assert r.json() == node.get("/colls/collections/").json()
    c = colls[0]
    assert c["id"] == cid and c["alias"] == "first-alias"
    assert c["can_read"] is True and c["can_write"] is True
    assert c["media_types"] == [STIX]
    one = node.get(f"/colls/collections/{cid}/")
    assert one.status_code == 200 and one.json() == c
    assert node.get("/colls/collections/first-alias/").json()["id"] == cid
    assert_taxii_error(node.get("/colls/collections/00000000-0000-4000-8000-000000000000/"), 404)


def test_root_without_access_is_404(node):
    """A root in which the requester has no collection is not its root:
    404 like a root that does not exist (so an empty `collections` list,
    `{}`, is never what a requester without access gets)."""
    node.org("nogrant", "partner")
    tok = node.token("nogrant")
    node.collection("hidden")
    for suffix in ("", "collections/"):
        a = node.get(f"/hidden/{suffix}", token=tok)
        b = node.get(f"/nosuchroot/{suffix}", token=tok)
        assert_taxii_error(a, 404)
        assert a.content == b.content
    assert "/hidden/" not in node.get("/taxii2/", token=tok).json().get("api_roots", [])


def test_can_read_can_write_are_per_requester(node):
    node.org("reader", "constituent")
    node.org("writer", "constituent")
    rtok, wtok = node.token("reader"), node.token("writer")
    cid = node.collection("perm", grants=(("own", True, True), ("reader", True, False),
                                          ("writer", False, True)))
    c = node.get(f"/perm/collections/{cid}/", token=rtok).json()
    assert (c["can_read"], c["can_write"]) == (True, False)
    c = node.get(f"/perm/collections/{cid}/", token=wtok).json()
    assert (c["can_read"], c["can_write"]) == (False, True)


def test_status_unknown_is_404(node):
    node.collection("api1")
    assert_taxii_error(node.get("/api1/status/5b2f5b7e-7b8a-4a8e-9c39-0c7d7f1f0e11/"), 404)
    assert_taxii_error(node.get("/api1/status/not-a-uuid/"), 404)


def test_head_has_headers_and_no_body(node):
    r = node.req("HEAD", "/taxii2/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    assert r.content == b""


def test_no_user_agent_is_fine(node):
    s = requests.Session()
    s.headers.pop("User-Agent", None)
    r = s.get(node.url + "/taxii2/", headers={"Accept": TAXII,
                                              "Authorization": f"Bearer {node.admin_token}"},
              timeout=10)
    assert r.status_code == 200


def test_access_log_names_token_never_secret(node):
    node.get("/taxii2/")
    # the line is written once the response is sent: wait for it
    wait_for(lambda: "method=GET path=/taxii2/ route=/taxii2/ status=200" in node.stderr(), 5)
    log = node.stderr()
    assert node.admin_token not in log
    # the token's name ("admin" for init's token, else its public prefix)
    assert re.search(r"path=/taxii2/ route=/taxii2/ status=200 bytes=\d+ ms=[\d.]+ "
                     r"token=(admin|mrd_\w{8}) auth=ok", log)
    assert node.admin_token[12:] not in log
