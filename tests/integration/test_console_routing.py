"""The console's Routing page: the BGP sensor's alerts (STIX observed-data
under the routing-alert extension) through the read decision every page
uses, by kind, with the sensor's status: `serve --rtr` keeping the VRPs of
a real RTR cache (Debian's stayrtr) current. JSON API first, then the page
in a real headless Chromium (fixtures of test_console_browser.py);
screenshots to $MERIDIAN_SCREENSHOTS (docs/img/routing.png is one)."""
import copy
import json
import uuid

import pytest
from selenium.webdriver.common.by import By

from node import TLP_RED, start_node, wait_for
from test_bgp_detect import DET
from test_bgp_rtr import Stayrtr, VRPS_A, VRPS_B, write_vrps
from test_console_browser import browser, go, shots, signin, wait  # noqa: F401 (fixtures)

EXT = "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"
RED_PREFIX = "10.99.0.0/16"


@pytest.fixture(scope="module")
def rw(tmp_path_factory, meridian_bin):
    tmp = tmp_path_factory.mktemp("routing")
    cache = Stayrtr(tmp, VRPS_A)
    n = start_node(meridian_bin, tmp / "node", extra_args=("--rtr", cache.addr))
    try:
        n.org("px", "partner")
        cid = n.collection(alias="routing", grants=(("own", True, True), ("px", True, False)))
        out = tmp / "alerts.json"
        p = n.cli("bgp", "scan", "--vrps", DET / "vrps.csv", "--config", DET / "config.json",
                  "--as-rel", DET / "as-rel.txt", "--stix", out, "--tlp", "green",
                  DET / "rib.mrt", DET / "updates.mrt", check=False)
        assert p.returncode == 1, p.stderr  # events found
        n.cli("import", "--data", n.data, "--collection", cid, out)
        # One more hijack alert, TLP:RED: the partner must find no trace of it.
        hijack = [o for o in json.loads(out.read_text())["objects"]
                  if o["type"] == "observed-data" and o["extensions"][EXT]["kind"] == "hijack"][0]
        red = copy.deepcopy(hijack)
        red["id"] = f"observed-data--{uuid.uuid4()}"
        red["extensions"][EXT]["prefix"] = RED_PREFIX
        red["extensions"][EXT]["matched_prefix"] = RED_PREFIX
        red["object_marking_refs"] = [TLP_RED]
        n.post_ok(cid, [red])
        yield {"node": n, "cache": cache, "px": n.token("px"), "red": red["id"]}
    finally:
        n.stop()
        cache.stop()


def routing(n, token):
    r = n.req("GET", "/api/v1/routing", token=token, accept="application/json")
    assert r.status_code == 200, r.text
    return r.json()


def test_api_lists_alerts_by_kind_with_sensor_status(rw):
    n = rw["node"]
    doc = routing(n, "admin")
    assert doc["by_kind"] == {"hijack": 7, "leak": 2, "outage": 2, "rpki-invalid": 0}
    assert len(doc["alerts"]) == 11 and not doc["more"]
    red = [a for a in doc["alerts"] if a["id"] == rw["red"]]
    assert len(red) == 1 and red[0]["tlp"] == "red" and red[0]["victim_prefix"] == RED_PREFIX
    first = [a["first_seen"] for a in doc["alerts"]]
    assert first == sorted(first, reverse=True)  # newest first
    for a in doc["alerts"]:
        assert a["collection"] and a["first_seen"] and a["last_seen"], a
        if a["kind"] == "hijack":
            assert a["victim_prefix"] and a["type"], a
        if a["kind"] == "leak":
            assert a["culprit_as"] and a["victim_as"], a
    # The sensor: serve's RTR client holds exactly the cache's VRPs.
    src = doc["sensor"]["sources"][0]
    assert src["source"] == "rtr://" + rw["cache"].addr
    assert src["connected"] and src["has_data"] and src["vrps"] == len(VRPS_A), src
    assert doc["sensor"]["bmp"] is None


def test_partner_sees_no_red_alert_and_no_sensor(rw):
    doc = routing(rw["node"], rw["px"])
    assert doc["by_kind"] == {"hijack": 6, "leak": 2, "outage": 2, "rpki-invalid": 0}
    assert rw["red"] not in json.dumps(doc) and RED_PREFIX not in json.dumps(doc)
    assert doc["sensor"] is None


def test_sensor_follows_the_cache(rw):
    """A change at the cache reaches serve by Serial Query; its status says so."""
    n, cache = rw["node"], rw["cache"]
    serial = routing(n, "admin")["sensor"]["sources"][0]["serial"]
    write_vrps(cache.file, VRPS_B)
    assert wait_for(lambda: routing(n, "admin")["sensor"]["sources"][0]["serial"] != serial,
                    timeout=30)
    src = routing(n, "admin")["sensor"]["sources"][0]
    assert src["vrps"] == len(VRPS_B) and src["last_query"] == "serial", src
    assert "rtr: rtr://" + cache.addr in n.stderr()  # logged
    write_vrps(cache.file, VRPS_A)


def test_routing_page(rw, browser, shots):  # noqa: F811 (fixtures)
    d, n = browser, rw["node"]
    signin(d, n, n.admin_token)
    go(d, n, "routing", "#routing-hijack table")
    text = d.find_element(By.ID, "main").text
    assert "Hijacks (7)" in text and "Route leaks (2)" in text and "Outages (2)" in text
    assert RED_PREFIX in d.find_element(By.ID, "routing-hijack").text
    sensor = d.find_element(By.ID, "sensor").text
    assert "rtr://" + rw["cache"].addr in sensor and "ok" in sensor
    assert d.find_elements(By.CSS_SELECTOR, "#routing-plot svg rect")
    d.save_screenshot(str(shots / "routing.png"))
    # The partner: the same page without the red alert nor the sensor.
    d.find_element(By.ID, "signout").click()
    wait(d, lambda d: d.find_elements(By.ID, "token"))
    signin(d, n, rw["px"])
    go(d, n, "routing", "#routing-hijack table")
    text = d.find_element(By.ID, "main").text
    assert "Hijacks (6)" in text and RED_PREFIX not in text and "rtr://" not in text
