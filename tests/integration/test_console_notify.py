"""The console's early-warning page (docs/console.md, docs/notify.md) and
its JSON routes (docs/api.md): the own org sees every constituent's assets
with pending claims first, approves and removes them, uploads a CSV and
sees each line's result and the overlaps to approve, and lists recent
notifications with filters; a constituent sees only its own assets (not
what its pending claim overlaps) and its own notifications. The routes call
what `meridian asset` calls: the CLI sees the same declarations and audit
records. In a real headless Chromium, screenshots into $MERIDIAN_SCREENSHOTS
(docs/img/ holds the committed ones)."""
import json
import types

import pytest
import requests
from selenium.webdriver.common.by import By

from node import TLP_GREEN, indicator, start_node, wait_for
from test_console_browser import browser, go, shots, signin, wait  # noqa: F401 (fixtures)

JSON = "application/json"


@pytest.fixture(scope="module")
def cw(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("console-notify"))
    n.org("ministry", "constituent")
    n.org("isp", "constituent")
    shared = n.collection(grants=(("own", True, True), ("ministry", True, False),
                                  ("isp", True, False)))
    n.cli("asset", "add", "--org", "ministry", "10.20.0.0/16", "gov.example", "--data", n.data)
    toks = {"own": n.admin_token, "ministry": n.token("ministry"), "isp": n.token("isp")}
    yield types.SimpleNamespace(n=n, shared=shared, toks=toks)
    n.stop()


def api(cw, method, path, who="own", body=None):
    h = {"Accept": JSON, "Authorization": f"Bearer {cw.toks[who]}"}
    if body is not None:
        h["Content-Type"] = JSON
    return requests.request(method, cw.n.url + "/api/v1/" + path, headers=h, timeout=30,
                            data=None if body is None else json.dumps(body))


def full_page(d):
    """The whole page in the screenshot, from its top."""
    h = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1280, min(max(h + 40, 900), 2400))
    d.execute_script("window.scrollTo(0, 0)")


def test_upload_reports_each_line_and_holds_overlaps(cw):
    csv = ("# isp assets\n"
           "prefix,10.0.0.0/8\n"      # holds the ministry's /16: pending
           "isp.example\n"
           "10.99.1.1/16\n"           # host bits: refused, with the network meant
           "asn,AS0\n"                # reserved: refused
           "\n"
           "AS64500\n")
    r = api(cw, "POST", "assets/import", body={"org": "isp", "csv": csv})
    assert r.status_code == 200, r.text
    out = r.json()
    got = {(x["line"], x["status"]) for x in out["lines"]}
    assert got == {(2, "pending"), (3, "active"), (4, "refused"), (5, "refused"),
                   (7, "active")}, out
    assert (out["declared"], out["refused"]) == (3, 2)
    line = {x["line"]: x for x in out["lines"]}
    assert "ministry's 10.20.0.0/16" in line[2]["overlaps"]
    assert "the network is 10.99.0.0/16" in line[4]["error"]
    # the same declarations the CLI lists, each an audit record
    cli = json.loads(cw.n.cli("asset", "list", "--org", "isp", "--json", "--data",
                              cw.n.data).stdout)["assets"]
    assert {a["asset"] for a in cli} == {"10.0.0.0/8", "isp.example", "AS64500"}
    assert "isp.example" in cw.n.cli("audit", "--json", "--data", cw.n.data).stdout


def test_constituent_sees_its_own_only_and_may_change_nothing(cw):
    r = api(cw, "GET", "assets?org=ministry", who="isp")  # asks for another org's
    assert r.status_code == 200
    mine = r.json()["assets"]
    assert mine and {a["org"] for a in mine} == {"isp"}
    pending = [a for a in mine if a["status"] == "pending"]
    # not what it overlaps: that is the ministry's declaration
    assert pending and all(a["overlaps"] == "" for a in pending)
    assert "10.20.0.0/16" not in r.text and "ministry" not in r.text
    for method, path, body in (("POST", "assets", {"org": "isp", "assets": ["192.0.2.0/24"]}),
                               ("POST", "assets/import", {"org": "isp", "csv": "192.0.2.0/24"}),
                               ("POST", f"assets/{pending[0]['id']}/approve", None),
                               ("DELETE", f"assets/{mine[0]['id']}", None)):
        assert api(cw, method, path, who="isp", body=body).status_code == 404, path
    ind = indicator(tlp=TLP_GREEN, value="10.20.5.5")
    cw.n.post_ok(cw.shared, [ind])
    wait_for(lambda: api(cw, "GET", "notifications", who="ministry").json()["notifications"],
             timeout=15, step=0.2)
    assert api(cw, "GET", "notifications", who="isp").json()["notifications"] == []
    n = api(cw, "GET", "notifications?org=isp", who="ministry").json()["notifications"]
    assert [x["value"] for x in n] == ["10.20.5.5"] and n[0]["org"] == "ministry"


