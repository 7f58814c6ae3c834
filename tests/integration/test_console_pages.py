"""The console's free-text search, the reports/notes referencing a hit,
object pages' relationships in both directions and the holds page's
evidence export: through real HTTP against a real `meridian serve`, through
`meridian search`, and in a real headless browser (the fixtures of
test_console_browser.py). Each respects the read policy: a partner finds
no trace of what TAXII would not show it (a hidden container, a hidden
edge, an edge whose other end is hidden)."""
import hashlib
import json
import sqlite3
import subprocess
import time
import uuid

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from node import TLP_AMBER, TLP_GREEN, TLP_RED, indicator, start_node, wait_for
from pgcluster import sqlite_only, store_sql
from test_console_browser import browser, go, shots, signin, wait  # noqa: F401 (fixtures)
from test_hold import leaves, tree_size, wait_ledgered

T = "2026-01-03T00:00:00.000Z"


def sdo(typ, tlp=TLP_GREEN, **kw):
    o = {"type": typ, "spec_version": "2.1", "id": f"{typ}--{uuid.uuid4()}", "created": T,
         "modified": T, **kw}
    if tlp:
        o["object_marking_refs"] = [tlp]
    return o


def rel(src, rtype, dst, tlp=TLP_GREEN):
    return sdo("relationship", tlp, relationship_type=rtype, source_ref=src["id"],
               target_ref=dst["id"])


@pytest.fixture(scope="module")
def w(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("pages"))
    n.org("px", "partner")
    n.org("py", "partner")
    cid = n.collection(alias="intel", grants=(("own", True, True), ("px", True, False),
                                              ("py", True, True)))
    toks = {"own": n.admin_token, "px": n.token("px"), "py": n.token("py")}
    ind = indicator(TLP_GREEN, name="Lockbit ransomware loader",
                    description="Drops Cobalt Strike beacons", value="192.0.2.10")
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}",
          "value": "192.0.2.10", "object_marking_refs": [TLP_GREEN]}
    dom = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
           "value": "c2.badcorp.example", "object_marking_refs": [TLP_GREEN]}
    mal = sdo("malware", name="LockBit", is_family=True)
    o = {
        "ind": ind, "ip": ip, "dom": dom, "mal": mal,
        "ind2": indicator(TLP_GREEN, name="beacon host",
                          description="talks to c2.badcorp.example every minute",
                          value="192.0.2.99"),
        "indicates": rel(ind, "indicates", mal),
        "based": rel(ind, "based-on", ip),
        "report": sdo("report", name="Weekly ransomware report", published=T,
                      object_refs=[ind["id"], ip["id"]]),
        "note": sdo("note", content="Seen at the ministry gateway", object_refs=[ip["id"]]),
        "sighting": sdo("sighting", sighting_of_ref=ind["id"], count=3),
    }
    n.post_ok(cid, list(o.values()))
    # py's AMBER and RED: the own org reads AMBER only; px reads neither
    hmal = sdo("malware", TLP_AMBER, name="PYSECRET-MALWARE", is_family=False)
    hidden = {
        "hmal": hmal,
        "hreport": sdo("report", TLP_AMBER, name="PYSECRET ransomware campaign", published=T,
                       object_refs=[ind["id"]]),
        "hsight": sdo("sighting", TLP_RED, sighting_of_ref=ind["id"], count=9),
        "hrel": rel(ind, "indicates", hmal, TLP_RED),
    }
    n.post_ok(cid, list(hidden.values()), token=toks["py"])
    # a readable (GREEN, own) edge whose other end px may not read
    o["tohidden"] = rel(ind, "indicates", hmal)
    n.post_ok(cid, [o["tohidden"]])
    yield {"node": n, "cid": cid, "toks": toks, "o": o, "hidden": hidden}
    n.stop()


def get(w, path, who="own", **params):
    r = requests.get(w["node"].url + "/api/v1/" + path, params=params, timeout=30,
                     headers={"Authorization": f"Bearer {w['toks'][who]}"})
    return r


def search(w, q, who="own"):
    r = get(w, "search", who, q=q)
    assert r.status_code == 200, r.text
    return r.json()


def ids_of(w, results):
    by_id = {o["id"]: k for k, o in {**w["o"], **w["hidden"]}.items()}
    return [by_id.get(r["id"], r["id"]) for r in results]


