"""The analyst console in a real headless browser (Debian's chromium and
chromium-driver through python3-selenium, installed by scripts/bootstrap),
against a real `meridian serve` on 127.0.0.1.

Functional: sign in and out; search finds a value exactly, by CIDR
containment and by domain suffix; an object page shows its provenance.
Adversarial: stored-XSS payloads in every rendered field run nothing (no
dialog, no request to a beacon server the test runs, no injected
element); a cross-site form post changes nothing; a partner finds no
trace of another org's AMBER or RED objects on any page.
Screenshots of every page go to $MERIDIAN_SCREENSHOTS (default: the
test's tmp_path); docs/img/ holds the committed ones."""
import http.server
import json
import os
import pathlib
import threading
import time
import uuid

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from node import TLP_AMBER, TLP_GREEN, TLP_RED, indicator, start_node
CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


class Beacon:
    """An HTTP server on 127.0.0.1 that records every request: a payload
    that executes would call it. It also serves the cross-site page."""

    def __init__(self):
        self.hits = []
        self.page = b""
        beacon = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/attack"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(beacon.page)
                    return
                beacon.hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture(scope="module")
def beacon():
    b = Beacon()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    d = pathlib.Path(os.environ.get("MERIDIAN_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def payloads(beacon):
    b = beacon.url
    return [
        f"<img src={b}/img onerror=\"fetch('{b}/onerror')\">",
        f"<script>fetch('{b}/script')</script>",
        f"\"><svg onload=fetch('{b}/svg')>",
        f"javascript:fetch('{b}/js')",
        f"<iframe src={b}/iframe></iframe>",
        "<b>bold</b>\u202egnp.exe",
        f"{{{{constructor.constructor('fetch(\"{b}/tmpl\")')()}}}}",
    ]


@pytest.fixture(scope="module")
def w(tmp_path_factory, meridian_bin, beacon):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("console"))
    n.org("px", "partner")
    n.org("py", "partner")
    cid = n.collection(alias="intel", grants=(("own", True, True), ("px", True, False),
                                              ("py", True, True)))
    toks = {"own": n.admin_token, "px": n.token("px"), "py": n.token("py")}
    p = payloads(beacon)
    evil = indicator(TLP_GREEN, name=p[0], value="203.0.113.7",
                     description=" ".join(p) + " " + "x" * (1024 * 1024),
                     labels=p[1:4], indicator_types=[p[2]],
                     external_references=[
                         {"source_name": p[1], "url": f"javascript:fetch('{beacon.url}/href')"},
                         {"source_name": "ok", "url": "https://example.org/report"},
                         {"source_name": p[5], "external_id": p[4],
                          "url": f"data:text/html,<script>fetch('{beacon.url}/data')</script>"}])
    evil["pattern"] = "[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'evil.example']"
    objs = {
        "evil": evil,
        "cidr": indicator(TLP_GREEN, name="botnet range", value="198.51.100.0/24"),
        "sub": {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
                "value": "cdn.evil.example", "object_marking_refs": [TLP_GREEN]},
        "note": {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}",
                 "created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
                 "content": p[1], "abstract": p[0], "object_refs": [evil["id"]],
                 "object_marking_refs": [TLP_GREEN]},
    }
    n.post_ok(cid, list(objs.values()))
    hidden = {
        "amber": indicator(TLP_AMBER, name="PY-AMBER-SECRET", value="198.51.100.9"),
        "red": indicator(TLP_RED, name="PY-RED-SECRET", value="203.0.113.7"),
    }
    n.post_ok(cid, list(hidden.values()), token=toks["py"])
    yield {"node": n, "toks": toks, "objs": objs, "hidden": hidden, "cid": cid}
    n.stop()


@pytest.fixture
def browser(tmp_path):
    assert os.access(CHROMIUM, os.X_OK) and os.access(DRIVER, os.X_OK), \
        "chromium and chromium-driver are needed (scripts/bootstrap installs them)"
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--window-size=1280,900", f"--user-data-dir={tmp_path / 'profile'}"):
        o.add_argument(a)
    o.binary_location = CHROMIUM
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


def wait(d, pred, timeout=15):
    return WebDriverWait(d, timeout).until(lambda d: pred(d))


def signin(d, node, token):
    d.get(node.url + "/ui/")
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.ID, "signin-button").click()
    wait(d, lambda d: d.find_elements(By.ID, "top-sighted"))


def go(d, node, frag, element):
    d.get(node.url + "/ui/#/" + frag)
    return wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, element))


def no_dialog(d):
    try:
        d.switch_to.alert.dismiss()
        return False
    except NoAlertPresentException:
        return True


