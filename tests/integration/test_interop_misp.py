"""MISP in and out (issue 12, docs/interop.md): events written here in MISP's
JSON layout (the fields a MISP 2.4 instance exports for an event, its
attributes, objects, tags, galaxies and sightings) import to the expected
STIX objects with the MISP UUIDs as ids, re-importing adds nothing, a MISP
feed exported by Meridian imports back to the same indicators, and bad
input is a clear error that stores nothing."""
import copy
import csv
import hashlib
import io
import json
import uuid

import pytest

from node import start_node

TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
EV = "5e7a9d8c-1b2c-4d3e-8f40-123456789abc"
ORG = "55f6ea5e-2c60-40e5-964f-47a8950d210f"


def u(n):
    return f"5e7a9d8c-{n:04x}-4d3e-8f40-123456789abc"


def attr(n, typ, value, to_ids=True, **extra):
    a = {"id": str(n), "type": typ, "category": "Network activity", "to_ids": to_ids,
         "uuid": u(n), "event_id": "1234", "distribution": "5", "timestamp": str(1772323200 + n),
         "comment": "", "sharing_group_id": "0", "deleted": False, "disable_correlation": False,
         "object_id": "0", "object_relation": None, "first_seen": None, "last_seen": None,
         "value": value}
    a.update(extra)
    return a


def event():
    org = {"id": "2", "name": "CERT-XX", "uuid": ORG, "local": True}
    return {"Event": {
        "id": "1234", "orgc_id": "2", "org_id": "2", "date": "2026-03-01", "threat_level_id": "1",
        "info": "Phishing campaign against ministries", "published": True, "uuid": EV,
        "attribute_count": "6", "analysis": "2", "timestamp": "1772323200", "distribution": "1",
        "proposal_email_lock": False, "locked": False, "publish_timestamp": "1772326800",
        "sharing_group_id": "0", "disable_correlation": False, "extends_uuid": "",
        "Org": org, "Orgc": org,
        "Tag": [{"id": "1", "name": "tlp:amber", "colour": "#FFC000", "exportable": True},
                {"id": "7", "name": "PAP:GREEN", "colour": "#33FF00", "exportable": True},
                {"id": "9", "name": "phishing", "colour": "#000000", "exportable": True}],
        "Attribute": [
            attr(1, "ip-dst", "198.51.100.23", comment="C2 server", Sighting=[
                {"id": "1", "attribute_id": "1", "event_id": "1234", "org_id": "2",
                 "date_sighting": "1772330000", "uuid": u(0x100), "source": "", "type": "0",
                 "Organisation": {"id": "2", "uuid": ORG, "name": "CERT-XX"}},
                {"id": "2", "attribute_id": "1", "event_id": "1234", "org_id": "2",
                 "date_sighting": "1772330001", "uuid": u(0x101), "source": "", "type": "1"}]),
            attr(2, "domain", "login-ministry.example", Tag=[{"name": "tlp:red"}]),
            attr(3, "url", "http://login-ministry.example/o'neil", to_ids=False),
            attr(4, "text", "free text", to_ids=False),
            attr(5, "ip-src|port", "2001:db8::5|443"),
            attr(6, "deleted", "x", deleted=True),
        ],
        "Object": [{"id": "1", "name": "file", "meta-category": "file", "uuid": u(0x200),
                    "timestamp": "1772323205", "Attribute": [
                        attr(7, "filename", "invoice.exe", to_ids=False),
                        attr(8, "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495"
                                          "991b7852b855")]}],
        "Galaxy": [{"id": "3", "uuid": "698774c7-8022-42c4-917f-8d6e4f06ada3",
                    "name": "Threat Actor", "type": "threat-actor", "GalaxyCluster": [
                        {"id": "9", "uuid": "7cdff317-a673-4474-84ec-4f1754947823",
                         "type": "threat-actor", "value": "APT28",
                         "tag_name": "misp-galaxy:threat-actor=\"APT28\"",
                         "description": "A threat actor."}]}],
    }}


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("misp"))
    yield n
    n.stop()


def objects(node, coll):
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "jsonl").stdout
    return {o["id"]: o for o in map(json.loads, out.splitlines())}


