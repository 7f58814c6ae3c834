"""Early warning through every way an object reaches the node (issue 19,
docs/notify.md): a TAXII POST, a federation pull from a real peer node,
`meridian import`, a feed served over HTTP, the matcher's sightings
(`meridian match --report`), the routing sensor's alerts (`meridian bgp
scan --stix`, imported). Each finding for constituent alpha's network or
domain reaches alpha exactly once, as a signed STIX object alpha GETs over
TAXII from its own early-warning collection; beta, another constituent,
sees nothing of it; TLP decides as a read by alpha would; a claim on
alpha's network waiting for approval gives the claimant nothing."""
import json
import types
import uuid

import pytest

from node import (TLP_AMBER, TLP_GREEN, TLP_RED, ew_collections, ew_objects, indicator,
                  start_node, stix_now, wait_for)
from test_bgp_detect import DET
from test_fed_propagation import Fed
from test_feeds import FeedServer

SIG_EXT = "extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01"


@pytest.fixture(scope="module")
def ew(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("paths"))
    n.org("alpha", "constituent")
    n.org("beta", "constituent")
    shared = n.collection(grants=(("own", True, True), ("alpha", True, False),
                                  ("beta", True, False)))
    secret = n.collection(grants=(("own", True, True), ("beta", True, False)))
    n.cli("asset", "add", "--org", "alpha", "10.20.0.0/16", "alpha.example", "203.0.113.0/24",
          "--data", n.data)
    n.cli("asset", "add", "--org", "beta", "10.30.0.0/16", "beta.example", "--data", n.data)
    tok = {"alpha": n.token("alpha"), "beta": n.token("beta")}
    yield types.SimpleNamespace(n=n, shared=shared, secret=secret, tok=tok,
                                bin=meridian_bin, tmp=tmp_path_factory)
    n.stop()


def told(ew, org, **props):
    """alpha's early-warning objects whose properties include props."""
    return [o for o in ew_objects(ew.n, org, ew.tok[org])
            if all(o.get(k) == v for k, v in props.items())]


def reaches_alpha_only(ew, **props):
    """Waits until alpha was told (props), then checks: once, readable by
    alpha by id over TAXII, signed by the node, TLP:RED; beta was told
    nothing of it and cannot read alpha's collection. Returns the object."""
    wait_for(lambda: told(ew, "alpha", **props), timeout=15, step=0.2)
    got = told(ew, "alpha", **props)
    assert len(got) == 1, got
    o = got[0]
    assert o["object_marking_refs"] == [TLP_RED]
    assert SIG_EXT in o.get("extensions", {}), "created here: signed with the node key"
    coll = [c for c in ew_collections(ew.n, ew.tok["alpha"]) if c["alias"] == "alpha"][0]
    path = ew.n.objects_path(coll["id"], root="early-warning") + o["id"] + "/"
    r = ew.n.get(path, token=ew.tok["alpha"])
    assert r.status_code == 200 and r.json()["objects"][0]["id"] == o["id"], r.text
    # beta: not in its collection, not in its listing, not readable by id
    assert not told(ew, "beta", **props)
    assert "alpha" not in {c["alias"] for c in ew_collections(ew.n, ew.tok["beta"])}
    assert ew.n.get(path, token=ew.tok["beta"]).status_code in (403, 404)
    return o


def test_sighting_posted_over_taxii(ew):
    ind = indicator(tlp=TLP_GREEN, value="10.20.1.1")
    ew.n.post_ok(ew.shared, [ind])
    first = reaches_alpha_only(ew, x_meridian_object_ref=ind["id"])
    assert first["type"] == "sighting" and first["sighting_of_ref"] == ind["id"]
    assert first["x_meridian_asset"] == "10.20.0.0/16" and first["x_meridian_finding"] == \
        "indicator"
    assert first["x_meridian_value"] == "10.20.1.1"
    sighting = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                "created": stix_now(), "modified": stix_now(), "sighting_of_ref": ind["id"],
                "count": 2, "object_marking_refs": [TLP_GREEN]}
    ew.n.post_ok(ew.shared, [sighting])
    o = reaches_alpha_only(ew, x_meridian_object_ref=sighting["id"])
    # a sighting input is told as a sighting of what it sights
    assert o["type"] == "sighting" and o["sighting_of_ref"] == ind["id"]
    assert o["x_meridian_finding"] == "sighting" and o["x_meridian_value"] == "10.20.1.1"
    # the node's and alpha's identities are in the collection: the refs resolve
    idents = {x["id"]: x for x in told(ew, "alpha", type="identity")}
    assert o["created_by_ref"] in idents and o["where_sighted_refs"][0] in idents
    assert idents[o["where_sighted_refs"][0]]["name"] == "alpha"