def no_trace(w, text):
    for h in w["hidden"].values():
        assert h["id"] not in text
        if "name" in h:
            assert h["name"] not in text
    assert "PYSECRET" not in text


def test_free_text_finds_names_and_descriptions(w):
    a = search(w, "ransomware")
    assert a["kind"] == "text"
    assert set(ids_of(w, a["results"])) == {"ind", "report", "hreport"}
    assert {r["via"] for r in a["results"]} == {"text"}
    # every word must be there, the last one may be a prefix, case and accents fold
    assert set(ids_of(w, search(w, "cobalt STRIKE")["results"])) == {"ind"}
    assert set(ids_of(w, search(w, "ransom")["results"])) == {"ind", "report", "hreport"}
    assert set(ids_of(w, search(w, "mínistry")["results"])) == {"note"}
    assert search(w, "ransomware ministry")["results"] == []
    # the partner: what TAXII shows it, nothing else
    a = search(w, "ransomware", "px")
    assert set(ids_of(w, a["results"])) == {"ind", "report"}
    no_trace(w, json.dumps(a))
    assert search(w, "PYSECRET", "px")["results"] == []
    assert search(w, "PYSECRET")["results"]  # the own org reads py's AMBER: the test can fail


def test_hostile_queries_are_clear_400s(w):
    # FTS5 syntax is text: an operator is a word, so this finds nothing
    assert search(w, "lockbit OR zzzzunknown")["results"] == []
    assert set(ids_of(w, search(w, "lockbit OR ransomware")["results"])) == set()
    for q in ('"', 'lockbit"', "NEAR(lockbit ransomware)", "name:lockbit", "^lockbit", "*",
              "lockbit*", "(lockbit", "-lockbit", "lockbit AND", "a\" OR \"b", "{name}: x"):
        r = get(w, "search", q=q)
        assert r.status_code in (200, 400), (q, r.status_code, r.text)
        if r.status_code == 400:
            assert r.json()["title"] == "Nothing to search for", q
    assert set(ids_of(w, search(w, "name:lockbit")["results"])) <= {"ind", "mal"}
    for q, title in (("!!! ...", "Nothing to search for"), ("x" * 513, "Query too long"),
                     (" ".join(["w"] * 17), "Query too long")):
        r = get(w, "search", q=q)
        assert r.status_code == 400 and r.json()["title"] == title, (q[:20], r.text)
    # not UTF-8
    r = requests.get(w["node"].url + "/api/v1/search?q=%FF%FE", timeout=10,
                     headers={"Authorization": f"Bearer {w['toks']['own']}"})
    assert r.status_code == 400, r.text
    # a 1 MB query: refused, with a 4xx, the server unharmed
    r = get(w, "search", q="a" * (1024 * 1024))
    assert 400 <= r.status_code < 500, r.status_code
    assert search(w, "lockbit")["results"]


def test_a_value_first_then_the_text_mentioning_it(w):
    a = search(w, "c2.badcorp.example")
    assert a["kind"] == "domain"
    got = ids_of(w, a["results"])
    assert got[0] == "dom" and a["results"][0]["via"] == "value"
    assert "ind2" in got and a["results"][got.index("ind2")]["via"] == "text"
    # an address is never looked up as words
    assert {r["via"] for r in search(w, "192.0.2.99")["results"]} <= {"value", "pattern"}


def test_search_lists_containers_and_one_hop(w):
    a = search(w, "192.0.2.10")
    by = {k: r for k, r in zip(ids_of(w, a["results"]), a["results"])}
    assert set(by) == {"ind", "ip"}
    assert set(ids_of(w, by["ip"]["referenced_by"])) == {"report", "note"}
    assert set(ids_of(w, by["ind"]["referenced_by"])) == {"report", "hreport"}
    rel_ends = {(e["relationship_type"], ids_of(w, [e["other"]])[0]) for e in by["ind"]["related"]}
    assert rel_ends == {("indicates", "mal"), ("based-on", "ip"), ("indicates", "hmal")}
    assert {ids_of(w, [e["other"]])[0] for e in by["ip"]["related"]} == {"ind"}
    # the partner: no hidden container, no edge to a hidden end
    a = search(w, "192.0.2.10", "px")
    by = {k: r for k, r in zip(ids_of(w, a["results"]), a["results"])}
    assert set(ids_of(w, by["ind"]["referenced_by"])) == {"report"}
    assert {ids_of(w, [e["other"]])[0] for e in by["ind"]["related"]} == {"mal", "ip"}
    no_trace(w, json.dumps(a))


