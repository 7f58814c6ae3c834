"""Routing alerts travel the federation (issue 14): `meridian bgp scan
--stix` at node A, `meridian import` there (signed with A's key, marked
with the chosen TLP), B pulls them with the signature intact; an alert
marked TLP:RED stays at A."""
import json

import pytest

import mrt_gen as g
from test_bgp_detect import DET
from test_fed_propagation import Fed
from test_fed_signatures import sig_of

EXT = "extension-definition--55216efd-e6c2-52d8-b102-8ec96c5da078"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def alerts(fed, name, tmp_path, tlp, *inputs):
    out = tmp_path / f"alerts-{tlp}.json"
    n = fed.nodes[name]
    p = n.cli("bgp", "scan", "--vrps", DET / "vrps.csv", "--config", DET / "config.json",
              "--as-rel", DET / "as-rel.txt", "--stix", out, "--tlp", tlp, *inputs, check=False)
    assert p.returncode == 1, p.stderr  # events found
    bundle = json.loads(out.read_text())
    n.cli("import", "--data", n.data, "--collection", fed.coll[name], out)
    return bundle


def alert_objs(objs):
    return {o["id"]: o for o in objs if o["type"] == "observed-data" and EXT in o.get("extensions", {})}


def test_alert_reaches_peer_signed_and_respects_tlp(fed, tmp_path):
    fed.node("A")
    fed.node("B")
    fed.link("A", "B", "pull")
    green = alerts(fed, "A", tmp_path, "green", DET / "rib.mrt", DET / "updates.mrt")
    sent = alert_objs(green["objects"])
    kinds = sorted(o["extensions"][EXT]["kind"] for o in sent.values())
    assert kinds == ["hijack"] * 6 + ["leak"] * 2 + ["outage", "outage-end"]
    at_a = alert_objs(fed.objects("A"))
    assert set(at_a) == set(sent)
    fed.sync("B")
    at_b = alert_objs(fed.objects("B"))
    assert set(at_b) == set(sent)
    for oid, o in at_b.items():
        block = sig_of(o)
        assert block is not None and block["public_key"] == fed.pubkey("A"), o
        assert sig_of(at_a[oid]) == block  # the bytes A signed, unchanged
        assert o["extensions"][EXT] == sent[oid]["extensions"][EXT]
    hijack = [o for o in at_b.values() if o["extensions"][EXT].get("type") == "E|1|-|-"][0]
    refs = set(hijack["object_refs"])
    scos = {o["id"]: o for o in fed.objects("B") if o["id"] in refs}
    assert {o["type"] for o in scos.values()} == {"ipv4-addr", "autonomous-system"}
    assert 64666 in {o.get("number") for o in scos.values()}  # the hijacker
    assert "203.0.113.0/24" in {o.get("value") for o in scos.values()}
    green_id = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert all(o["object_marking_refs"] == [green_id] for o in at_b.values())

    # A new hijack, exported under TLP:RED, stays at A.
    upd = tmp_path / "updates-red.mrt"
    upd.write_bytes(g._update4(g.DETECT_PEERS[0], g.T0 + 500, [65101, 174, 65999],
                               ["203.0.113.0/24"]))
    red = alerts(fed, "A", tmp_path, "red", DET / "rib.mrt", upd)
    red_ids = set(alert_objs(red["objects"])) - set(sent)
    assert red_ids, "the red run must create new alerts"
    assert red_ids <= set(alert_objs(fed.objects("A")))
    fed.sync("B")
    assert not red_ids & set(alert_objs(fed.objects("B")))