def test_what_alpha_pulls_is_valid_stix(ew, tmp_path):
    wait_for(lambda: told(ew, "alpha", type="sighting"), timeout=15, step=0.2)
    f = tmp_path / "alpha.json"
    f.write_text(json.dumps(ew_objects(ew.n, "alpha", ew.tok["alpha"])))
    p = ew.n.cli("validate", f, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_finding_for_a_domain_posted_over_taxii(ew):
    sco = {"type": "domain-name", "spec_version": "2.1",
           "id": f"domain-name--{uuid.uuid4()}", "value": "mail.alpha.example",
           "object_marking_refs": [TLP_GREEN]}
    ew.n.post_ok(ew.shared, [sco])
    o = reaches_alpha_only(ew, x_meridian_object_ref=sco["id"])
    assert o["type"] == "note" and o["object_refs"] == [sco["id"]]
    assert o["x_meridian_asset"] == "alpha.example" and "mail.alpha.example" in o["content"]


def test_import(ew, tmp_path):
    ind = indicator(tlp=TLP_GREEN, value="10.20.3.3")
    f = tmp_path / "bundle.json"
    f.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                             "objects": [ind]}))
    ew.n.cli("import", "--collection", ew.shared, "--data", ew.n.data, f)
    reaches_alpha_only(ew, x_meridian_object_ref=ind["id"], x_meridian_value="10.20.3.3")


def test_feed(ew):
    server = FeedServer()
    try:
        server.put("/list.txt", "# a list\n10.20.4.4\nphish.alpha.example\n", etag='"v1"')
        ew.n.cli("feed", "add", "blocklist", "--url", server.url + "/list.txt", "--format",
                 "text", "--collection", ew.shared, "--interval", "1h", "--tlp", "green", "--disable", "--data",
                 ew.n.data)
        p = ew.n.cli("feed", "fetch", "blocklist", "--data", ew.n.data)
        assert "2 added" in p.stderr, p.stderr
    finally:
        server.close()
    reaches_alpha_only(ew, x_meridian_value="10.20.4.4")
    reaches_alpha_only(ew, x_meridian_value="phish.alpha.example")


def test_matcher_sighting(ew, tmp_path):
    ind = indicator(tlp=TLP_GREEN, value="10.20.5.5")
    ew.n.post_ok(ew.shared, [ind])
    log = tmp_path / "access.log"
    log.write_text('10.20.5.5 - - [29/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"\n')
    p = ew.n.cli("match", "--data", ew.n.data, "--collection", ew.shared, "--report", ew.shared,
                 log)
    assert p.returncode == 0, p.stderr
    o = reaches_alpha_only(ew, x_meridian_finding="sighting", sighting_of_ref=ind["id"])
    assert o["x_meridian_value"] == "10.20.5.5"


def test_routing_alert_from_the_bgp_sensor(ew, tmp_path):
    out = tmp_path / "alerts.json"
    p = ew.n.cli("bgp", "scan", "--vrps", DET / "vrps.csv", "--config", DET / "config.json",
                 "--as-rel", DET / "as-rel.txt", "--stix", out, "--tlp", "green",
                 DET / "rib.mrt", DET / "updates.mrt", check=False)
    assert p.returncode == 1, p.stderr  # events found
    prefix = [o for o in json.loads(out.read_text())["objects"]
              if o["type"] == "ipv4-addr" and o["value"] == "203.0.113.0/24"]
    assert len(prefix) == 1
    ew.n.cli("import", "--data", ew.n.data, "--collection", ew.shared, out)
    o = reaches_alpha_only(ew, x_meridian_value="203.0.113.0/24")
    assert o["type"] == "note" and o["object_refs"] == [prefix[0]["id"]]
    assert o["x_meridian_asset"] == "203.0.113.0/24" and o["x_meridian_finding"] == "ipv4-addr"