def edges(w, key, who):
    r = get(w, "objects/" + w["o"][key]["id"], who)
    assert r.status_code == 200, r.text
    return r.json()["relationships"], r.text


def test_object_page_relationships_both_ways(w):
    rels, _ = edges(w, "ind", "own")
    assert set(ids_of(w, rels["in"])) == {"report", "hreport", "sighting"}
    assert {e["edge"] for e in rels["in"]} == {"container", "sighting"}
    assert set(ids_of(w, rels["out"])) == {"indicates", "based", "tohidden"}
    assert {ids_of(w, [e["other"]])[0] for e in rels["out"]} == {"mal", "ip", "hmal"}
    rels, _ = edges(w, "mal", "own")
    assert ids_of(w, rels["in"]) == ["indicates"] and rels["out"] == []
    assert ids_of(w, [rels["in"][0]["other"]]) == ["ind"]
    assert rels["in"][0]["direction"] == "in"
    # every org: exactly the edges it may read, to ends it may read, as TAXII shows them
    n = w["node"]
    allo = {**w["o"], **w["hidden"]}
    ind = w["o"]["ind"]["id"]
    for who in ("own", "px", "py"):
        readable, _ = n.page_all(n.objects_path(w["cid"]), token=w["toks"][who])
        readable = {o["id"] for o in readable}
        want_in = {k for k, o in allo.items() if o["id"] in readable and
                   (ind in o.get("object_refs", []) or o.get("sighting_of_ref") == ind or
                    (o.get("target_ref") == ind and o.get("source_ref") in readable))}
        want_out = {k for k, o in allo.items() if o["id"] in readable and
                    o.get("source_ref") == ind and o.get("target_ref") in readable}
        rels, text = edges(w, "ind", who)
        assert set(ids_of(w, rels["in"])) == want_in, who
        assert set(ids_of(w, rels["out"])) == want_out, who
        for e in rels["out"]:
            assert e["other"]["id"] in readable
        if who == "px":
            assert want_in == {"report", "sighting"} and want_out == {"indicates", "based"}
            no_trace(w, text)
        if who == "py":  # its own RED sighting; its RED edge to an end it cannot read is hidden
            assert "hsight" in want_in and w["hidden"]["hmal"]["id"] not in readable
            assert "hrel" not in want_out


def test_cli_free_text_search(w):
    n = w["node"]
    p = n.cli("search", "--data", n.data, "--org", "px", "ransomware")
    assert w["o"]["ind"]["id"] in p.stdout and w["o"]["report"]["id"] in p.stdout
    assert w["hidden"]["hreport"]["id"] not in p.stdout
    assert "mention ransomware (text)" in p.stdout
    p = n.cli("search", "--data", n.data, "--org", "px", "192.0.2.10")
    assert f"referenced by {w['o']['report']['id']} Weekly ransomware report" in p.stdout
    assert f"-> indicates {w['o']['mal']['id']}" in p.stdout
    no_trace(w, p.stdout)
    assert n.cli("search", "--data", n.data, "zzzzunknown", check=False).returncode == 1
    p = n.cli("search", "--data", n.data, "x" * 600, check=False)
    assert p.returncode == 2 and "512" in p.stderr


