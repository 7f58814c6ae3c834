"""DNS alerts travel the federation (issue 18): `meridian dns check --stix`
at node A, `meridian import` there (signed with A's key, marked with the
chosen TLP), B pulls them with the signature intact; an alert marked
TLP:RED stays at A.

The finding is an outage of the parent side: the configured root is a UDP
port on 127.0.0.1 that this test reserved and closed, so every query is
refused at once and no network namespace is needed."""
import json
import socket

import pytest

from node import wait_for
from test_fed_propagation import Fed
from test_fed_signatures import sig_of

EXT = "extension-definition--0c9a3f5e-4d6b-5a0f-9d38-6f1f2b7f9a41"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def closed_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alerts(fed, name, tmp_path, tlp, zone):
    cfg, base, out = (tmp_path / f"{zone}cfg.json", tmp_path / f"{zone}base.json",
                      tmp_path / f"{zone}alerts-{tlp}.json")
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": zone}]}))
    base.write_text(json.dumps({"zones": [{"zone": zone, "ns": ["ns1." + zone], "ds": [],
                                           "glue": {}, "probes": {}}]}))
    n = fed.nodes[name]
    p = n.cli("dns", "check", "--config", cfg, "--baseline", base, "--stix", out, "--tlp", tlp,
              "--timeout", "300", "--retries", "0", check=False)
    assert p.returncode == 1, p.stderr  # a finding
    n.cli("import", "--data", n.data, "--collection", fed.coll[name], out)
    return json.loads(out.read_text())


def alert_objs(objs):
    return {o["id"]: o for o in objs
            if o["type"] == "observed-data" and EXT in o.get("extensions", {})}