def test_sign_in_and_out(w, browser, shots):
    d, n = browser, w["node"]
    d.get(n.url + "/")  # / leads to the console
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    assert d.current_url.endswith("/ui/")
    d.save_screenshot(str(shots / "signin.png"))
    d.find_element(By.ID, "token").send_keys("mrd_" + "x" * 43 + Keys.ENTER)
    wait(d, lambda d: "not accepted" in d.find_element(By.ID, "signin-error").text)
    # the session cookie is HttpOnly: the page's script cannot see it
    signin(d, n, n.admin_token)
    assert "mrd_session" not in d.execute_script("return document.cookie")
    assert "own" in d.find_element(By.ID, "who").text
    d.save_screenshot(str(shots / "overview.png"))
    d.find_element(By.ID, "signout").click()
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    # signed out for real: the API refuses the browser now
    d.get(n.url + "/api/v1/session")
    assert '"http_status":401' in d.page_source


def test_search_exact_cidr_and_suffix(w, browser, shots):
    d, n = browser, w["node"]
    signin(d, n, n.admin_token)
    go(d, n, "search", "#search-form")
    box = d.find_element(By.ID, "q")
    box.send_keys("203.0.113.7" + Keys.ENTER)
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "table.results"))
    assert w["objs"]["evil"]["id"] in d.page_source
    d.save_screenshot(str(shots / "search.png"))
    cases = {"198.51.100.77": "cidr", "198.51.100.0/25": "cidr", "evil.example": "sub",
             "x.cdn.evil.example": "evil"}
    for q, key in cases.items():
        go(d, n, "search?q=" + q, "table.results, .empty")
        links = [a.get_attribute("href") for a in
                 d.find_elements(By.CSS_SELECTOR, "table.results a")]
        assert any(w["objs"][key]["id"] in (h or "") for h in links), (q, links)
    go(d, n, "search?q=notevil.example", "#search-results p")
    wait(d, lambda d: "Not known here" in d.find_element(By.ID, "search-results").text)
    # bulk
    go(d, n, "bulk", "#bulk-text")
    d.find_element(By.ID, "bulk-text").send_keys("alert: 203.0.113[.]7 and hxxp://evil.example/x "
                                                "and 192.0.2.55")
    d.find_element(By.CSS_SELECTOR, "#bulk-form button").click()
    wait(d, lambda d: "known" in d.find_element(By.ID, "bulk-results").text)
    assert "2 known, 1 unknown" in d.find_element(By.ID, "bulk-results").text
    d.save_screenshot(str(shots / "bulk.png"))


def test_object_page_and_xss(w, browser, beacon, shots):
    d, n = browser, w["node"]
    signin(d, n, n.admin_token)
    # land on the object page from a search result, keyboard only
    go(d, n, "search?q=203.0.113.7", "table.results a")
    d.find_element(By.CSS_SELECTOR, "table.results a").send_keys(Keys.ENTER)
    wait(d, lambda d: d.find_elements(By.ID, "provenance"))
    prov = d.find_element(By.ID, "provenance").text
    assert "verifies here" in prov and "signed by" in prov
    d.save_screenshot(str(shots / "object.png"))
    for frag in ("object/" + w["objs"]["evil"]["id"], "object/" + w["objs"]["note"]["id"],
                 "search?q=evil.example", "overview"):
        d.get(n.url + "/ui/#/" + frag)
        time.sleep(1.0)
        assert no_dialog(d)
        main = d.find_element(By.ID, "main")
        for tag in ("img", "script", "iframe", "svg image", "object", "embed"):
            assert not main.find_elements(By.CSS_SELECTOR, tag), (frag, tag)
        for a in main.find_elements(By.CSS_SELECTOR, "a"):
            href = a.get_attribute("href") or ""
            assert href.startswith(n.url) or href.startswith("https://example.org"), href
    # the payload text is shown as text, the override as a visible escape
    d.get(n.url + "/ui/#/object/" + w["objs"]["evil"]["id"])
    wait(d, lambda d: d.find_elements(By.ID, "provenance"))
    body = d.find_element(By.ID, "main").text
    assert "<img src=" in body and "\u202e" not in body and "U+202E" in body
    # the 1 MB description is cut, with a button for the rest
    assert d.find_elements(By.CSS_SELECTOR, "button.more")
    time.sleep(0.5)
    assert beacon.hits == [], beacon.hits


def test_cross_site_form_changes_nothing(w, browser, beacon):
    d, n = browser, w["node"]
    signin(d, n, n.admin_token)
    # another origin's page posts forms at the node: sign-in as the
    # attacker's org (login CSRF) and a sign-out, both without the CSRF token
    beacon.page = f"""<html><body>
<form id=f1 method=POST action="{n.url}/api/v1/session" enctype="text/plain">
<input name='{{"token":"{w["toks"]["px"]}","x":"' value='"}}'></form>
<iframe name=sink></iframe>
<form id=f2 method=POST action="{n.url}/api/v1/session?_method=DELETE" target=sink></form>
<script>document.getElementById('f2').submit();document.getElementById('f1').submit();</script>
</body></html>""".encode()
    d.get(beacon.url + "/attack")
    time.sleep(2.0)
    # still signed in, still as the own org
    d.get(n.url + "/ui/")
    wait(d, lambda d: d.find_elements(By.ID, "top-sighted"))
    assert d.find_element(By.ID, "who").text.startswith("own")


