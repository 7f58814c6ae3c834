"""The /api/v1/ router and console sessions (docs/api.md), over real HTTP
against `meridian serve`: sign-in with a token, the session cookie's
attributes, CSRF and origin checks, sign-out, idle and absolute expiry,
token revocation ending sessions, and the headers every answer carries."""
import json
import subprocess
import time

import pytest
import requests

from node import start_node, wait_for


def signin(node, token, session=None, origin=True):
    s = session or requests.Session()
    h = {"Content-Type": "application/json"}
    if origin:
        h["Origin"] = node.url
    r = s.post(node.url + "/api/v1/session", data=json.dumps({"token": token}), headers=h,
               timeout=10, verify=node.ca)
    return s, r


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("api"))
    n.org("partner-b", "partner")
    n.partner_token = n.token("partner-b")
    yield n
    n.stop()


def test_signin_sets_a_strict_httponly_cookie(node):
    s, r = signin(node, node.admin_token)
    assert r.status_code == 200, r.text
    who = r.json()
    assert who["org"] == "own" and who["relation"] == "own" and who["session"] is True
    assert len(who["csrf"]) == 43 and who["idle_timeout"] == 1800
    cookie = r.headers["Set-Cookie"]
    # plain HTTP (--http): no Secure, no __Host- prefix; everything else strict
    assert cookie.startswith("mrd_session=")
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert attr in cookie, cookie
    assert "Secure" not in cookie
    # the token never comes back
    assert node.admin_token not in r.text
    g = s.get(node.url + "/api/v1/session", timeout=10)
    assert g.status_code == 200 and g.json()["csrf"] == who["csrf"]