def test_own_org_approves_removes_and_filters(cw):
    a = {x["asset"]: x for x in api(cw, "GET", "assets?org=isp").json()["assets"]}
    r = api(cw, "POST", f"assets/{a['10.0.0.0/8']['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = api(cw, "DELETE", f"assets/{a['isp.example']['id']}")
    assert r.status_code == 200 and r.json()["status"] == "removed"
    assert api(cw, "DELETE", f"assets/{a['isp.example']['id']}").status_code == 404
    now = {x["asset"]: x["status"] for x in api(cw, "GET", "assets?org=isp").json()["assets"]}
    assert now == {"10.0.0.0/8": "active", "AS64500": "active"}
    cw.n.post_ok(cw.shared, [indicator(tlp=TLP_GREEN, value="10.77.0.1"),
                             indicator(tlp=TLP_GREEN, pattern="[domain-name:value = "
                                       "'www.gov.example']")])
    wait_for(lambda: len(api(cw, "GET", "notifications").json()["notifications"]) >= 3,
             timeout=15, step=0.2)
    isp = api(cw, "GET", "notifications?org=isp").json()["notifications"]
    assert [x["value"] for x in isp] == ["10.77.0.1"]
    dom = api(cw, "GET", "notifications?asset=gov.example").json()["notifications"]
    assert [x["value"] for x in dom] == ["www.gov.example"]
    assert api(cw, "GET", "notifications?limit=0").status_code == 400
    assert api(cw, "GET", "notifications?org=nobody").status_code == 404


def test_early_warning_page_in_the_browser(cw, browser, shots):  # noqa: F811
    d, n = browser, cw.n
    n.cli("asset", "add", "--org", "isp", "10.20.30.0/24", "--data", n.data)  # pending
    signin(d, n, n.admin_token)
    go(d, n, "notifications", "#ew-assets table")
    rows = d.find_elements(By.CSS_SELECTOR, "#ew-assets tbody tr")
    # pending claims first, highlighted, with an approve button
    assert rows[0].get_attribute("class") == "pending"
    assert rows[0].get_attribute("data-asset") == "10.20.30.0/24"
    assert rows[0].find_elements(By.CSS_SELECTOR, "button.approve")
    assert "1 claim waits" in d.find_element(By.ID, "ew-pending").text
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#ew-notes tbody tr"))
    d.find_element(By.ID, "ew-org").send_keys("ministry")
    d.find_element(By.ID, "ew-csv").send_keys("mail.gov.example\n@mail.gov.example\n"
                                              "198.51.100.7/24\n10.0.0.0/8\n")
    d.find_element(By.ID, "ew-declare").click()
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#ew-lines tbody tr"))
    lines = d.find_element(By.ID, "ew-upload-result").text
    assert "3 declared, 1 refused" in lines, lines
    assert "the network is 198.51.100.0/24" in lines
    assert "overlaps org isp's 10.0.0.0/8" in lines  # the ministry's 10/8: to approve
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ew-assets tr.pending")) == 2)
    full_page(d)
    d.save_screenshot(str(shots / "early-warning.png"))
    # approve the isp's pending claim: the page (and the CLI) agree
    row = d.find_element(By.CSS_SELECTOR, '#ew-assets tr[data-asset="10.20.30.0/24"]')
    row.find_element(By.CSS_SELECTOR, "button.approve").click()
    wait(d, lambda d: "Approved 10.20.30.0/24" in d.find_element(By.ID, "ew-msg").text)
    cli = n.cli("asset", "list", "--org", "isp", "--data", n.data).stdout
    assert "10.20.30.0/24\tactive" in cli, cli
    # the constituent's view: its own assets and notifications only
    d.delete_all_cookies()
    signin(d, n, cw.toks["ministry"])
    go(d, n, "notifications", "#ew-notes table")
    page = d.find_element(By.ID, "main").text
    assert "Your assets" in page and "10.20.0.0/16" in page and "10.20.5.5" in page
    assert "isp" not in d.find_element(By.ID, "ew-assets").text
    assert not d.find_elements(By.ID, "ew-upload") and not d.find_elements(By.CSS_SELECTOR,
                                                                           "button.approve")
    full_page(d)
    d.save_screenshot(str(shots / "early-warning-constituent.png"))