def test_partner_finds_no_trace_of_hidden_objects(w, browser, shots):
    d, n = browser, w["node"]
    signin(d, n, w["toks"]["px"])
    secrets = [o["id"] for o in w["hidden"].values()] + ["PY-AMBER-SECRET", "PY-RED-SECRET"]
    pages = ["overview", "search?q=203.0.113.7", "search?q=198.51.100.9",
             "search?q=198.51.100.0/24", "search?q=evil.example", "federation",
             "object/" + w["hidden"]["red"]["id"], "object/" + w["hidden"]["amber"]["id"]]
    for frag in pages:
        d.get(n.url + "/ui/#/" + frag)
        time.sleep(1.0)
        src = d.page_source
        for s in secrets:
            assert s not in src, (frag, s)
    # the object page of a hidden object says exactly what a missing one says
    d.get(n.url + "/ui/#/object/" + w["hidden"]["red"]["id"])
    wait(d, lambda d: "Not found" in d.find_element(By.ID, "main").text)
    hidden_text = d.find_element(By.ID, "main").text
    d.get(n.url + "/ui/#/object/indicator--" + str(uuid.uuid4()))
    wait(d, lambda d: "Not found" in d.find_element(By.ID, "main").text)
    assert d.find_element(By.ID, "main").text == hidden_text
    d.get(n.url + "/ui/#/search?q=203.0.113.7")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "table.results"))
    d.save_screenshot(str(shots / "search-partner.png"))
    # the own org does see them (the test can fail)
    d.find_element(By.ID, "signout").click()
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    signin(d, n, n.admin_token)
    go(d, n, "search?q=198.51.100.9", "table.results")
    assert w["hidden"]["amber"]["id"] in d.page_source


def test_federation_page(w, browser, shots):
    d, n = browser, w["node"]
    signin(d, n, n.admin_token)
    go(d, n, "federation", "#main table, #main .empty")
    d.save_screenshot(str(shots / "federation.png"))
    d.find_element(By.ID, "signout").click()
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    signin(d, n, w["toks"]["px"])
    go(d, n, "federation", "#main .hint")
    # the first hint is "Loading...": wait for the answer
    wait(d, lambda d: "own organisation" in d.find_element(By.ID, "main").text)


# ---- three federating nodes: overview figures and provenance ------------------------

def _sighting(ind_id, reporter, count, first_seen, tlp=TLP_GREEN):
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": first_seen, "modified": first_seen, "first_seen": first_seen,
            "last_seen": first_seen, "sighting_of_ref": ind_id, "count": count,
            "created_by_ref": reporter, "object_marking_refs": [tlp]}


@pytest.fixture(scope="module")
def fed3(tmp_path_factory, meridian_bin):
    """A -> B -> C: C pulls from B, B pulls from A; C trusts A's key."""
    from test_fed_propagation import Fed
    f = Fed(meridian_bin, tmp_path_factory.mktemp("fed3"))
    f.node("A")
    f.node("B")
    f.node("C", start=False)  # its server loads the trusted keys when it starts
    f.link("A", "B")
    f.link("B", "C")
    f.nodes["C"].cli("key", "trust", "A", f.pubkey("A"), "--data", f.nodes["C"].data)
    f.nodes["C"].start()
    yield f
    for n in f.nodes.values():
        n.stop()