def test_dns_alert_reaches_peer_signed_and_respects_tlp(fed, tmp_path):
    fed.node("A")
    fed.node("B")
    fed.link("A", "B", "pull")
    sent = alert_objs(alerts(fed, "A", tmp_path, "green", "gov.example.")["objects"])
    assert [(o["extensions"][EXT]["kind"], o["extensions"][EXT]["field"])
            for o in sent.values()] == [("outage", "parent")]
    fed.sync("B")
    at_a, at_b = alert_objs(fed.objects("A")), alert_objs(fed.objects("B"))
    assert set(at_b) == set(sent)
    for oid, o in at_b.items():
        block = sig_of(o)
        assert block is not None and block["public_key"] == fed.pubkey("A"), o
        assert sig_of(at_a[oid]) == block
        assert o["extensions"][EXT]["zone"] == "gov.example."
        assert o["object_marking_refs"] == [
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    domains = {o.get("value") for o in fed.objects("B") if o["type"] == "domain-name"}
    assert "gov.example" in domains

    red = set(alert_objs(alerts(fed, "A", tmp_path, "red", "mil.example.")["objects"]))
    assert red and red <= set(alert_objs(fed.objects("A")))
    fed.sync("B")
    assert not red & set(alert_objs(fed.objects("B")))


def test_sensor_inside_serve_stores_signed_alerts_that_peers_pull(fed, tmp_path):
    """`serve --dns-config ... --dns-collection ... --dns-tlp green`: the
    sensor's rounds store the alert in the collection, signed, and B pulls
    it; later rounds update the same alert (one id)."""
    a = fed.node("A", start=False)
    fed.node("B")
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    # alert_refresh 1: the unchanged outage is stored again every round
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}], "interval": 1,
                               "alert_refresh": 1}))
    base.write_text(json.dumps({"zones": [{"zone": "gov.example.", "ns": ["ns1.gov.example."],
                                           "ds": [], "glue": {}, "probes": {}}]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()
    fed.link("A", "B", "pull")
    wait_for(lambda: len(alert_objs(fed.objects("A"))) == 1, timeout=60)
    at_a = alert_objs(fed.objects("A"))
    (alert,) = at_a.values()
    assert alert["extensions"][EXT]["kind"] == "outage"
    assert sig_of(alert)["public_key"] == fed.pubkey("A")
    # A later round is a new version of the same alert, not a new alert.
    wait_for(lambda: [o["modified"] for o in alert_objs(fed.objects("A")).values()]
             != [alert["modified"]], timeout=60)
    assert set(alert_objs(fed.objects("A"))) == set(at_a)
    fed.sync("B")
    assert set(alert_objs(fed.objects("B"))) == set(at_a)


def test_sensor_resumes_open_findings_after_a_restart(fed, tmp_path):
    """serve restarted while an outage is open: the rounds after the
    restart update the same alert (same id and first_observed: not raised
    again as new), and when the outage ends after the restart its end is
    still stored, as outage-end of that alert."""
    a = fed.node("A", start=False)
    cfg, base, port = tmp_path / "sensor.json", tmp_path / "sensorbase.json", closed_port()

    def watch(zone):
        cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{port}"]},
                                   "zones": [{"zone": zone}], "interval": 1}))

    watch("gov.example.")
    base.write_text(json.dumps({"zones": [
        {"zone": z, "ns": ["ns1." + z], "ds": [], "glue": {}, "probes": {}}
        for z in ("gov.example.", "mil.example.")]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()
    wait_for(lambda: len(alert_objs(fed.objects("A"))) == 1, timeout=60)
    ((oid, before),) = alert_objs(fed.objects("A")).items()
    a.stop()

    def rounds():
        return a.stderr().count("dns sensor: round done")

    done = rounds()
    a.start()
    wait_for(lambda: rounds() >= done + 2, timeout=60)  # two rounds after the restart
    after = alert_objs(fed.objects("A"))
    assert set(after) == {oid}, "the open outage was raised again as a new alert"
    assert after[oid]["first_observed"] == before["first_observed"]
    assert after[oid]["extensions"][EXT]["kind"] == "outage"
    a.stop()

    # gov.example. is no longer failing (no longer watched): its outage ended.
    watch("mil.example.")
    a.start()
    wait_for(lambda: alert_objs(fed.objects("A")).get(oid, {}).get("extensions", {})
             .get(EXT, {}).get("kind") == "outage-end", timeout=60)
    ended = alert_objs(fed.objects("A"))[oid]["extensions"][EXT]
    assert ended["zone"] == "gov.example." and ended["first_seen"] == \
        before["extensions"][EXT]["first_seen"]


def test_lasting_finding_is_not_stored_every_round(fed, tmp_path):
    """An outage that goes on unchanged is stored once, not once per round:
    a new version only when it changes or alert_refresh (default an hour)
    has passed since the last one."""
    a = fed.node("A", start=False)
    cfg, base = tmp_path / "sensor.json", tmp_path / "sensorbase.json"
    cfg.write_text(json.dumps({"root": {"servers": [f"127.0.0.1:{closed_port()}"]},
                               "zones": [{"zone": "gov.example."}], "interval": 1}))
    base.write_text(json.dumps({"zones": [{"zone": "gov.example.", "ns": ["ns1.gov.example."],
                                           "ds": [], "glue": {}, "probes": {}}]}))
    a.extra_args += ["--dns-config", str(cfg), "--dns-baseline", str(base), "--dns-collection",
                     fed.coll["A"], "--dns-tlp", "green"]
    a.start()

    def rounds():
        return a.stderr().count("dns sensor: round done")

    wait_for(lambda: rounds() >= 4, timeout=60)
    ((oid, alert),) = alert_objs(fed.objects("A")).items()
    r = a.get(a.objects_path(fed.coll["A"], a.root) + oid + "/versions/")
    assert r.status_code == 200, r.text
    assert r.json()["versions"] == [alert["modified"]], r.json()
    assert a.stderr().count("findings, 0 alerts stored") >= 3  # the rounds after the first


def test_extension_definition_versions_old_and_new_accepted(fed, tmp_path):
    """The DNS alert extension-definition is at version 1.2 (its schema text
    lists injection and the links to routing alerts); a bundle made under version 1.0 (same id, older
    modified) is still accepted beside it, and both alerts read the same."""
    n = fed.node("A")
    new = alerts(fed, "A", tmp_path, "green", "gov.example.")
    (defn,) = [o for o in new["objects"] if o["id"] == EXT]
    assert defn["version"] == "1.2" and "injection" in defn["schema"]
    assert "related" in defn["schema"]
    assert defn["modified"] > defn["created"]
    old = json.loads(json.dumps(new))
    for o in old["objects"]:
        if o["id"] == EXT:
            o.update(version="1.0", modified=o["created"],
                     schema="Meridian DNS alert, version 1.0. A property extension of "
                            "observed-data. Members: kind (delegation, divergence, dnssec, "
                            "outage, outage-end); zone; name; vantage; expected; observed.")
        elif o["type"] == "observed-data":
            o["id"] = "observed-data--6f0c4f7e-1b52-5d0b-8c61-0d7b2f3a9e10"
            o["extensions"][EXT]["zone"] = "old.example."
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    p = n.cli("import", "--data", n.data, "--collection", fed.coll["A"], old_path, check=False)
    assert p.returncode == 0, p.stderr
    at_a = alert_objs(fed.objects("A"))
    assert {o["extensions"][EXT]["zone"] for o in at_a.values()} == {"gov.example.",
                                                                     "old.example."}
    r = n.get(n.objects_path(fed.coll["A"], n.root) + EXT + "/versions/")
    assert r.status_code == 200, r.text
    assert sorted(r.json()["versions"]) == sorted([defn["created"], defn["modified"]])