@sqlite_only  # SQLite's migrations (PostgreSQL's index what is stored as they run)
def test_older_store_is_indexed_when_opened(tmp_path, meridian_bin):
    n = start_node(meridian_bin, tmp_path / "old")
    cid = n.collection()
    ind = indicator(TLP_GREEN, name="Qakbot dropper", value="192.0.2.77")
    rep = sdo("report", name="old report", published=T, object_refs=[ind["id"]])
    n.post_ok(cid, [ind, rep])
    n.stop()
    # the database as the schema before the indexes left it
    con = sqlite3.connect(n.data / "meridian.db")
    cur = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    # undo the migrations from the text indexes on (test_backup keeps their
    # undo scripts, newest first)
    from test_backup import AFTER_LIFECYCLE
    i = next(k for k, u in enumerate(AFTER_LIFECYCLE) if "text_index" in u)
    con.executescript("".join(AFTER_LIFECYCLE[:i + 1]) +
                      f"UPDATE schema_version SET version = {cur - i - 1};")
    con.commit()
    con.close()
    p = n.cli("search", "--data", n.data, "--json", "qakbot")
    res = json.loads(p.stdout)["results"]
    assert [r["id"] for r in res] == [ind["id"]]
    assert [c["id"] for c in res[0]["referenced_by"]] == [rep["id"]]
    con = sqlite3.connect(n.data / "meridian.db")
    assert con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == cur
    # indexed once: a second open adds nothing
    before = con.execute("SELECT COUNT(*) FROM ref_index").fetchone()[0]
    con.close()
    n.cli("search", "--data", n.data, "qakbot")
    con = sqlite3.connect(n.data / "meridian.db")
    assert con.execute("SELECT COUNT(*) FROM ref_index").fetchone()[0] == before == 1
    con.close()


def make_hold(w, case, key="ind"):
    n = w["node"]
    r = requests.post(n.url + "/api/v1/holds", timeout=30,
                      headers={"Authorization": f"Bearer {w['toks']['own']}"},
                      json={"case": case, "authority": "Prosecutor", "reason": "C2",
                            "days": 30, "objects": [w["o"][key]["id"]]})
    assert r.status_code == 201, r.text


def verify(n, path, tmp_path):
    pub = n.cli("key", "show", "--data", n.data).stdout.strip()
    return subprocess.run([n.bin, "evidence", "verify", str(path), "--pubkey", pub],
                          capture_output=True, text=True, timeout=60)


def test_evidence_export_route(w, tmp_path):
    n = w["node"]
    make_hold(w, "CASE-API")
    wait_ledgered(n, 1)
    before = tree_size(n)
    url = n.url + "/api/v1/holds/export"
    own = {"Authorization": f"Bearer {w['toks']['own']}"}
    r = requests.post(url, json={"case": "CASE-API"}, headers=own, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/x-tar"
    assert 'filename="evidence-CASE-API.tar"' in r.headers["Content-Disposition"]
    out = tmp_path / "pkg.tar"
    out.write_bytes(r.content)
    v = verify(n, out, tmp_path)
    assert v.returncode == 0, v.stderr
    # recorded as the CLI records it: a hold-export leaf naming the package's digest
    wait_ledgered(n, before + 1)
    new = leaves(n, before)
    assert "hold-export" in [lf["kind"] for lf in new], new
    recs = [json.loads(x) for (x,) in store_sql(n, "SELECT record FROM ledger_events")]
    assert hashlib.sha256(r.content).hexdigest() in json.dumps(recs)
    # no such case; not for partners; a session needs its CSRF token
    r = requests.post(url, json={"case": "NO-SUCH"}, headers=own, timeout=30)
    assert r.status_code == 404
    r = requests.post(url, json={}, headers=own, timeout=30)
    assert r.status_code == 400
    r = requests.post(url, json={"case": "CASE-API"}, timeout=30,
                      headers={"Authorization": f"Bearer {w['toks']['px']}"})
    assert r.status_code == 404
    s = requests.Session()
    assert s.post(n.url + "/api/v1/session", json={"token": w["toks"]["own"]},
                  timeout=10).status_code in (200, 201)
    r = s.post(url, json={"case": "CASE-API"}, timeout=30)
    assert r.status_code == 403 and "tar" not in r.headers.get("Content-Type", "")


def shot(d, element_id, path):
    """A screenshot of the window scrolled to the element."""
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})",
                     d.find_element(By.ID, element_id))
    time.sleep(0.3)
    d.save_screenshot(str(path))