def test_overview_figures_and_provenance_across_nodes(fed3, browser, shots):
    f, d = fed3, browser
    a, c = f.nodes["A"], f.nodes["C"]
    now = time.time()

    def ts(hours_ago):
        t = time.gmtime(now - hours_ago * 3600)
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", t)

    ident = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
             "created": ts(1), "modified": ts(1), "name": "CERT-A sensors",
             "identity_class": "organization", "object_marking_refs": [TLP_GREEN]}
    from_a = indicator(TLP_GREEN, name="A's C2 address", value="192.0.2.10")
    a.post_ok(f.coll["A"], [ident, from_a], root="europe")
    f.sync("B")
    f.sync("C")
    # C's own data: indicators of two TLPs and sightings by two reporters
    own_id = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
              "created": ts(1), "modified": ts(1), "name": "C honeypot",
              "identity_class": "system", "object_marking_refs": [TLP_GREEN]}
    local = [indicator(TLP_GREEN, name=f"local {i}", value=f"198.18.0.{i}") for i in range(5)]
    local += [indicator(TLP_AMBER, name=f"amber {i}", value=f"198.18.1.{i}") for i in range(3)]
    c.post_ok(f.coll["C"], [own_id] + local, root="europe")
    sights = [_sighting(local[0]["id"], own_id["id"], 40, ts(20)),
              _sighting(local[0]["id"], own_id["id"], 2, ts(3)),
              _sighting(local[1]["id"], own_id["id"], 7, ts(30)),
              _sighting(local[2]["id"], ident["id"], 5, ts(2))]
    c.post_ok(f.coll["C"], sights, root="europe")

    # the API's figures match what was seeded
    r = c.get("/api/v1/overview?days=7", accept="application/json").json()
    assert sum(r["received"]["by_tlp"]["amber"]) == 3
    assert sum(r["received"]["by_source"]["B"]) == 2  # A's identity and indicator, via B
    assert sum(r["received"]["by_source"]["local"]) == 13
    top = {x["indicator"]: x["count"] for x in r["top_sighted"]}
    assert top[local[0]["id"]] == 42 and top[local[1]["id"]] == 7 and top[local[2]["id"]] == 5
    assert r["top_sighted"][0]["label"] == "local 0"
    assert sum(r["sightings"]["by_reporter"]["C honeypot"]) == 49
    assert sum(r["sightings"]["by_reporter"]["CERT-A sensors"]) == 5
    assert r["sightings"]["total"] == 54
    assert [x["id"] for x in r["new_partner_indicators"]] == [from_a["id"]]
    # what left B: C's pull of A's identity and indicator
    rb = f.nodes["B"].get("/api/v1/overview?days=7", accept="application/json").json()
    assert rb["sent"]["total"] == sum(rb["sent"]["by_destination"]["C"]) == 2
    # a partner reads C's collection: C counts it as sent, by TLP and destination
    c.org("D", "partner")
    c.grant("D", f.coll["C"], True, False)
    got, _ = c.page_all(c.objects_path(f.coll["C"], root="europe"), token=c.token("D"))
    r = c.get("/api/v1/overview?days=7", accept="application/json").json()
    assert sum(r["sent"]["by_destination"]["D"]) == len(got) > 0
    assert sum(r["sent"]["by_tlp"]["amber"]) == 3  # created here: one hop

    # the page shows the same figures
    signin(d, c, c.admin_token)
    wait(d, lambda d: d.find_elements(By.ID, "received-tlp"))
    text = d.find_element(By.ID, "main").text
    assert "54 sighted" in text and "local 0" in text and "A's C2 address" in text
    assert f"{len(got)} to partners and peers" in text
    d.save_screenshot(str(shots / "overview.png"))
    # provenance on C: signed by A (verifies here), received from B
    d.get(c.url + "/ui/#/object/" + from_a["id"])
    wait(d, lambda d: d.find_elements(By.ID, "provenance"))
    sig = d.find_element(By.ID, "signature").text
    assert "verifies here" in sig and "signed by A" in sig, sig
    assert d.find_element(By.ID, "received-from").text == "B"
    d.save_screenshot(str(shots / "object-provenance.png"))


def test_hold_from_a_search_result(w, browser, shots):
    d, n = browser, w["node"]
    signin(d, n, n.admin_token)
    go(d, n, "search?q=203.0.113.7", "input.pick")
    for box in d.find_elements(By.CSS_SELECTOR, "input.pick"):
        if box.get_attribute("value") == w["objs"]["evil"]["id"]:
            box.click()
    d.find_element(By.ID, "hold-selected").click()
    wait(d, lambda d: d.find_elements(By.ID, "hold-form"))
    assert d.find_element(By.ID, "hold-objects").get_attribute("value") == w["objs"]["evil"]["id"]
    d.find_element(By.ID, "hold-case").send_keys("2026/CR/77 <b>x</b>")
    d.find_element(By.ID, "hold-authority").send_keys("Public prosecutor, Town")
    d.find_element(By.ID, "hold-reason").send_keys("preserve C2 infrastructure")
    d.find_element(By.ID, "hold-create").click()
    wait(d, lambda d: "preserves" in d.find_element(By.ID, "hold-msg").text)
    wait(d, lambda d: "2026/CR/77" in d.find_element(By.ID, "hold-list").text)
    d.save_screenshot(str(shots / "holds.png"))
    # the CLI sees the same hold, with the ledger record the CLI itself makes
    p = n.cli("hold", "list", "--data", n.data)
    assert "2026/CR/77" in p.stdout and "Public prosecutor" in p.stdout, p.stdout
    # a partner has no holds page and no holds route
    r = n.get("/api/v1/holds", token=w["toks"]["px"], accept="application/json")
    assert r.status_code == 404
