"""The console's DNS page: the DNS sensor inside `serve` (watched zones,
their state, open findings, the last check) for the node's own org only.
The finding is an outage of the parent side: the configured root is a UDP
port on 127.0.0.1 that this test reserved and closed, so every query is
refused at once (as in test_dns_fed.py). JSON API first, then the page in
a real headless Chromium (fixtures of test_console_browser.py);
screenshots to $MERIDIAN_SCREENSHOTS (docs/img/dns.png is one)."""
import json

import pytest
from selenium.webdriver.common.by import By

from node import Node, wait_for
from test_console_browser import browser, go, shots, signin, wait  # noqa: F401 (fixtures)
from test_dns_fed import closed_port


@pytest.fixture(scope="module")
def dw(tmp_path_factory, meridian_bin):
    tmp = tmp_path_factory.mktemp("dnspage")
    cfg, base = tmp / "dns.json", tmp / "baseline.json"
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}, {"zone": "quiet.example."}],
                               "vantages": [], "interval": 1}))
    base.write_text(json.dumps({"zones": [
        {"zone": z, "ns": ["ns1." + z], "ds": [], "glue": {}, "probes": {}}
        for z in ("gov.example.", "quiet.example.")]}))
    (tmp / "node").mkdir()
    n = Node(meridian_bin, tmp / "node")
    n.init()
    n.org("px", "partner")
    cid = n.collection(alias="dns", grants=(("own", True, True), ("px", True, False)))
    n.extra_args = list(n.extra_args) + ["--dns-config", str(cfg), "--dns-baseline", str(base),
                                         "--dns-collection", cid, "--dns-tlp", "green"]
    n.start()
    try:
        wait_for(lambda: n.stderr().count("dns sensor: round done") >= 1, timeout=60)
        yield {"node": n, "px": n.token("px")}
    finally:
        n.stop()


def dns(n, token):
    return n.req("GET", "/api/v1/dns", token=token, accept="application/json")


def test_api_zones_open_findings_and_sensor(dw):
    n = dw["node"]
    r = dns(n, "admin")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["round"] and doc["sensor"]["last_round"]
    zones = {z["zone"]: z for z in doc["zones"]}
    # Both zones fail at the parent (nobody answers the root), each one open outage.
    assert set(zones) == {"gov.example.", "quiet.example."}
    for z in zones.values():
        assert z["state"] == "findings" and z["open"] == 1 and z["kinds"] == ["outage"], z
        assert z["last_check"] == doc["round"]
    assert {(a["kind"], a["zone"], a["field"], a["open"], a["tlp"]) for a in doc["alerts"]} == {
        ("outage", "gov.example.", "parent", True, "green"),
        ("outage", "quiet.example.", "parent", True, "green")}
    assert sorted(doc["sensor"]["zones"]) == ["gov.example.", "quiet.example."]
    assert doc["sensor"]["interval"] == 1 and doc["sensor"]["vantages"] == []


def test_api_refuses_other_orgs(dw):
    r = dns(dw["node"], dw["px"])
    assert r.status_code == 403, r.text
    assert "gov.example" not in r.text


def test_dns_page(dw, browser, shots):  # noqa: F811 (fixtures)
    d, n = browser, dw["node"]
    signin(d, n, n.admin_token)
    go(d, n, "dns", "#dns-zones table")
    zones = d.find_element(By.ID, "dns-zones").text
    assert "gov.example." in zones and "quiet.example." in zones and "1 open: outage" in zones
    assert "Open findings (2)" in d.find_element(By.ID, "dns-open").text
    assert "Outages (2)" in d.find_element(By.ID, "dns-outage").text
    assert "every 1 s" in d.find_element(By.ID, "dns-sensor").text
    assert d.find_element(By.CSS_SELECTOR, "#nav a[data-page=dns]").text == "DNS"
    d.save_screenshot(str(shots / "dns.png"))
    # A partner's user: no zone, no finding.
    d.find_element(By.ID, "signout").click()
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    signin(d, n, dw["px"])
    go(d, n, "dns", "#main p.empty")
    text = d.find_element(By.ID, "main").text
    assert "own organisation" in text and "gov.example" not in text