def test_browser_text_search_edges_and_export(w, browser, shots, tmp_path):  # noqa: F811
    d, n = browser, w["node"]
    dl = tmp_path / "downloads"
    dl.mkdir()
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow",
                                                   "downloadPath": str(dl)})
    signin(d, n, n.admin_token)
    go(d, n, "search", "#search-form")
    d.find_element(By.ID, "q").send_keys("192.0.2.10" + Keys.ENTER)
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "table.results td.context a"))
    ctx = d.find_element(By.CSS_SELECTOR, "table.results").text
    assert "Weekly ransomware report" in ctx and "LockBit" in ctx
    d.save_screenshot(str(shots / "search-context.png"))
    go(d, n, "search?q=ransomware%20loader", "table.results, .empty")
    assert w["o"]["ind"]["id"] in d.page_source
    assert "name or description" in d.find_element(By.CSS_SELECTOR, "table.results").text
    d.save_screenshot(str(shots / "search-text.png"))
    # the object page, reached from the search result
    d.find_element(By.CSS_SELECTOR, "table.results tbody a").click()
    wait(d, lambda d: d.find_elements(By.ID, "relationships"))
    rin = d.find_element(By.ID, "rel-in").text
    rout = d.find_element(By.ID, "rel-out").text
    assert "Weekly ransomware report" in rin and "sighting" in rin
    assert "LockBit" in rout and "indicates" in rout and "based-on" in rout
    shot(d, "relationships", shots / "object-relationships.png")
    # holds: export the package of a case, which then verifies
    make_hold(w, "CASE-UI/1", key="ip")
    go(d, n, "holds", "button.export")
    btn = [b for b in d.find_elements(By.CSS_SELECTOR, "button.export")
           if b.get_attribute("data-case") == "CASE-UI/1"][0]
    btn.click()
    wait(d, lambda d: "Saved" in d.find_element(By.ID, "export-msg").text, timeout=60)
    shot(d, "hold-list", shots / "holds-export.png")
    f = dl / "evidence-CASE-UI_1.tar"
    wait_for(lambda: f.exists() and f.stat().st_size > 0, timeout=30)
    time.sleep(0.5)
    v = verify(n, f, tmp_path)
    assert v.returncode == 0, v.stderr
    assert "1 objects" in v.stdout, v.stdout


def test_browser_partner_sees_no_hidden_edges(w, browser):  # noqa: F811
    d, n = browser, w["node"]
    signin(d, n, w["toks"]["px"])
    for frag in ("search?q=192.0.2.10", "search?q=ransomware", "search?q=campaign",
                 "object/" + w["o"]["ind"]["id"]):
        d.get(n.url + "/ui/#/" + frag)
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "table.results, .empty, "
                                                          "#relationships"))
        time.sleep(0.5)
        no_trace(w, d.page_source)


@sqlite_only  # reads meridian.db
def test_deleted_version_leaves_no_words(tmp_path, meridian_bin):
    n = start_node(meridian_bin, tmp_path / "del")
    try:
        cid = n.collection()
        ind = indicator(TLP_GREEN, name="Zyxwvut campaign", description="personal Quorlax data",
                        value="192.0.2.88")
        keep = indicator(TLP_GREEN, name="Zyxwvut other", value="192.0.2.89")
        n.post_ok(cid, [ind, keep])
        assert {r["id"] for r in search({"node": n, "toks": {"own": n.admin_token}},
                                        "zyxwvut")["results"]} == {ind["id"], keep["id"]}
        r = n.req("DELETE", f"/api1/collections/{cid}/objects/{ind['id']}/")
        assert r.status_code == 200, r.text
        ww = {"node": n, "toks": {"own": n.admin_token}}
        assert [r["id"] for r in search(ww, "zyxwvut")["results"]] == [keep["id"]]
        assert search(ww, "quorlax")["results"] == []
    finally:
        n.stop()
    # the index itself holds the words no more, and stays consistent (FTS5's
    # integrity check; on PostgreSQL: no words of a version that is gone)
    for word, want in (("quorlax", "0"), ("zyxwvut", "1")):
        assert store_sql(n, f"SELECT COUNT(*) FROM text_index WHERE text_index MATCH '{word}'",
                         pg="SELECT COUNT(*) FROM text_index WHERE words @@"
                         f" to_tsquery('simple', '{word}')") == [(want,)]
    assert store_sql(n, "INSERT INTO text_index (text_index) VALUES ('integrity-check')",
                     pg="SELECT seq FROM text_index t WHERE NOT EXISTS"
                     " (SELECT 1 FROM objects o WHERE o.seq = t.seq)") == []