def test_signin_refuses_bad_requests(node):
    _, r = signin(node, "mrd_" + "x" * 43)
    assert r.status_code == 401 and "Set-Cookie" not in r.headers
    # the challenge is Bearer only: Basic would pop up the browser's dialog
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="meridian"'
    # what an HTML form can send is refused: no JSON, no session
    for ctype, body in (("application/x-www-form-urlencoded", f"token={node.admin_token}"),
                        ("text/plain", json.dumps({"token": node.admin_token})),
                        ("multipart/form-data; boundary=x", "--x--")):
        r = requests.post(node.url + "/api/v1/session", data=body, timeout=10,
                          headers={"Content-Type": ctype})
        assert r.status_code == 415 and "Set-Cookie" not in r.headers, (ctype, r.text)
    # from another origin
    r = requests.post(node.url + "/api/v1/session", data=json.dumps({"token": node.admin_token}),
                      headers={"Content-Type": "application/json",
                               "Origin": "http://evil.example"}, timeout=10)
    assert r.status_code == 403 and "Set-Cookie" not in r.headers
    r = requests.post(node.url + "/api/v1/session", data=json.dumps({"token": node.admin_token}),
                      headers={"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
                      timeout=10)
    assert r.status_code == 403 and "Set-Cookie" not in r.headers
    # malformed JSON, no token member
    for body in ("{", "[]", '{"token": 5}', '{"tok": "x"}'):
        r = requests.post(node.url + "/api/v1/session", data=body, timeout=10,
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.text)
    # a body over the sign-in limit
    r = requests.post(node.url + "/api/v1/session", data="x" * 5000, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_state_changes_need_the_csrf_token_and_the_origin(node):
    s, r = signin(node, node.admin_token)
    csrf = r.json()["csrf"]
    # no token, a wrong one, or the right one from another origin: refused, still signed in
    for h in ({}, {"X-CSRF-Token": "A" * 43},
              {"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
              {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
              {"X-CSRF-Token": csrf, "Origin": "null"}):
        d = s.delete(node.url + "/api/v1/session", headers=h, timeout=10)
        assert d.status_code == 403, (h, d.text)
        assert s.get(node.url + "/api/v1/session", timeout=10).status_code == 200
    # the right token from this origin signs out and clears the cookie
    d = s.delete(node.url + "/api/v1/session", timeout=10,
                 headers={"X-CSRF-Token": csrf, "Origin": node.url,
                          "Sec-Fetch-Site": "same-origin"})
    assert d.status_code == 200 and d.json() == {"signed_out": True}
    assert "Max-Age=0" in d.headers["Set-Cookie"]
    # the old cookie is dead even if a client keeps it
    g = requests.get(node.url + "/api/v1/session", timeout=10,
                     headers={"Cookie": f"mrd_session={r.cookies['mrd_session']}"})
    assert g.status_code == 401
    assert s.get(node.url + "/api/v1/session", timeout=10).status_code == 401


def test_bearer_tokens_need_no_csrf_and_no_session(node):
    h = {"Authorization": f"Bearer {node.admin_token}"}
    r = requests.get(node.url + "/api/v1/session", headers=h, timeout=10)
    assert r.status_code == 200
    assert r.json()["session"] is False and "csrf" not in r.json()
    r = requests.delete(node.url + "/api/v1/session", headers=h, timeout=10)
    assert r.status_code == 200 and r.json() == {"signed_out": False}
    # a cookie that names no session is ignored by public routes, refused elsewhere
    r = requests.get(node.url + "/api/v1/session", timeout=10,
                     headers={"Cookie": "mrd_session=" + "A" * 43})
    assert r.status_code == 401 and "session has ended" in r.text


def test_revoking_the_token_ends_its_sessions(node):
    tok = node.token("partner-b")
    s, r = signin(node, tok)
    assert r.status_code == 200 and r.json()["relation"] == "partner"
    other, r2 = signin(node, node.partner_token)
    assert s.get(node.url + "/api/v1/session", timeout=10).status_code == 200
    node.cli("token", "revoke", "--data", node.data, tok[:12])
    assert s.get(node.url + "/api/v1/session", timeout=10).status_code == 401
    # another token of the same org keeps its session
    assert other.get(node.url + "/api/v1/session", timeout=10).status_code == 200


def test_every_answer_carries_the_security_headers(node):
    s, _ = signin(node, node.admin_token)
    for r in (s.get(node.url + "/api/v1/session", timeout=10),
              requests.get(node.url + "/api/v1/session", timeout=10),
              s.get(node.url + "/api/v1/nosuch", timeout=10),
              requests.post(node.url + "/api/v1/session", data="x" * 5000, timeout=10)):
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Type"] == "application/json"
        json.loads(r.text)
    r = s.get(node.url + "/api/v1/session", timeout=10)
    assert r.headers["Server-Timing"].startswith("app;dur=")


def test_route_table_errors(node):
    h = {"Authorization": f"Bearer {node.admin_token}"}
    r = requests.get(node.url + "/api/v1/", headers=h, timeout=10)
    routes = {(x["method"], x["path"]) for x in r.json()["routes"]}
    assert ("POST", "/api/v1/session") in routes and ("GET", "/api/v1/") in routes
    assert requests.get(node.url + "/api/v1/", timeout=10).status_code == 401
    r = requests.put(node.url + "/api/v1/session", headers=h, timeout=10)
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == \
        {"POST", "GET", "HEAD", "DELETE"}
    assert requests.get(node.url + "/api/v1/no/such/route", headers=h,
                        timeout=10).status_code == 404
    assert requests.get(node.url + "/api/v1/" + "a/" * 20, headers=h, timeout=10).status_code \
        == 404
    # TAXII still answers behind the router
    assert node.get("/taxii2/").status_code == 200


def test_session_expiry(meridian_bin, tmp_path):
    # generous margins: the machine may be loaded, a request may take a second
    n = start_node(meridian_bin, tmp_path / "n", extra_args=["--session-idle", "4",
                                                              "--session-max", "9"])
    try:
        # idle: used every second it lives on; six seconds of silence end it
        s, r = signin(n, n.admin_token)
        assert r.json()["idle_timeout"] == 4
        for _ in range(5):
            time.sleep(1.0)
            assert s.get(n.url + "/api/v1/session", timeout=10).status_code == 200
        time.sleep(6.0)
        assert s.get(n.url + "/api/v1/session", timeout=10).status_code == 401
        # absolute: used all the time, gone after nine seconds
        s, r = signin(n, n.admin_token)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6.0:
            assert s.get(n.url + "/api/v1/session", timeout=10).status_code == 200
            time.sleep(0.5)
        time.sleep(max(0.0, 10.0 - (time.monotonic() - t0)))
        assert s.get(n.url + "/api/v1/session", timeout=10).status_code == 401
    finally:
        n.stop()


def test_https_cookie_is_secure_and_host_prefixed(meridian_bin, tmp_path):
    n = start_node(meridian_bin, tmp_path / "tls", http=False)
    try:
        s, r = signin(n, n.admin_token)
        assert r.status_code == 200, r.text
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("__Host-mrd_session=") and "; Secure" in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # the plain name is not accepted over HTTPS
        sid = cookie.split(";")[0].split("=", 1)[1]
        r = requests.get(n.url + "/api/v1/session", headers={"Cookie": f"mrd_session={sid}"},
                         verify=n.ca, timeout=10)
        assert r.status_code == 401
        r = requests.get(n.url + "/api/v1/session", verify=n.ca, timeout=10,
                         headers={"Cookie": f"other=1; __Host-mrd_session={sid}"})
        assert r.status_code == 200
    finally:
        n.stop()


def test_docs_list_every_route(node):
    """docs/api.md's table names exactly the routes the server has."""
    import pathlib
    import re
    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^\| (GET|POST|PUT|DELETE) \| `(/api/v1/[^`]*)` \|", doc, re.M))
    r = requests.get(node.url + "/api/v1/", timeout=10,
                     headers={"Authorization": f"Bearer {node.admin_token}"})
    served = {(x["method"], x["path"]) for x in r.json()["routes"]}
    assert served == documented, (served - documented, documented - served)