def test_federation_pull_from_a_peer(ew, tmp_path):
    fed = Fed(ew.bin, tmp_path)
    fed.nodes["A"], fed.coll["A"] = ew.n, ew.shared
    ew.n.root = "api1"
    try:
        fed.node("P")
        fed.link("P", "A", "pull")
        ind = indicator(tlp=TLP_GREEN, pattern="[domain-name:value = 'vpn.alpha.example']")
        fed.post("P", [ind])
        fed.sync("A")
        o = reaches_alpha_only(ew, x_meridian_object_ref=ind["id"])
        assert o["x_meridian_value"] == "vpn.alpha.example"
    finally:
        del fed.nodes["A"]  # the module's node: stopped by its fixture
        fed.stop()


def test_tlp_decides_as_alphas_read_would(ew):
    # AMBER in a collection alpha may not read; RED for others: nothing.
    hidden = indicator(tlp=TLP_AMBER, value="10.20.8.1")
    ew.n.post_ok(ew.secret, [hidden])
    red = indicator(tlp=TLP_RED, value="10.20.8.2")
    ew.n.post_ok(ew.shared, [red])
    # routing goes in store order: once the next one is told, those were
    # routed too
    after = indicator(tlp=TLP_GREEN, value="10.20.8.3")
    ew.n.post_ok(ew.shared, [after])
    reaches_alpha_only(ew, x_meridian_object_ref=after["id"])
    for o in (hidden, red):
        assert not told(ew, "alpha", x_meridian_object_ref=o["id"])
    values = {o.get("x_meridian_value") for o in ew_objects(ew.n, "alpha", ew.tok["alpha"])}
    assert not {"10.20.8.1", "10.20.8.2"} & values
    # and the default policy tells nothing, not even that something was withheld
    assert not told(ew, "alpha", x_meridian_withheld=True)


def test_pending_claim_gives_the_claimant_nothing(ew):
    p = ew.n.cli("asset", "add", "--org", "beta", "10.20.9.0/24", "--data", ew.n.data)
    assert "pending" in p.stdout
    ind = indicator(tlp=TLP_GREEN, value="10.20.9.9")
    ew.n.post_ok(ew.shared, [ind])
    reaches_alpha_only(ew, x_meridian_object_ref=ind["id"])  # beta: nothing (checked there)
    lst = json.loads(ew.n.cli("notify", "list", "--org", "beta", "--json", "--data",
                              ew.n.data).stdout)["notifications"]
    assert not [x for x in lst if x["value"] == "10.20.9.9"]


def test_asset_only_names_the_asset_and_kind_never_the_object(meridian_bin, tmp_path):
    n = start_node(meridian_bin, tmp_path / "n", extra_args=["--notify.withheld", "asset-only"])
    try:
        n.org("alpha", "constituent")
        secret = n.collection()  # the own org's alone
        shared = n.collection(grants=(("own", True, True), ("alpha", True, False)))
        n.cli("asset", "add", "--org", "alpha", "10.20.0.0/16", "--data", n.data)
        tok = n.token("alpha")
        hidden = indicator(tlp=TLP_AMBER, value="10.20.7.7", name="operation nightjar")
        n.post_ok(secret, [hidden])
        seen = indicator(tlp=TLP_GREEN, value="10.20.7.8")
        n.post_ok(shared, [seen])
        wait_for(lambda: len(ew_objects(n, "alpha", tok)) >= 4, timeout=15, step=0.2)
        objs = ew_objects(n, "alpha", tok)
        withheld = [o for o in objs if o.get("x_meridian_withheld")]
        assert len(withheld) == 1, objs
        w = withheld[0]
        assert w["type"] == "note" and w["x_meridian_asset"] == "10.20.0.0/16"
        assert w["x_meridian_finding"] == "indicator"
        text = json.dumps(w)
        for secret_bit in (hidden["id"], "10.20.7.7", "nightjar", secret):
            assert secret_bit not in text, secret_bit
        me = [o for o in objs if o["type"] == "identity" and o["name"] == "alpha"][0]
        assert w["object_refs"] == [me["id"]]
        # the readable one is told in full
        assert [o for o in objs if o.get("x_meridian_object_ref") == seen["id"]]
        # the team's list keeps no id or value for it either
        lst = json.loads(n.cli("notify", "list", "--json", "--data", n.data).stdout)
        rows = [x for x in lst["notifications"] if x["value"] == ""]
        assert len(rows) == 1 and rows[0]["object_id"] == "" and rows[0]["asset"] == \
            "10.20.0.0/16"
    finally:
        n.stop()