def test_misp_event_imports_to_the_expected_stix(node, tmp_path):
    coll = node.collection()
    f = tmp_path / "event.json"
    f.write_text(json.dumps(event()))
    p = node.cli("import", "--data", node.data, "--collection", coll, f)
    assert "MISP: 1 event, 8 attributes: 4 indicators, 1 observables, 1 galaxy objects, " \
           "1 sightings" in p.stderr, p.stderr
    got = objects(node, coll)
    ip, dom, v6, sha = (got[f"indicator--{u(n)}"] for n in (1, 2, 5, 8))
    assert ip["pattern"] == "[ipv4-addr:value = '198.51.100.23']"
    assert ip["valid_from"] == ip["created"] == ip["modified"] == "2026-03-01T00:00:01.000Z"
    assert ip["description"] == "C2 server" and ip["labels"] == ["phishing"]
    assert ip["created_by_ref"] == f"identity--{ORG}"
    assert TLP2_AMBER in ip["object_marking_refs"]
    pap = [m for m in ip["object_marking_refs"] if m != TLP2_AMBER]
    assert len(pap) == 1 and got[pap[0]]["definition"] == {"statement": "PAP:GREEN"}
    assert TLP2_RED in dom["object_marking_refs"]  # the attribute's tag is stricter
    assert v6["pattern"] == "[ipv6-addr:value = '2001:db8::5']"
    assert sha["pattern"].startswith("[file:hashes.'SHA-256' = 'e3b0c442")
    # to_ids false: an observable with the STIX deterministic id, quote escaped nowhere
    [url] = [o for o in got.values() if o["type"] == "url"]
    assert url["value"] == "http://login-ministry.example/o'neil"
    ns = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
    assert url["id"] == "url--" + str(uuid.uuid5(ns, json.dumps(
        {"value": url["value"]}, separators=(",", ":"))))
    assert got["threat-actor--7cdff317-a673-4474-84ec-4f1754947823"]["name"] == "APT28"
    s = got[f"sighting--{u(0x100)}"]
    assert s["sighting_of_ref"] == ip["id"] and s["count"] == 1
    assert f"sighting--{u(0x101)}" not in got  # a false positive is not a sighting
    rep = got[f"report--{EV}"]
    assert rep["name"] == "Phishing campaign against ministries"
    assert rep["published"] == "2026-03-01T00:00:00.000Z"
    assert set(rep["object_refs"]) == {ip["id"], dom["id"], v6["id"], sha["id"], url["id"],
                                       "threat-actor--7cdff317-a673-4474-84ec-4f1754947823"}
    # the deleted attribute, the text and the file name have no STIX form
    assert not any("free text" in json.dumps(o) or "invoice.exe" in json.dumps(o)
                   for o in got.values())
    # re-importing creates nothing new
    p = node.cli("import", "--data", node.data, "--collection", coll, f)
    assert "0 added" in p.stderr and "0 invalid" in p.stderr, p.stderr
    assert objects(node, coll).keys() == got.keys()
    # the REST search layout {"response": [{"Event": ...}]} is the same event
    g = tmp_path / "search.json"
    g.write_text(json.dumps({"response": [event()]}))
    p = node.cli("import", "--data", node.data, "--collection", coll, g)
    assert " 0 added" in p.stderr, p.stderr


def test_bad_misp_and_unknown_formats_are_errors_that_store_nothing(node, tmp_path):
    coll = node.collection()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(event()))
    node.cli("import", "--data", node.data, "--collection", coll, good)
    before = objects(node, coll)
    cases = {
        "no-uuid.json": (lambda e: e["Event"].pop("uuid"), "Event.uuid is missing"),
        "no-time.json": (lambda e: e["Event"].update(timestamp="yesterday"), "timestamp"),
        "attrs.json": (lambda e: e["Event"].update(Attribute={"a": 1}), "must be lists"),
    }
    for name, (spoil, words) in cases.items():
        e = event()
        spoil(e)
        e["Event"]["Attribute"] = e["Event"]["Attribute"] if isinstance(
            e["Event"]["Attribute"], dict) else [attr(99, "ip-dst", "192.0.2.99")]
        f = tmp_path / name
        f.write_text(json.dumps(e))
        p = node.cli("import", "--data", node.data, "--collection", coll, f, check=False)
        assert p.returncode == 1, p.stderr
        assert str(f) in p.stderr and words in p.stderr, p.stderr
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(event())[:-40])
    p = node.cli("import", "--data", node.data, "--collection", coll, truncated, check=False)
    assert p.returncode == 1 and "not JSON" in p.stderr and str(truncated) in p.stderr
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"events": [1, 2]}')
    p = node.cli("import", "--data", node.data, "--collection", coll, unknown, check=False)
    assert p.returncode == 1 and str(unknown) in p.stderr
    assert "expected a STIX 2.1 bundle" in p.stderr and "MISP event" in p.stderr
    notfeed = tmp_path / "notfeed"
    notfeed.mkdir()
    p = node.cli("import", "--data", node.data, "--collection", coll, notfeed, check=False)
    assert p.returncode == 1 and "manifest.json" in p.stderr
    assert objects(node, coll) == before  # nothing already stored was lost or added


def values(node, coll):
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "csv",
                   "--now", "2026-06-01T00:00:00Z").stdout
    return {(r[2], r[1], r[3]) for r in list(csv.reader(io.StringIO(out)))[1:]}


def test_misp_feed_round_trip(node, tmp_path):
    src = node.collection()
    f = tmp_path / "event.json"
    e = event()
    e["Event"]["Attribute"].append(attr(20, "md5", "D41D8CD98F00B204E9800998ECF8427E"))
    f.write_text(json.dumps(e))
    node.cli("import", "--data", node.data, "--collection", src, f)
    feed = tmp_path / "feed"
    feed.mkdir()
    p = node.cli("export", "--data", node.data, "--collection", src, "--format", "misp",
                 "--output", feed, "--now", "2026-06-01T00:00:00Z")
    manifest = json.loads((feed / "manifest.json").read_text())
    [ev_uuid] = manifest
    ev = json.loads((feed / f"{ev_uuid}.json").read_text())["Event"]
    assert ev["uuid"] == ev_uuid and manifest[ev_uuid]["info"] == ev["info"]
    assert all(a["to_ids"] is True and a["Tag"][0]["name"].startswith("tlp:")
               for a in ev["Attribute"])
    # hashes.csv: md5 of each value and the event uuid, as MISP's feed cache wants
    rows = [l.split(",") for l in (feed / "hashes.csv").read_text().splitlines()]
    assert sorted(h for h, _ in rows) == sorted(
        hashlib.md5(a["value"].encode()).hexdigest() for a in ev["Attribute"])
    assert {e for _, e in rows} == {ev_uuid}
    # the feed imports back to the same indicators: ids, values, TLP
    dst = node.collection()
    p = node.cli("import", "--data", node.data, "--collection", dst, feed)
    assert "0 invalid" in p.stderr, p.stderr
    assert values(node, dst) == values(node, src)
    assert len(values(node, src)) == 5
    # and again: nothing new
    p = node.cli("import", "--data", node.data, "--collection", dst, feed)
    assert " 0 added" in p.stderr, p.stderr
