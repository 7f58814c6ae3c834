#!/usr/bin/python3
"""Writes the conformance cases of this folder: one JSON document per case,
named <expected>-<what>.json with expected in {valid, invalid}.

The verdicts are MUST-level verdicts of STIX 2.1 (Errata 01), written down
as data after reading the test suites of the OASIS reference tools
(cti-stix-validator v21 tests, cti-stix2-json-schemas examples,
cti-python-stix2 tests) and checking each against the specification text.
Where the reference validator fails a document only in its strict mode
(a SHOULD-level check it lets you disable), the verdict here is "valid":
warnings do not make a document invalid.

Run it from anywhere; it rewrites every <valid|invalid>-*.json here.
"""
import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
CASES = {}

T0 = "2016-04-06T20:03:48.000Z"
T1 = "2016-04-06T20:03:48.000Z"
IDENT = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
MARK = "marking-definition--4478bf48-9af2-4afa-9fc5-7075f6af04af"


def sdo(type_, uuid, **kw):
    o = {"type": type_, "spec_version": "2.1", "id": f"{type_}--{uuid}",
         "created": T0, "modified": T1}
    o.update(kw)
    return o


BASE = {
    "attack-pattern": sdo("attack-pattern", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                          created_by_ref=IDENT, name="Spear Phishing",
                          external_references=[{"source_name": "capec",
                                                "external_id": "CAPEC-163"}]),
    "campaign": sdo("campaign", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                    created_by_ref=IDENT, name="Green Group Attacks Against Finance",
                    first_seen="2016-04-06T20:03:00Z", last_seen="2016-07-06T20:03:00Z"),
    "course-of-action": sdo("course-of-action", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                            name="Add TCP port 80 Filter Rule"),
    "grouping": sdo("grouping", "84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                    name="The Black Vine Cyberespionage Group", context="suspicious-activity",
                    object_refs=["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2",
                                 "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
    "identity": sdo("identity", "023d105b-752e-4e3c-941c-7d3f3cb15e9e",
                    name="John Smith", identity_class="individual"),
    "incident": sdo("incident", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="Breach"),
    "indicator": sdo("indicator", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                     created_by_ref=IDENT, name="Poison Ivy Malware",
                     indicator_types=["malicious-activity"],
                     pattern="[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
                     pattern_type="stix", valid_from="2016-01-01T00:00:00Z"),
    "infrastructure": sdo("infrastructure", "38c47d93-d984-4fd9-b87b-d69d0841628d",
                          name="Poison Ivy C2", infrastructure_types=["command-and-control"]),
    "intrusion-set": sdo("intrusion-set", "4e78f46f-a023-4e5f-bc24-71b3ca22ec29",
                         name="Bobcat Breakin", first_seen="2016-01-01T00:00:00Z"),
    "location": sdo("location", "a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
                    region="south-eastern-asia", country="th"),
    "malware": sdo("malware", "fdd60b30-b67c-41e3-b0b9-f01faf20d111",
                   name="Cryptolocker", malware_types=["ransomware"], is_family=True),
    "malware-analysis": sdo("malware-analysis", "d25167b7-fed0-4068-9ccd-a73dd2c5b07c",
                            product="microsoft", result="malicious"),
    "note": sdo("note", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", abstract="Tracking",
                content="This note indicates the various steps taken.",
                object_refs=["campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]),
    "observed-data": sdo("observed-data", "b67d30ff-02ac-498a-92f9-32f845f448cf",
                         first_observed="2015-12-21T19:00:00Z",
                         last_observed="2015-12-21T19:00:00Z", number_observed=50,
                         object_refs=["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"]),
    "opinion": sdo("opinion", "b01efc25-77b4-4003-b18b-f6e24b5cd9f7",
                   explanation="This doesn't seem like it is feasible.", opinion="strongly-disagree",
                   object_refs=["relationship--16d2358f-3b0d-4c88-b047-0da2f7ed4471"]),
    "report": sdo("report", "84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
                  name="The Black Vine Cyberespionage Group", published="2016-01-20T17:00:00.000Z",
                  report_types=["campaign"],
                  object_refs=["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"]),
    "threat-actor": sdo("threat-actor", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                        name="Evil Org", threat_actor_types=["crime-syndicate"]),
    "tool": sdo("tool", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", name="VNC",
                tool_types=["remote-access"]),
    "vulnerability": sdo("vulnerability", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                         name="CVE-2016-1234",
                         external_references=[{"source_name": "cve",
                                               "external_id": "CVE-2016-1234"}]),
    "relationship": sdo("relationship", "44298a74-ba52-4f0c-87a3-1824e67d7fad",
                        relationship_type="indicates",
                        source_ref="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                        target_ref="malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"),
    "sighting": sdo("sighting", "ee20065d-2555-424f-ad9e-0f8428623c75",
                    first_seen="2015-12-21T19:00:00Z", last_seen="2015-12-21T19:00:00Z",
                    count=50, sighting_of_ref="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                    where_sighted_refs=["identity--b67d30ff-02ac-498a-92f9-32f845f448ff"]),
    "marking-definition": {"type": "marking-definition", "spec_version": "2.1",
                           "id": MARK, "created": "2017-01-20T00:00:00.000Z",
                           "definition_type": "statement",
                           "definition": {"statement": "Copyright 2019, Example Corp"}},
    "language-content": {"type": "language-content", "spec_version": "2.1",
                         "id": "language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",
                         "created": "2017-02-08T21:31:22.007Z",
                         "modified": "2017-02-08T21:31:22.007Z",
                         "object_ref": "campaign--12a111f0-b824-4baf-a224-83b80237a094",
                         "object_modified": "2017-02-08T21:31:22.007Z",
                         "contents": {"de": {"name": "Bank Angriff 1",
                                             "description": "Weitere Informationen"},
                                      "fr": {"name": "Attaque Bank 1"}}},
    "extension-definition": sdo("extension-definition", "04b2d3ef-d061-4912-ab77-6bbe807a5bd5",
                                created_by_ref="identity--11b76a96-5d2b-45e0-8a5a-f6994f370731",
                                name="New SDO 1", description="creates my-favorite-sdo",
                                schema="https://www.example.com/schema-my-favorite-sdo-1/v1/",
                                version="1.2.1", extension_types=["new-sdo"]),
}


def sco(type_, uuid, **kw):
    o = {"type": type_, "spec_version": "2.1", "id": f"{type_}--{uuid}"}
    o.update(kw)
    return o


SCO = {
    "artifact": sco("artifact", "6f437177-6e48-5cf8-9d9e-872a2bddd641", mime_type="image/jpeg",
                    payload_bin="VBORw0KGgoAAAANSUhEUgAAADI=="),
    "autonomous-system": sco("autonomous-system", "f720c34b-98ae-597f-ade5-27ef187c0f9e",
                             number=15139, name="Slime Industries", rir="ARIN"),
    "directory": sco("directory", "93c0a9b0-520d-545d-9094-1a08ddf46b05", path="C:\\Windows\\System32"),
    "domain-name": sco("domain-name", "3c10e93f-798e-5a26-a0c1-08156efab7f5", value="example.com"),
    "email-addr": sco("email-addr", "2d77a846-6264-5d51-b586-e43822ea1ea3",
                      value="john@example.com", display_name="John Doe"),
    "email-message": sco("email-message", "72b7698f-10c2-565a-a2a6-b4996a2f2265",
                         is_multipart=False, subject="Check out this picture",
                         body="Hello"),
    "file": sco("file", "fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a", name="foo.dll",
                hashes={"SHA-256": "35a01331e9ad96f751278b891b6ea09699806faedfa237d40513d92ad1b7100f"}),
    "ipv4-addr": sco("ipv4-addr", "ff26c055-6336-5bc5-b98d-13d6226742dd", value="198.51.100.3"),
    "ipv6-addr": sco("ipv6-addr", "1e61d36c-a16c-53b7-a80f-2a00161c96b1", value="2001:0db8::/96"),
    "mac-addr": sco("mac-addr", "65cfcf98-8a6e-5a1b-8f61-379ac4f92d00", value="d2:fb:49:24:37:18"),
    "mutex": sco("mutex", "eba44954-d4e4-5d3b-814c-2b17dd8de300", name="__CLEANSWEEP__"),
    "network-traffic": sco("network-traffic", "2568d22a-8998-58eb-99ec-3c8ca74f527d",
                           src_ref="ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53",
                           dst_ref="ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                           protocols=["tcp"]),
    "process": sco("process", "f52a906a-0dfc-40bd-92f1-e7778ead38a9", pid=1221,
                   command_line="./gedit-bin --new-window"),
    "software": sco("software", "a1827f6d-ca53-5605-9e93-4316cd22a00a", name="Word",
                    cpe="cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*", version="2002",
                    vendor="Microsoft"),
    "url": sco("url", "c1477287-23ac-5971-a010-5c287877fa60",
               value="https://example.com/research/index.html"),
    "user-account": sco("user-account", "0d5b424b-93b8-5cd8-ac36-306e1789d63c",
                        user_id="1001", account_login="jdoe", account_type="unix",
                        display_name="John Doe"),
    "windows-registry-key": sco("windows-registry-key", "2ba37ae7-2745-5082-9dfd-9486dad41016",
                                key="hkey_local_machine\\system\\bar\\foo",
                                values=[{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}]),
    "x509-certificate": sco("x509-certificate", "463d7b2a-8516-5a50-a3d7-6f801465d5de",
                            issuer="C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc",
                            validity_not_before="2016-03-12T12:00:00Z",
                            validity_not_after="2016-08-21T12:00:00Z",
                            subject="C=US, ST=Maryland, L=Pasadena, O=Brent Baccala, OU=FreeSoft"),
}

ALL = {**BASE, **SCO}


class Raw(str):
    """A case whose file text is given as is (not JSON, or JSON with a
    quirk json.dumps would remove)."""


def case(expected, what, doc):
    assert expected in ("valid", "invalid")
    name = f"{expected}-{what}.json"
    assert name not in CASES, name
    CASES[name] = doc


def mut(expected, what, base, fn):
    o = copy.deepcopy(ALL[base] if isinstance(base, str) else base)
    fn(o)
    case(expected, what, o)


def setk(**kw):
    def f(o):
        o.update(kw)
    return f


def delk(*keys):
    def f(o):
        for k in keys:
            del o[k]
    return f


def bundle(*objs):
    return {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
            "objects": [copy.deepcopy(o) for o in objs]}


# ---- every well-formed base object, alone and in a bundle ----
for t, o in ALL.items():
    case("valid", f"{t}-wellformed", o)
case("valid", "bundle-of-everything", bundle(*ALL.values()))
case("valid", "list-of-objects", [BASE["identity"], BASE["malware"]])
case("valid", "bundle-empty-objects-absent",
     {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982"})

# ---- identifiers ----
mut("invalid", "id-type-mismatch", "indicator", setk(id="campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "id-no-uuid", "indicator", setk(id="indicator--foo"))
mut("invalid", "id-single-dash", "tool", setk(id="tool-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "id-uuid-bad-variant", "tool", setk(id="tool--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f"))
mut("invalid", "id-uuid-version-0", "tool", setk(id="tool--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"))
mut("invalid", "id-uuid-short", "tool", setk(id="tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3"))
mut("valid", "id-uuid-v1-sdo", "tool", setk(id="tool--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f"))
mut("valid", "id-uuid-v5-sdo", "tool", setk(id="tool--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f"))
mut("valid", "id-uuid-v4-sco", "ipv4-addr", setk(id="ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "id-missing", "malware", delk("id"))
mut("invalid", "id-number", "malware", setk(id=5))
mut("invalid", "created-by-ref-not-identity", "indicator",
    setk(created_by_ref="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "created-by-ref-bad-id", "indicator", setk(created_by_ref="identity--foo"))
mut("invalid", "ref-bad-format-in-refs", "report",
    setk(object_refs=["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2", "foo"]))

# ---- type names ----
mut("invalid", "type-uppercase", "tool",
    setk(type="Tool", id="Tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "type-too-short", "tool",
    setk(type="ab", id="ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "type-double-hyphen", "tool",
    setk(type="x--foo", id="x--foo--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "type-underscore", "tool",
    setk(type="x_foo", id="x_foo--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "type-missing", "tool", delk("type"))
mut("invalid", "type-not-string", "tool", setk(type=["tool"]))

# ---- common properties ----
for t in ["attack-pattern", "campaign", "indicator", "malware", "relationship", "sighting",
          "report", "identity", "note", "grouping", "tool", "vulnerability", "location",
          "opinion", "observed-data", "infrastructure", "intrusion-set", "threat-actor",
          "course-of-action", "malware-analysis", "incident"]:
    mut("invalid", f"{t}-no-created", t, delk("created"))
for t in ["campaign", "indicator", "relationship", "sighting", "identity"]:
    mut("invalid", f"{t}-no-modified", t, delk("modified"))
    mut("invalid", f"{t}-no-spec-version", t, delk("spec_version"))
    mut("invalid", f"{t}-spec-version-20", t, setk(spec_version="2.0"))
for t in ["file", "ipv4-addr", "url"]:
    mut("valid", f"{t}-no-spec-version", t, delk("spec_version"))
    mut("invalid", f"{t}-spec-version-20", t, setk(spec_version="2.0"))
    mut("invalid", f"{t}-no-id", t, delk("id"))
mut("invalid", "modified-before-created", "campaign", setk(modified="2016-04-06T20:03:47.000Z"))
mut("valid", "modified-equals-created", "campaign", setk(modified=T0))
mut("invalid", "revoked-not-bool", "campaign", setk(revoked="true"))
mut("valid", "revoked-true", "campaign", setk(revoked=True))
mut("invalid", "labels-empty", "campaign", setk(labels=[]))
mut("invalid", "labels-not-list", "campaign", setk(labels="a"))
mut("valid", "labels-free-text", "campaign", setk(labels=["Some Label", "x"]))
mut("invalid", "confidence-101", "campaign", setk(confidence=101))
mut("invalid", "confidence-negative", "campaign", setk(confidence=-1))
mut("invalid", "confidence-string", "campaign", setk(confidence="50"))
mut("valid", "confidence-100", "campaign", setk(confidence=100))
mut("valid", "confidence-0", "campaign", setk(confidence=0))
mut("valid", "lang-en", "campaign", setk(lang="en"))
mut("valid", "lang-region", "campaign", setk(lang="en-US"))
mut("invalid", "lang-not-a-tag", "campaign", setk(lang="en_US!"))
mut("invalid", "null-property", "campaign", setk(description=None))
mut("invalid", "external-ref-only-source", "campaign",
    setk(external_references=[{"source_name": "x"}]))
mut("invalid", "external-ref-no-source-name", "campaign",
    setk(external_references=[{"url": "http://x.com"}]))
mut("valid", "external-ref-url", "campaign",
    setk(external_references=[{"source_name": "x", "url": "http://x.com",
                               "hashes": {"SHA-256": "6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"}}]))
mut("invalid", "external-ref-bad-sha256", "campaign",
    setk(external_references=[{"source_name": "x", "url": "http://x.com",
                               "hashes": {"SHA-256": "6db12788"}}]))
mut("invalid", "external-refs-empty", "campaign", setk(external_references=[]))
mut("invalid", "external-ref-capec-without-id", "attack-pattern",
    setk(external_references=[{"source_name": "capec", "description": "phishing"}]))

# ---- timestamps ----
mut("invalid", "created-no-z", "campaign", setk(created="2016-04-06T20:03:48.000"))
mut("invalid", "created-offset", "campaign", setk(created="2016-04-06T20:03:48.000+01:00"))
mut("invalid", "created-month-13", "campaign", setk(created="2016-13-06T20:03:48.000Z"))
mut("invalid", "created-feb-30", "campaign", setk(created="2016-02-30T20:03:48.000Z"))
mut("invalid", "created-no-seconds", "campaign", setk(created="2016-04-06T20:03Z"))
mut("invalid", "created-date-only", "campaign", setk(created="2016-04-06"))
mut("invalid", "created-number", "campaign", setk(created=1459973028))
mut("valid", "created-microseconds", "campaign",
    setk(created="2016-04-06T20:03:48.123456Z", modified="2016-04-06T20:03:48.123456Z"))
mut("valid", "created-leap-day", "campaign",
    setk(created="2016-02-29T20:03:48.000Z", modified="2016-02-29T20:03:48.000Z"))
mut("invalid", "created-feb-29-non-leap", "campaign",
    setk(created="2017-02-29T20:03:48.000Z", modified="2017-03-29T20:03:48.000Z"))
mut("valid", "first-seen-no-fraction", "campaign", setk(first_seen="2016-04-06T20:03:48Z"))
mut("invalid", "last-seen-before-first-seen", "campaign",
    setk(first_seen="2016-04-06T20:03:00Z", last_seen="2016-04-05T20:03:00Z"))
mut("valid", "last-seen-equals-first-seen", "campaign",
    setk(first_seen="2016-04-06T20:03:00Z", last_seen="2016-04-06T20:03:00Z"))
mut("invalid", "intrusion-set-last-seen-before", "intrusion-set",
    setk(last_seen="2015-01-01T00:00:00Z"))
mut("invalid", "threat-actor-last-seen-before", "threat-actor",
    setk(first_seen="2016-01-01T00:00:00Z", last_seen="2015-01-01T00:00:00Z"))
mut("invalid", "malware-last-seen-before", "malware",
    setk(first_seen="2016-01-01T00:00:00Z", last_seen="2015-01-01T00:00:00Z"))
mut("invalid", "infrastructure-last-seen-before", "infrastructure",
    setk(first_seen="2016-01-01T00:00:00Z", last_seen="2015-01-01T00:00:00Z"))
mut("invalid", "created-bad-fraction", "campaign", setk(created="2016-04-06T20:03:48.Z"))
mut("invalid", "created-hour-25", "campaign", setk(created="2016-04-06T25:03:48.000Z"))

# ---- per-type required properties and values ----
REQ = {
    "attack-pattern": ["name"], "campaign": ["name"], "course-of-action": ["name"],
    "grouping": ["context", "object_refs"], "identity": ["name"], "incident": ["name"],
    "indicator": ["pattern", "pattern_type", "valid_from"], "infrastructure": ["name"],
    "intrusion-set": ["name"], "malware": ["is_family"], "note": ["content", "object_refs"],
    "observed-data": ["first_observed", "last_observed", "number_observed"],
    "opinion": ["opinion", "object_refs"], "report": ["name", "published", "object_refs"],
    "threat-actor": ["name"], "tool": ["name"], "vulnerability": ["name"],
    "relationship": ["relationship_type", "source_ref", "target_ref"],
    "sighting": ["sighting_of_ref"], "malware-analysis": ["product"],
    "language-content": ["object_ref", "contents"],
    "extension-definition": ["name", "schema", "version", "extension_types", "created_by_ref"],
    "autonomous-system": ["number"], "directory": ["path"], "domain-name": ["value"],
    "email-addr": ["value"], "email-message": ["is_multipart"], "ipv4-addr": ["value"],
    "ipv6-addr": ["value"], "mac-addr": ["value"], "mutex": ["name"], "software": ["name"],
    "url": ["value"], "network-traffic": ["protocols"],
}
for t, props in REQ.items():
    for p in props:
        mut("invalid", f"{t}-missing-{p.replace('_', '-')}", t, delk(p))
# optional ones that look required
for t, p in [("identity", "identity_class"), ("malware", "malware_types"),
             ("indicator", "indicator_types"), ("tool", "tool_types"),
             ("threat-actor", "threat_actor_types"), ("report", "report_types"),
             ("infrastructure", "infrastructure_types"), ("grouping", "name"),
              ("sighting", "where_sighted_refs"),
             ("language-content", "object_modified"),
             ("user-account", "user_id"), ("process", "pid"), ("x509-certificate", "issuer")]:
    mut("valid", f"{t}-without-{p.replace('_', '-')}", t, delk(p))

mut("invalid", "malware-family-without-name", "malware", delk("name"))
mut("valid", "malware-instance-without-name", "malware", lambda o: (o.pop("name"), o.update(is_family=False)))
mut("invalid", "malware-is-family-string", "malware", setk(is_family="true"))
mut("valid", "malware-type-custom-ov", "malware", setk(malware_types=["something-new"]))
mut("invalid", "malware-types-empty", "malware", setk(malware_types=[]))
mut("valid", "malware-architecture-custom", "malware", setk(architecture_execution_envs=["z80"]))
mut("invalid", "malware-sample-ref-not-file", "malware",
    setk(sample_refs=["identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e"]))
mut("valid", "malware-sample-refs", "malware",
    setk(sample_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a",
                      "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641"]))
mut("invalid", "malware-os-refs-not-software", "malware",
    setk(operating_system_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"]))
mut("valid", "malware-kill-chain", "malware",
    setk(kill_chain_phases=[{"kill_chain_name": "lockheed-martin-cyber-kill-chain",
                             "phase_name": "exploitation"}]))
mut("invalid", "malware-kill-chain-no-phase", "malware",
    setk(kill_chain_phases=[{"kill_chain_name": "lockheed-martin-cyber-kill-chain"}]))
mut("valid", "malware-kill-chain-uppercase", "malware",
    setk(kill_chain_phases=[{"kill_chain_name": "Lockheed Martin", "phase_name": "Exploit"}]))
mut("invalid", "malware-capabilities-string", "malware", setk(capabilities="persists-after-system-reboot"))

mut("valid", "identity-class-custom-ov", "identity", setk(identity_class="superhero"))
mut("valid", "identity-sector-custom", "identity", setk(sectors=["something"]))
mut("invalid", "identity-sectors-empty", "identity", setk(sectors=[]))
mut("invalid", "identity-class-list", "identity", setk(identity_class=["individual"]))

mut("valid", "indicator-valid-until", "indicator", setk(valid_until="2017-01-01T00:00:00Z"))
mut("invalid", "indicator-valid-until-before", "indicator", setk(valid_until="2015-01-01T00:00:00Z"))
mut("invalid", "indicator-valid-until-equal", "indicator", setk(valid_until="2016-01-01T00:00:00Z"))
mut("valid", "indicator-type-custom-ov", "indicator", setk(indicator_types=["not-a-type"]))
mut("valid", "indicator-pattern-type-custom-ov", "indicator",
    setk(pattern_type="something", pattern="anything goes here"))
mut("valid", "indicator-pattern-snort", "indicator",
    setk(pattern_type="snort", pattern="alert tcp any any -> any any (msg:\"x\";)"))
mut("invalid", "indicator-pattern-syntax", "indicator", setk(pattern="[file:hashes.MD5 = "))
mut("invalid", "indicator-pattern-not-brackets", "indicator", setk(pattern="file:name = 'x'"))
mut("valid", "indicator-pattern-custom-object", "indicator",
    setk(pattern="[x-foo:bar = 'something']"))
mut("valid", "indicator-pattern-followedby", "indicator",
    setk(pattern="[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] WITHIN 300 SECONDS"))
mut("invalid", "indicator-pattern-bad-qualifier", "indicator",
    setk(pattern="[file:name = 'a'] WITHIN -5 SECONDS"))
mut("valid", "indicator-pattern-version", "indicator", setk(pattern_version="2.1"))
mut("invalid", "indicator-name-number", "indicator", setk(name=5))

mut("valid", "sighting-no-first-last", "sighting", delk("first_seen", "last_seen"))
mut("invalid", "sighting-last-before-first", "sighting",
    setk(first_seen="2016-01-01T00:00:00Z", last_seen="2015-01-01T00:00:00Z"))
mut("invalid", "sighting-count-negative", "sighting", setk(count=-1))
mut("invalid", "sighting-count-too-big", "sighting", setk(count=1000000000))
mut("valid", "sighting-count-max", "sighting", setk(count=999999999))
mut("valid", "sighting-count-zero", "sighting", setk(count=0))
mut("invalid", "sighting-of-relationship", "sighting",
    setk(sighting_of_ref="relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"))
mut("invalid", "sighting-of-sco", "sighting",
    setk(sighting_of_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "sighting-of-custom-sdo", "sighting",
    setk(sighting_of_ref="x-foo--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "sighting-where-not-identity", "sighting",
    setk(where_sighted_refs=["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]))
mut("valid", "sighting-where-location", "sighting",
    setk(where_sighted_refs=["location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64"]))
mut("invalid", "sighting-observed-not-observed-data", "sighting",
    setk(observed_data_refs=["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]))
mut("valid", "sighting-observed-data-refs", "sighting",
    setk(observed_data_refs=["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"]))
mut("valid", "sighting-summary", "sighting", setk(summary=True))
mut("invalid", "sighting-where-empty", "sighting", setk(where_sighted_refs=[]))

mut("valid", "relationship-custom-type", "relationship", setk(relationship_type="loves"))
mut("invalid", "relationship-type-uppercase", "relationship", setk(relationship_type="Indicates"))
mut("invalid", "relationship-type-space", "relationship", setk(relationship_type="is related"))
mut("invalid", "relationship-source-marking", "relationship",
    setk(source_ref=MARK))
mut("invalid", "relationship-target-bundle", "relationship",
    setk(target_ref="bundle--44af6c39-c09b-49c5-9de2-394224b04982"))
mut("invalid", "relationship-source-relationship", "relationship",
    setk(source_ref="relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"))
mut("invalid", "relationship-target-language-content", "relationship",
    setk(target_ref="language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d"))
mut("valid", "relationship-to-sco", "relationship",
    setk(relationship_type="related-to", target_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "relationship-unusual-pair", "relationship",
    setk(relationship_type="indicates", target_ref="tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         source_ref="campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "relationship-stop-before-start", "relationship",
    setk(start_time="2016-01-01T00:00:00Z", stop_time="2015-01-01T00:00:00Z"))
mut("invalid", "relationship-stop-equal-start", "relationship",
    setk(start_time="2016-01-01T00:00:00Z", stop_time="2016-01-01T00:00:00Z"))
mut("valid", "relationship-stop-after-start", "relationship",
    setk(start_time="2016-01-01T00:00:00Z", stop_time="2017-01-01T00:00:00Z"))

mut("valid", "report-type-custom-ov", "report", setk(report_types=["foo"]))
mut("invalid", "report-object-refs-empty", "report", setk(object_refs=[]))
mut("invalid", "report-published-bad", "report", setk(published="2016-01-20"))
mut("valid", "report-refs-to-anything", "report",
    setk(object_refs=["relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
                      "file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a", MARK,
                      "x-custom--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]))
mut("valid", "grouping-context-custom-ov", "grouping", setk(context="a-new-context"))
mut("invalid", "opinion-not-in-enum", "opinion", setk(opinion="maybe"))
mut("valid", "opinion-agree", "opinion", setk(opinion="agree"))
mut("invalid", "opinion-refs-empty", "opinion", setk(object_refs=[]))
mut("invalid", "note-object-refs-empty", "note", setk(object_refs=[]))
mut("valid", "note-authors", "note", setk(authors=["John Doe"]))
mut("valid", "tool-type-custom-ov", "tool", setk(tool_types=["something"]))
mut("valid", "tool-version", "tool", setk(tool_version="1.0"))
mut("valid", "threat-actor-role-custom-ov", "threat-actor", setk(roles=["cheerleader"]))
mut("valid", "threat-actor-sophistication-custom-ov", "threat-actor", setk(sophistication="uber"))
mut("valid", "threat-actor-motivation-custom-ov", "threat-actor",
    setk(primary_motivation="fun", secondary_motivations=["boredom"]))
mut("invalid", "threat-actor-aliases-empty", "threat-actor", setk(aliases=[]))
mut("invalid", "threat-actor-goals-not-list", "threat-actor", setk(goals="world domination"))
mut("valid", "threat-actor-personal-motivations", "threat-actor", setk(personal_motivations=["ideology"]))
mut("valid", "intrusion-set-resource-level-ov", "intrusion-set", setk(resource_level="government"))
mut("valid", "infrastructure-type-custom-ov", "infrastructure", setk(infrastructure_types=["weird"]))
mut("invalid", "observed-data-number-zero", "observed-data", setk(number_observed=0))
mut("invalid", "observed-data-number-too-big", "observed-data", setk(number_observed=1000000000))
mut("invalid", "observed-data-number-negative", "observed-data", setk(number_observed=-1))
mut("valid", "observed-data-number-max", "observed-data", setk(number_observed=999999999))
mut("invalid", "observed-data-last-before-first", "observed-data",
    setk(last_observed="2015-12-20T19:00:00Z"))
mut("invalid", "observed-data-refs-and-objects", "observed-data",
    setk(objects={"0": {"type": "ipv4-addr", "value": "10.0.0.1"}}))
mut("invalid", "observed-data-neither-refs-nor-objects", "observed-data", delk("object_refs"))
mut("invalid", "observed-data-refs-empty", "observed-data", setk(object_refs=[]))
mut("valid", "observed-data-refs-with-sro", "observed-data",
    setk(object_refs=["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8",
                      "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"]))

# ---- observed-data with the deprecated "objects" dictionary ----
OD = sdo("observed-data", "b67d30ff-02ac-498a-92f9-32f845f448cf",
         created_by_ref=IDENT, first_observed="2015-12-21T19:00:00Z",
         last_observed="2015-12-21T19:00:00Z", number_observed=50,
         objects={"0": {"type": "file", "name": "foo.zip",
                        "hashes": {"MD5": "B365B9A80A06906FC9B400C06C33FF43"},
                        "mime_type": "application/zip",
                        "extensions": {"archive-ext": {"contains_refs": ["1"]}}},
                  "1": {"type": "file", "hashes": {"MD5": "A2FD2B3F4D5A1BD5E7D283299E01DCE9"},
                        "name": "qwerty.dll"}},
         granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["objects.0.type"]}])
ALL["od-objects"] = OD
case("valid", "od-objects-wellformed", OD)
mut("invalid", "od-objects-selector-unknown-property", OD,
    lambda o: o["granular_markings"][0].update(selectors=["foobar"]))
mut("invalid", "od-objects-selector-index-out-of-range", OD,
    lambda o: o["granular_markings"][0].update(
        selectors=["objects.0.extensions.archive-ext.contains_refs.[5]"]))
mut("invalid", "od-objects-selector-index-on-dict", OD,
    lambda o: o["granular_markings"][0].update(selectors=["objects.[0].extensions"]))
mut("valid", "od-objects-selector-list-element", OD,
    lambda o: o["granular_markings"][0].update(
        selectors=["objects.0.extensions.archive-ext.contains_refs.[0]"]))
mut("valid", "od-objects-dict-key-uppercase", OD,
    lambda o: o["objects"]["0"].update(x_s_dicts={"FOOBAR": {"foo": "bar"}}))
mut("valid", "od-objects-dict-key-long", OD,
    lambda o: o["objects"]["0"].update(x_s_dicts={"foofoobarfoofoobarbarfoofoobarbarbar": {"foo": "bar"}}))
mut("valid", "od-objects-account-type-custom-ov", OD,
    lambda o: o["objects"].update({"2": {"type": "user-account", "user_id": "1001",
                                         "account_login": "bwayne", "account_type": "superhero"}}))
mut("valid", "od-objects-pe-type-custom-ov", OD,
    lambda o: o["objects"]["0"]["extensions"].update(
        {"windows-pebinary-ext": {"pe_type": "elf", "machine_hex": "014c"}}))
mut("invalid", "od-objects-encryption-algorithm-not-enum", OD,
    lambda o: o["objects"].update({"2": {"type": "artifact", "mime_type": "application/zip",
                                         "payload_bin": "VBORw0KGgoAAAANSUhEUgAAADI==",
                                         "encryption_algorithm": "foo",
                                         "decryption_key": "My voice is my passport"}}))
mut("valid", "od-objects-encryption-algorithm-enum", OD,
    lambda o: o["objects"].update({"2": {"type": "artifact", "mime_type": "application/zip",
                                         "payload_bin": "VBORw0KGgoAAAANSUhEUgAAADI==",
                                         "encryption_algorithm": "mime-type-indicated",
                                         "decryption_key": "My voice is my passport"}}))
mut("valid", "od-objects-hash-name-custom", OD,
    lambda o: o["objects"]["0"].update(hashes={"something": "foobar"}))
mut("valid", "od-objects-pe-section-hash-custom", OD,
    lambda o: o["objects"]["0"]["extensions"].update({"windows-pebinary-ext": {
        "pe_type": "exe", "sections": [{"name": "CODE", "entropy": 0.061089,
                                        "hashes": {"foo": "1C19FC56AEF2048C1CD3A5E67B099350"}}]}}))
mut("valid", "od-objects-pe-optional-header-x-hash", OD,
    lambda o: o["objects"]["0"]["extensions"].update({"windows-pebinary-ext": {
        "pe_type": "exe", "optional_header": {"hashes": {"x_foo": "1C19FC56AEF2048C1CD3A5E67B099350"}}}}))
mut("valid", "od-objects-ntfs-ads-hash-custom", OD,
    lambda o: o["objects"]["0"]["extensions"].update({"ntfs-ext": {"alternate_data_streams": [
        {"name": "second.stream", "size": 25536,
         "hashes": {"foo": "B4D33B0C7306351B9ED96578465C5579"}}]}}))
mut("valid", "od-objects-non-numeric-key", OD,
    lambda o: o["objects"].update({"abc": {"type": "x509-certificate",
                                           "hashes": {"MD5": "B4D33B0C7306351B9ED96578465C5579"}}}))
mut("invalid", "od-objects-object-without-type", OD, lambda o: o["objects"]["0"].pop("type"))
mut("invalid", "od-objects-type-double-hyphen", OD, lambda o: o["objects"]["0"].update(type="x--foo"))
mut("invalid", "od-objects-type-uppercase", OD, lambda o: o["objects"]["0"].update(type="FOO"))
mut("invalid", "od-objects-type-one-char", OD, lambda o: o["objects"]["0"].update(type="a"))
mut("valid", "od-objects-type-custom-unprefixed", OD, lambda o: o["objects"]["0"].update(type="foo"))
mut("valid", "od-objects-type-custom-x", OD, lambda o: o["objects"]["0"].update(type="x-c-foo"))
mut("valid", "od-objects-custom-property-unprefixed", OD, lambda o: o["objects"]["0"].update(foo="bar"))
# STIX 2.1 §11.3.1: a custom extension's name MUST end in "-ext" (only the
# "x-" prefix is a SHOULD); the OASIS validator reports both as SHOULDs.
mut("invalid", "od-objects-custom-extension-unprefixed", OD,
    lambda o: o["objects"]["0"]["extensions"].update(foobar={"foo": "bar"}))
mut("valid", "od-objects-custom-extension-ext-unprefixed", OD,
    lambda o: o["objects"]["0"]["extensions"].update({"foobar-ext": {"foo": "bar"}}))
mut("valid", "od-objects-extension-custom-property", OD,
    lambda o: o["objects"]["0"]["extensions"]["archive-ext"].update(foo="bar"))
mut("invalid", "od-objects-ref-unresolved", OD,
    lambda o: o["objects"]["0"]["extensions"]["archive-ext"].update(contains_refs=["9"]))
mut("invalid", "od-objects-contains-sdo", OD,
    lambda o: o["objects"].update({"2": {"type": "identity", "name": "x"}}))
mut("invalid", "od-objects-empty", OD, setk(objects={}))
mut("invalid", "od-objects-file-no-name-no-hash", OD,
    lambda o: o["objects"]["1"].pop("name") and o["objects"]["1"].pop("hashes"))
mut("invalid", "od-objects-file-bad-md5", OD,
    lambda o: o["objects"]["1"].update(hashes={"MD5": "A2FD2B3F4D5A1BD5E7D283299E01DCE"}))
mut("invalid", "od-objects-file-bad-sha256", OD,
    lambda o: o["objects"]["1"].update(hashes={"SHA-256": "zz"}))
mut("valid", "od-objects-network-traffic", OD, lambda o: o["objects"].update({
    "2": {"type": "ipv4-addr", "value": "203.0.113.1"},
    "3": {"type": "network-traffic", "src_ref": "2", "protocols": ["tcp"], "src_port": 2487}}))
mut("invalid", "od-objects-network-traffic-ref-to-file", OD, lambda o: o["objects"].update({
    "3": {"type": "network-traffic", "src_ref": "1", "protocols": ["tcp"]}}))
mut("invalid", "od-objects-network-traffic-port-too-big", OD, lambda o: o["objects"].update({
    "2": {"type": "ipv4-addr", "value": "203.0.113.1"},
    "3": {"type": "network-traffic", "src_ref": "2", "protocols": ["tcp"], "src_port": 65536}}))
mut("valid", "od-objects-email-with-body-multipart", OD, lambda o: o["objects"].update({
    "2": {"type": "email-message", "is_multipart": True,
          "body_multipart": [{"content_type": "text/plain", "body": "hi"},
                             {"content_type": "image/png", "body_raw_ref": "1"}]}}))
mut("invalid", "od-objects-email-body-and-multipart", OD, lambda o: o["objects"].update({
    "2": {"type": "email-message", "is_multipart": True, "body": "x",
          "body_multipart": [{"content_type": "text/plain", "body": "hi"}]}}))
mut("invalid", "od-objects-email-not-multipart-with-parts", OD, lambda o: o["objects"].update({
    "2": {"type": "email-message", "is_multipart": False,
          "body_multipart": [{"content_type": "text/plain", "body": "hi"}]}}))
mut("valid", "od-objects-process-refs", OD, lambda o: o["objects"].update({
    "2": {"type": "process", "pid": 1, "image_ref": "1"},
    "3": {"type": "process", "pid": 2, "parent_ref": "2", "image_ref": "1"}}))
mut("invalid", "od-objects-process-image-ref-not-file", OD, lambda o: o["objects"].update({
    "2": {"type": "process", "pid": 1},
    "3": {"type": "process", "pid": 2, "image_ref": "2"}}))

# ---- SCOs (STIX 2.1 §6) ----
mut("invalid", "artifact-payload-and-url", "artifact", setk(url="http://x.com/a"))
mut("invalid", "artifact-url-without-hashes", "artifact",
    lambda o: (o.pop("payload_bin"), o.update(url="http://x.com/a")))
mut("valid", "artifact-url-with-hashes", "artifact",
    lambda o: (o.pop("payload_bin"), o.update(url="http://x.com/a",
               hashes={"MD5": "B4D33B0C7306351B9ED96578465C5579"})))
mut("invalid", "artifact-payload-not-base64", "artifact", setk(payload_bin="not base64!!"))
mut("invalid", "autonomous-system-number-string", "autonomous-system", setk(number="15139"))
mut("invalid", "directory-contains-ref-bad-type", "directory",
    setk(contains_refs=["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]))
mut("valid", "directory-contains-file", "directory",
    setk(contains_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"]))
mut("invalid", "domain-name-resolves-to-file", "domain-name",
    setk(resolves_to_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"]))
mut("valid", "domain-name-resolves-to-ip", "domain-name",
    setk(resolves_to_refs=["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]))
mut("invalid", "email-addr-belongs-to-not-account", "email-addr",
    setk(belongs_to_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("invalid", "email-message-from-not-email-addr", "email-message",
    setk(from_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "email-message-headers", "email-message",
    setk(from_ref="email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3",
         to_refs=["email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3"],
         date="2016-06-19T14:20:40.000Z",
         additional_header_fields={"Reply-To": ["steve@example.com"]}))
mut("invalid", "email-message-date-bad", "email-message", setk(date="yesterday"))
mut("invalid", "file-no-name-no-hashes", "file", delk("name", "hashes"))
mut("valid", "file-only-name", "file", delk("hashes"))
mut("valid", "file-only-hashes", "file", delk("name"))
mut("invalid", "file-size-negative", "file", setk(size=-1))
mut("invalid", "file-hashes-empty", "file", setk(hashes={}))
mut("invalid", "file-hash-sha1-short", "file", setk(hashes={"SHA-1": "abc"}))
mut("valid", "file-hash-ssdeep", "file",
    setk(hashes={"SSDEEP": "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"}))
mut("valid", "file-hash-tlsh", "file",
    setk(hashes={"TLSH": "T1AB5A0A0B3F5C8E7E2DE4CEC7E1C7D3F9D0C5C3E6D5E9B6E2E1D1D4E7C6E8E5A3F2B1"}))
mut("valid", "file-hash-custom-name", "file", setk(hashes={"x_foo": "abc", "SHA-256": "35a01331e9ad96f751278b891b6ea09699806faedfa237d40513d92ad1b7100f"}))
mut("invalid", "file-hash-name-too-short", "file", setk(hashes={"ab": "1234"}))
mut("invalid", "file-parent-directory-not-directory", "file",
    setk(parent_directory_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("invalid", "file-contains-refs-empty", "file", setk(contains_refs=[]))
mut("invalid", "file-magic-number-not-hex", "file", setk(magic_number_hex="ZZ"))
mut("valid", "file-magic-number-hex", "file", setk(magic_number_hex="FFD8"))
mut("valid", "file-ctime", "file", setk(ctime="2016-06-19T14:20:40Z"))
mut("invalid", "file-ctime-bad", "file", setk(ctime="2016-06-19 14:20:40"))
mut("invalid", "file-name-enc-without-name", "file", lambda o: (o.pop("name"), o.update(name_enc="utf-8")))
mut("invalid", "file-ntfs-ext-empty", "file", setk(extensions={"ntfs-ext": {}}))
mut("valid", "file-pdf-ext", "file", setk(extensions={"pdf-ext": {"version": "1.7", "is_optimized": False}}))
mut("valid", "file-raster-ext", "file", setk(extensions={"raster-image-ext": {"image_height": 768, "image_width": 1024}}))
mut("invalid", "file-archive-ext-without-contains", "file", setk(extensions={"archive-ext": {"comment": "x"}}))
mut("invalid", "file-pebinary-ext-no-pe-type", "file", setk(extensions={"windows-pebinary-ext": {"machine_hex": "014c"}}))
mut("invalid", "file-http-ext-on-file", "file",
    setk(extensions={"http-request-ext": {"request_method": "get", "request_value": "/"}}))
mut("invalid", "ipv4-addr-resolves-to-file", "ipv4-addr",
    setk(resolves_to_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"]))
mut("valid", "ipv4-addr-resolves-to-mac", "ipv4-addr",
    setk(resolves_to_refs=["mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00"]))
mut("invalid", "ipv4-addr-value-number", "ipv4-addr", setk(value=3232235777))
mut("invalid", "mac-addr-uppercase", "mac-addr", setk(value="D2:FB:49:24:37:18"))
mut("invalid", "mac-addr-hyphens", "mac-addr", setk(value="d2-fb-49-24-37-18"))
mut("invalid", "mac-addr-no-leading-zero", "mac-addr", setk(value="d2:fb:49:24:37:8"))
mut("invalid", "network-traffic-no-src-no-dst", "network-traffic", delk("src_ref", "dst_ref"))
mut("valid", "network-traffic-only-dst", "network-traffic", delk("src_ref"))
mut("invalid", "network-traffic-protocols-empty", "network-traffic", setk(protocols=[]))
mut("invalid", "network-traffic-port-negative", "network-traffic", setk(dst_port=-1))
mut("valid", "network-traffic-port-max", "network-traffic", setk(dst_port=65535))
mut("invalid", "network-traffic-end-before-start", "network-traffic",
    setk(start="2016-06-19T14:20:40Z", end="2016-06-19T14:20:39Z"))
mut("invalid", "network-traffic-ended-with-active", "network-traffic",
    setk(is_active=True, end="2016-06-19T14:20:40Z"))
mut("invalid", "network-traffic-src-ref-file", "network-traffic",
    setk(src_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "network-traffic-dst-ref-domain", "network-traffic",
    setk(dst_ref="domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"))
mut("valid", "network-traffic-http-ext", "network-traffic",
    setk(extensions={"http-request-ext": {"request_method": "get", "request_value": "/download.html",
                                          "request_header": {"Host": "www.example.com"}}}))
mut("invalid", "network-traffic-http-ext-no-method", "network-traffic",
    setk(extensions={"http-request-ext": {"request_value": "/download.html"}}))
mut("valid", "network-traffic-tcp-ext", "network-traffic",
    setk(extensions={"tcp-ext": {"src_flags_hex": "00000002"}}))
mut("invalid", "network-traffic-socket-family-not-enum", "network-traffic",
    setk(extensions={"socket-ext": {"address_family": "AF_FOO"}}))
mut("valid", "network-traffic-socket-ext", "network-traffic",
    setk(extensions={"socket-ext": {"address_family": "AF_INET", "socket_type": "SOCK_STREAM",
                                    "is_listening": True}}))
mut("invalid", "network-traffic-icmp-ext-not-hex", "network-traffic",
    setk(extensions={"icmp-ext": {"icmp_type_hex": "xyz", "icmp_code_hex": "00"}}))
mut("invalid", "network-traffic-ipfix-empty", "network-traffic", setk(ipfix={}))
mut("valid", "network-traffic-ipfix", "network-traffic", setk(ipfix={"minimumIpTotalLength": 32, "maximumIpTotalLength": 2556}))
mut("invalid", "process-pid-string", "process", setk(pid="1221"))
mut("invalid", "process-environment-empty", "process", setk(environment_variables={}))
mut("invalid", "process-opened-connection-not-nt", "process",
    setk(opened_connection_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"]))
mut("valid", "process-windows-ext", "process",
    setk(extensions={"windows-process-ext": {"aslr_enabled": True, "priority": "HIGH_PRIORITY_CLASS"}}))
mut("invalid", "process-windows-service-start-type-not-enum", "process",
    setk(extensions={"windows-service-ext": {"service_name": "x", "start_type": "SOMETIMES"}}))
mut("valid", "process-windows-service-ext", "process",
    setk(extensions={"windows-service-ext": {"service_name": "sirvizio", "start_type": "SERVICE_AUTO_START",
                                             "service_type": "SERVICE_WIN32_OWN_PROCESS",
                                             "service_status": "SERVICE_RUNNING"}}))
mut("invalid", "process-integrity-level-not-enum", "process",
    setk(extensions={"windows-process-ext": {"integrity_level": "extreme"}}))
mut("invalid", "process-is-hidden-string", "process", setk(is_hidden="no"))
mut("invalid", "software-languages-empty", "software", setk(languages=[]))
mut("valid", "software-languages", "software", setk(languages=["eng", "fr"]))
mut("valid", "user-account-unix-ext", "user-account",
    setk(extensions={"unix-account-ext": {"gid": 1001, "groups": ["wheel"], "home_dir": "/home/jdoe",
                                          "shell": "/bin/bash"}}))
mut("valid", "user-account-type-custom-ov", "user-account", setk(account_type="superhero"))
mut("invalid", "user-account-is-privileged-string", "user-account", setk(is_privileged="yes"))
mut("invalid", "user-account-created-bad", "user-account", setk(account_created="2016"))
mut("invalid", "registry-key-data-type-not-enum", "windows-registry-key",
    setk(values=[{"name": "Foo", "data": "x", "data_type": "REG_FOO"}]))
mut("invalid", "registry-key-values-empty", "windows-registry-key", setk(values=[]))
mut("invalid", "registry-key-creator-not-account", "windows-registry-key",
    setk(creator_user_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "registry-key-modified-time", "windows-registry-key", setk(modified_time="2016-06-19T14:20:40Z"))
mut("invalid", "x509-serial-number-int", "x509-certificate", setk(serial_number=1234))
mut("valid", "x509-v3-ext", "x509-certificate",
    setk(x509_v3_extensions={"basic_constraints": "critical,CA:TRUE, pathlen:0"}))
mut("invalid", "x509-v3-ext-empty", "x509-certificate", setk(x509_v3_extensions={}))
mut("invalid", "x509-not-after-bad", "x509-certificate", setk(validity_not_after="2016-08-21"))
mut("invalid", "sco-defanged-string", "url", setk(defanged="true"))
mut("valid", "sco-defanged", "url", setk(defanged=True))
mut("invalid", "sdo-defanged", "campaign", setk(defanged=True))
mut("valid", "sco-with-object-marking", "url", setk(object_marking_refs=[TLP_GREEN]))
mut("valid", "sco-granular-marking", "url",
    setk(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["value"]}]))
mut("valid", "sco-created-modified", "url",
    setk(created="2016-06-19T14:20:40.000Z", modified="2016-06-19T14:20:40.000Z"))
mut("valid", "sco-custom-property-x", "url", setk(x_foo="bar"))
mut("valid", "sco-custom-property-unprefixed", "url", setk(foo="bar"))
mut("invalid", "sco-custom-property-bad-name", "url", setk(**{"Foo Bar": "bar"}))

# ---- marking definitions, TLP, granular markings (§7.2) ----
TLP1 = {
    "white": ("613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE"),
    "green": ("34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"),
    "amber": ("f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"),
    "red": ("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"),
}
for lvl, (u, nm) in TLP1.items():
    canon = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{u}",
             "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": nm,
             "definition": {"tlp": lvl}}
    case("valid", f"tlp1-{lvl}-canonical", canon)
    mut("invalid", f"tlp1-{lvl}-wrong-created", canon, setk(created="2017-01-21T00:00:00.000Z"))
    mut("invalid", f"tlp1-{lvl}-random-id", canon,
        setk(id="marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "tlp1-green-level-swapped", "marking-definition",
    lambda o: o.update(id=TLP_GREEN, definition_type="tlp", name="TLP:GREEN", definition={"tlp": "red"}))
mut("invalid", "tlp1-definition-number", "marking-definition",
    lambda o: o.update(id=TLP_GREEN, definition_type="tlp", name="TLP:GREEN", definition={"tlp": 21}))
mut("invalid", "tlp1-unknown-level", "marking-definition",
    lambda o: o.update(definition_type="tlp", definition={"tlp": "purple"}))
TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2 = {"clear": ("94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR"),
        "green": ("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN"),
        "amber": ("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER"),
        "amber+strict": ("939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT"),
        "red": ("e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED")}
for lvl, (u, nm) in TLP2.items():
    canon = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{u}",
             "created": "2022-10-01T00:00:00.000Z", "name": nm,
             "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": lvl}}}
    case("valid", f"tlp2-{lvl.replace('+', '-')}-canonical", canon)
    mut("invalid", f"tlp2-{lvl.replace('+', '-')}-wrong-level", canon,
        lambda o: o["extensions"][TLP2_EXT].update(tlp_2_0="red" if lvl != "red" else "clear"))
case("invalid", "tlp2-random-id", {
    "type": "marking-definition", "spec_version": "2.1",
    "id": "marking-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2022-10-01T00:00:00.000Z", "name": "TLP:GREEN",
    "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "green"}}})
mut("valid", "marking-statement", "marking-definition", lambda o: None)
mut("invalid", "marking-statement-missing", "marking-definition", setk(definition={}))
mut("invalid", "marking-statement-number", "marking-definition", setk(definition={"statement": 5}))
mut("invalid", "marking-no-definition", "marking-definition", delk("definition"))
mut("invalid", "marking-no-definition-type", "marking-definition", delk("definition_type"))
mut("invalid", "marking-nothing", "marking-definition", delk("definition", "definition_type"))
mut("valid", "marking-definition-type-custom", "marking-definition",
    setk(definition_type="something", definition={"foo": "bar"}))
mut("valid", "marking-extension-instead", "marking-definition",
    lambda o: (o.pop("definition"), o.pop("definition_type"), o.update(extensions={
        "extension-definition--9ef47f81-1443-4632-8497-8b2878f8ac21": {
            "extension_type": "property-extension",
            "additional_marking_prop": "if this data is leaked then the world will end"}})))
mut("invalid", "marking-modified", "marking-definition", setk(modified="2017-01-20T00:00:00.000Z"))
mut("invalid", "marking-revoked", "marking-definition", setk(revoked=False))
mut("invalid", "marking-labels", "marking-definition", setk(labels=["a"]))
mut("invalid", "marking-confidence", "marking-definition", setk(confidence=5))
mut("invalid", "marking-lang", "marking-definition", setk(lang="en"))
mut("invalid", "marking-no-created", "marking-definition", delk("created"))
mut("invalid", "marking-no-spec-version", "marking-definition", delk("spec_version"))
mut("valid", "marking-name", "marking-definition", setk(name="Copyright Example Corp"))
mut("valid", "marking-created-by", "marking-definition", setk(created_by_ref=IDENT))
mut("invalid", "marking-marks-itself", "marking-definition", setk(object_marking_refs=[MARK]))
mut("invalid", "marking-object-marking-not-marking", "marking-definition",
    setk(object_marking_refs=["indicator--44098fce-860f-48ae-8e50-ebd3cc5e41da"]))
mut("invalid", "marking-granular-marks-itself", "marking-definition",
    setk(granular_markings=[{"marking_ref": MARK, "selectors": ["created"]}]))
mut("invalid", "marking-granular-index-selector", "marking-definition",
    setk(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["[0]"]}]))
mut("invalid", "marking-granular-ref-not-marking", "marking-definition",
    setk(granular_markings=[{"marking_ref": "indicator--3478bf48-9af2-4afa-9fc5-7075f6af04af",
                             "selectors": ["created"]}]))
mut("valid", "marking-granular-id-selector", "marking-definition",
    setk(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["id"]}]))
mut("valid", "marking-object-marking-other", "marking-definition", setk(object_marking_refs=[TLP_GREEN]))

mut("valid", "object-marking-refs", "indicator", setk(object_marking_refs=[TLP_GREEN, MARK]))
mut("invalid", "object-marking-refs-empty", "indicator", setk(object_marking_refs=[]))
mut("invalid", "object-marking-refs-not-marking", "indicator", setk(object_marking_refs=[IDENT]))
mut("invalid", "object-marking-refs-string", "indicator", setk(object_marking_refs=TLP_GREEN))
G = lambda *g: setk(granular_markings=list(g))
mut("valid", "granular-description", "indicator",
    setk(description="desc", granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["description", "name"]}]))
mut("invalid", "granular-selector-missing-property", "indicator",
    G({"marking_ref": TLP_GREEN, "selectors": ["description"]}))
mut("invalid", "granular-selectors-empty", "indicator", G({"marking_ref": TLP_GREEN, "selectors": []}))
mut("invalid", "granular-no-selectors", "indicator", G({"marking_ref": TLP_GREEN}))
mut("invalid", "granular-no-marking-ref-no-lang", "indicator", G({"selectors": ["name"]}))
mut("invalid", "granular-marking-ref-and-lang", "indicator",
    G({"marking_ref": TLP_GREEN, "lang": "en", "selectors": ["name"]}))
mut("valid", "granular-lang", "indicator", G({"lang": "en", "selectors": ["name"]}))
mut("invalid", "granular-lang-bad", "indicator", G({"lang": "not a tag!", "selectors": ["name"]}))
mut("valid", "granular-list-index", "indicator", G({"marking_ref": TLP_GREEN, "selectors": ["indicator_types.[0]"]}))
mut("invalid", "granular-list-index-out-of-range", "indicator",
    G({"marking_ref": TLP_GREEN, "selectors": ["indicator_types.[1]"]}))
mut("invalid", "granular-index-on-string", "indicator",
    G({"marking_ref": TLP_GREEN, "selectors": ["name.[0]"]}))
mut("valid", "granular-nested", "campaign",
    lambda o: o.update(external_references=[{"source_name": "x", "url": "http://x.com"}],
                       granular_markings=[{"marking_ref": TLP_GREEN,
                                           "selectors": ["external_references.[0].url"]}]))
mut("invalid", "granular-nested-missing", "campaign",
    lambda o: o.update(external_references=[{"source_name": "x", "url": "http://x.com"}],
                       granular_markings=[{"marking_ref": TLP_GREEN,
                                           "selectors": ["external_references.[0].description"]}]))
mut("valid", "granular-whole-list", "campaign",
    lambda o: o.update(external_references=[{"source_name": "x", "url": "http://x.com"}],
                       granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["external_references"]}]))
mut("invalid", "granular-marking-ref-bad", "indicator", G({"marking_ref": IDENT, "selectors": ["name"]}))
mut("valid", "granular-selector-granular-markings", "indicator",
    G({"marking_ref": TLP_GREEN, "selectors": ["granular_markings"]}))
mut("valid", "granular-and-object-markings", "indicator",
    lambda o: o.update(object_marking_refs=[TLP_RED],
                       granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["name"]}]))
# The reference validator's well-formed marking definition: TLP:GREEN 1.0
# without the optional "name" (STIX 2.0 shape, same id, created, definition).
case("valid", "tlp1-green-without-name", {
    "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}})
case("invalid", "tlp1-green-wrong-name", {
    "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN, "name": "TLP:RED",
    "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}})

# ---- extensions and extension definitions (§3.10, §7.3) ----
EXTDEF = "extension-definition--04b2d3ef-d061-4912-ab77-6bbe807a5bd5"
mut("invalid", "extdef-type-not-enum", "extension-definition", setk(extension_types=["something"]))
mut("invalid", "extdef-types-empty", "extension-definition", setk(extension_types=[]))
mut("invalid", "extdef-properties-without-toplevel", "extension-definition",
    setk(extension_properties=["something"]))
mut("valid", "extdef-toplevel-with-properties", "extension-definition",
    setk(extension_types=["toplevel-property-extension"], extension_properties=["some_custom_stuff"]))
mut("valid", "extdef-toplevel-without-properties", "extension-definition",
    setk(extension_types=["toplevel-property-extension"]))
mut("valid", "extdef-no-description", "extension-definition", delk("description"))
mut("valid", "extdef-multiple-types", "extension-definition",
    setk(extension_types=["new-sdo", "property-extension"]))
mut("invalid", "extdef-created-by-not-identity", "extension-definition",
    setk(created_by_ref="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
NEWSDO = {"type": "my-favorite-sdo", "spec_version": "2.1",
          "id": "my-favorite-sdo--a932fcc6-e032-476c-a26f-cb970a5a1ade",
          "created": "2014-02-20T09:16:08.989000Z", "modified": "2014-02-20T09:16:08.989000Z",
          "name": "This is the name of my favorite", "some_property_name1": "value1",
          "extensions": {EXTDEF: {"extension_type": "new-sdo"}}}
case("valid", "ext-new-sdo", NEWSDO)
mut("invalid", "ext-new-sdo-extension-type-list", NEWSDO,
    lambda o: o["extensions"][EXTDEF].update(extension_type=["something"]))
mut("invalid", "ext-new-sdo-extension-type-unknown", NEWSDO,
    lambda o: o["extensions"][EXTDEF].update(extension_type="something"))
mut("invalid", "ext-new-sdo-without-created", NEWSDO, delk("created"))
mut("invalid", "ext-new-sdo-bad-id", NEWSDO, setk(id="my-favorite-sdo--1234"))
mut("invalid", "ext-key-not-extdef-id", "campaign",
    setk(extensions={"indicator--04b2d3ef-d061-4912-ab77-6bbe807a5bd5": {"extension_type": "property-extension"}}))
mut("valid", "ext-property-extension", "campaign",
    setk(extensions={EXTDEF: {"extension_type": "property-extension", "rank": 5}}))
mut("valid", "ext-toplevel-extension", "campaign",
    lambda o: o.update(rank=5, extensions={EXTDEF: {"extension_type": "toplevel-property-extension"}}))
mut("invalid", "ext-empty-value", "campaign", setk(extensions={EXTDEF: {}}))
mut("invalid", "ext-value-string", "campaign", setk(extensions={EXTDEF: "x"}))
mut("invalid", "ext-empty-dict", "campaign", setk(extensions={}))
mut("valid", "ext-custom-predefined-style-on-sdo", "campaign", setk(extensions={"x-foo-ext": {"a": 1}}))
mut("invalid", "ext-bad-key-uppercase-extdef", "campaign",
    setk(extensions={"extension-definition--04B2D3EF-D061-4912-AB77-6BBE807A5BD5Z": {"extension_type": "property-extension"}}))
mut("valid", "ext-sco-new-sco", "url", lambda o: None)

# ---- language content (§7.1) ----
mut("invalid", "lc-contents-bad-lang-key", "language-content",
    lambda o: o["contents"].update({"not a lang!": {"name": "x"}}))
mut("invalid", "lc-contents-empty", "language-content", setk(contents={}))
mut("invalid", "lc-object-modified-bad", "language-content", setk(object_modified="2017-02-08"))
mut("valid", "lc-contents-list", "language-content",
    lambda o: o["contents"]["de"].update(x_list=["eins", "zwei"]))
mut("invalid", "lc-object-ref-bad", "language-content", setk(object_ref="campaign--123"))
mut("invalid", "lc-no-modified", "language-content", delk("modified"))
mut("valid", "lc-lang-region", "language-content", lambda o: o["contents"].update({"zh-Hant-TW": {"name": "x"}}))

# ---- custom objects and properties (§11) ----
CUSTOM = sdo("x-example-com-customobject", "4527e5de-8572-446a-a57a-706f15467461",
             some_custom_stuff=14, other_custom_stuff="hello")
case("valid", "custom-object", CUSTOM)
mut("valid", "custom-object-unprefixed", CUSTOM,
    setk(type="customobject", id="customobject--4527e5de-8572-446a-a57a-706f15467461"))
mut("invalid", "custom-object-type-too-long", CUSTOM,
    setk(type="x-" + "a" * 249, id="x-" + "a" * 249 + "--4527e5de-8572-446a-a57a-706f15467461"))
mut("invalid", "custom-object-type-short", CUSTOM,
    setk(type="x", id="x--4527e5de-8572-446a-a57a-706f15467461"))
mut("invalid", "custom-object-uppercase", CUSTOM,
    setk(type="X-Example", id="X-Example--4527e5de-8572-446a-a57a-706f15467461"))
mut("invalid", "custom-object-no-id", CUSTOM, delk("id"))
mut("invalid", "custom-object-bad-created", CUSTOM, setk(created="yesterday"))
mut("invalid", "custom-object-property-name-hyphen", CUSTOM, setk(**{"x-foo": "bar"}))
mut("invalid", "custom-object-property-name-short", CUSTOM, setk(ab="bar"))
mut("invalid", "custom-object-empty-list", CUSTOM, setk(x_list=[]))
mut("valid", "custom-property-x", "campaign", setk(x_foo_bar="baz"))
mut("valid", "custom-property-unprefixed", "campaign", setk(foo_bar="baz"))
mut("invalid", "custom-property-uppercase", "campaign", setk(x_Foo="baz"))
mut("invalid", "custom-property-too-long", "campaign", setk(**{"x_" + "a" * 249: "baz"}))
mut("valid", "custom-property-250", "campaign", setk(**{"x_" + "a" * 248: "baz"}))
mut("invalid", "custom-property-starts-with-digit", "campaign", setk(**{"1foo": "baz"}))
mut("valid", "custom-property-dict", "campaign", setk(x_foo={"a": 1, "B-c_d": [1, 2]}))
mut("invalid", "custom-property-empty-list", "campaign", setk(x_foo=[]))
mut("invalid", "custom-property-null", "campaign", setk(x_foo=None))
mut("invalid", "reserved-severity", "campaign", setk(severity="high"))
mut("invalid", "reserved-action", "campaign", setk(action="x"))
mut("invalid", "reserved-username", "campaign", setk(username="x"))
mut("invalid", "reserved-phone-number", "campaign", setk(phone_number="x"))

# ---- bundles, documents, versioning ----
case("invalid", "bundle-bad-id", {"type": "bundle", "id": "bundle--123", "objects": [BASE["campaign"]]})
case("invalid", "bundle-no-id", {"type": "bundle", "objects": [BASE["campaign"]]})
case("invalid", "bundle-objects-empty", {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
                                         "objects": []})
case("invalid", "bundle-objects-not-list", {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
                                            "objects": BASE["campaign"]})
case("invalid", "bundle-with-bad-object", bundle(BASE["identity"], {**BASE["campaign"], "created": "x"}))
case("invalid", "bundle-nested", bundle(BASE["identity"], bundle(BASE["campaign"])))
case("invalid", "bundle-object-not-object", {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
                                             "objects": ["campaign"]})
case("valid", "bundle-two-versions", bundle(BASE["campaign"], {**BASE["campaign"], "modified": "2017-01-01T00:00:00.000Z",
                                                                "name": "Renamed"}))
case("invalid", "bundle-two-versions-created-changed",
     bundle(BASE["campaign"], {**BASE["campaign"], "created": "2016-04-06T20:03:49.000Z",
                               "modified": "2017-01-01T00:00:00.000Z"}))
case("invalid", "bundle-same-version-different-content",
     bundle(BASE["campaign"], {**BASE["campaign"], "name": "Other"}))
case("valid", "bundle-same-version-identical", bundle(BASE["campaign"], BASE["campaign"]))
case("invalid", "bundle-version-after-revoked",
     bundle({**BASE["campaign"], "revoked": True},
            {**BASE["campaign"], "modified": "2017-01-01T00:00:00.000Z"}))
case("valid", "bundle-mixed-custom", bundle(BASE["campaign"], CUSTOM, SCO["url"]))
case("valid", "envelope", {"more": False, "objects": [BASE["campaign"], SCO["url"]]})
case("invalid", "envelope-bad-object", {"more": False, "objects": [{**BASE["campaign"], "id": "x"}]})
case("invalid", "not-an-object", "campaign")
case("invalid", "number", 5)
case("invalid", "object-without-type-in-list", [{"id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}])


# ---- more from the reference validator's v21 tests ----
mut("invalid", "custom-property-bang", "indicator", setk(**{"my_new_property!": "abc123"}))
mut("invalid", "custom-property-two-chars", "indicator", setk(mp="abc123"))
mut("invalid", "custom-property-256-chars", "indicator", setk(**{"my_new_property_" * 16: "abc123"}))
mut("valid", "custom-property-foobar", "indicator", setk(foobar="abc123"))
mut("invalid", "custom-property-empty-list-indicator", "indicator", setk(my_new_property=[]))
mut("invalid", "id-unknown-type-part", "indicator", setk(id="something--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
mut("invalid", "reserved-usernames", "indicator", setk(usernames="Something"))
mut("invalid", "reserved-phone-numbers", "indicator", setk(phone_numbers="Something"))
mut("invalid", "reserved-addresses", "indicator", setk(addresses="Something"))
mut("invalid", "indicator-typed-incident", "indicator", setk(type="incident"))
mut("invalid", "indicator-typed-infrastructure", "indicator", setk(type="infrastructure"))
mut("valid", "indicator-labels-suspicious", "indicator", setk(labels=["suspicious"]))
mut("invalid", "indicator-pattern-double-quotes", "indicator",
    setk(pattern="[file:hashes.\"SHA-256\" = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"))
mut("invalid", "indicator-pattern-type-too-short", "indicator", setk(pattern="[ab:yz = 'something']"))
mut("valid", "indicator-pattern-custom-noprefix", "indicator", setk(pattern="[foo:name = 'something']"))
mut("valid", "indicator-pattern-custom-xx", "indicator", setk(pattern="[x-x-foo:x_x_name = 'something']"))
mut("valid", "indicator-pattern-custom-x", "indicator", setk(pattern="[x-foo:x_name = 'something']"))
mut("valid", "indicator-pattern-custom-property", "indicator", setk(pattern="[file:x_x_name = 'something']"))
mut("valid", "indicator-pattern-list-star", "indicator",
    setk(pattern="[windows-registry-key:values[*].data='badstuff']"))
mut("valid", "indicator-pattern-escaped-backslashes", "indicator",
    setk(pattern="[windows-registry-key:key LIKE 'HKEY_LOCAL_MACHINE\\\\Foo\\\\Bar%']"))
mut("invalid", "custom-type-id-mismatch", CUSTOM, setk(type="x-foo-bar"))
mut("invalid", "custom-object-no-type", CUSTOM, delk("type"))
mut("invalid", "custom-object-no-created", CUSTOM, delk("created"))
mut("invalid", "custom-object-no-modified", CUSTOM, delk("modified"))
mut("invalid", "custom-object-type-underscore", CUSTOM,
    setk(type="corpo_ration", id="corpo_ration--4527e5de-8572-446a-a57a-706f15467461"))
mut("invalid", "custom-object-type-at-sign", CUSTOM,
    setk(type="corpor@tion", id="corpor@tion--4527e5de-8572-446a-a57a-706f15467461"))
mut("valid", "custom-object-x-corporation", CUSTOM,
    setk(type="x-corporation", id="x-corporation--4527e5de-8572-446a-a57a-706f15467461"))
mut("valid", "custom-object-x-corp-oration", CUSTOM,
    setk(type="x-corp-oration", id="x-corp-oration--4527e5de-8572-446a-a57a-706f15467461"))
B21 = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
       "objects": [{"type": "identity", "spec_version": "2.1",
                    "id": "identity--8ae20dde-83d4-4218-88fd-41ef0dabf9d1",
                    "created": "2016-08-22T14:09:00.123Z", "modified": "2016-08-22T14:09:00.123Z",
                    "name": "mitre.org", "identity_class": "organization"}]}
case("valid", "bundle-reference-wellformed", B21)
mut("valid", "bundle-spec-version-21-on-bundle", B21, setk(spec_version="2.1"))
mut("valid", "bundle-identities-instead-of-objects", B21,
    lambda o: o.update(identities=o.pop("objects")))
mut("valid", "bundle-created", B21, setk(created="2016-08-22T14:09:00.123456Z"))
mut("valid", "bundle-version", B21, setk(version=1))
mut("valid", "bundle-duplicate-identical", B21, lambda o: o["objects"].append(dict(o["objects"][0])))
mut("valid", "bundle-duplicate-new-version", B21,
    lambda o: o["objects"].append({**o["objects"][0], "modified": "2017-06-22T14:09:00.123Z"}))
mut("invalid", "bundle-sdo-missing-type", B21, lambda o: o["objects"][0].pop("type"))
mut("invalid", "location-created-april-31", "location", setk(created="2016-04-31T20:03:00.000Z"))
mut("invalid", "location-created-after-modified-micro", "location",
    setk(created="2016-04-06T20:03:48.000123Z"))
mut("valid", "location-created-micro-modified-later", "location",
    setk(created="2016-04-06T20:03:48.000123Z", modified="2016-04-06T20:03:48.001Z"))
mut("valid", "location-lat-long", "location", setk(latitude=48.8566, longitude=2.3522))
mut("valid", "location-region-global", "location", setk(region="global"))
mut("valid", "location-country-xx", "location", setk(country="xx"))
mut("valid", "location-admin-area-postal", "location", setk(administrative_area="Tak", postal_code="63170"))
mut("invalid", "location-latitude-only", "location", setk(latitude=48.8566))
mut("invalid", "location-latitude-range", "location", setk(latitude=91.0, longitude=2.0))
mut("invalid", "location-longitude-range", "location", setk(latitude=9.0, longitude=-180.5))
mut("invalid", "location-precision-without-coords", "location", setk(precision=10.0))
mut("valid", "location-precision", "location", setk(latitude=9.0, longitude=9.0, precision=10.0))
mut("invalid", "location-nothing", "location", delk("region", "country"))
mut("valid", "location-only-region", "location", delk("country"))
mut("valid", "location-only-country", "location", delk("region"))
mut("invalid", "malware-analysis-no-result-no-scos", "malware-analysis", delk("result"))
mut("valid", "malware-analysis-scos-only", "malware-analysis",
    lambda o: (o.pop("result"), o.update(analysis_sco_refs=["file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"])))
mut("invalid", "malware-analysis-host-vm-bad-ref", "malware-analysis", setk(host_vm_ref="soft-id-false"))
mut("valid", "malware-analysis-host-vm-software", "malware-analysis",
    setk(host_vm_ref="software--a4186d48-a4de-4146-af88-6cec55e65c69"))
mut("invalid", "malware-analysis-host-vm-not-software", "malware-analysis",
    setk(host_vm_ref="file--fa7cbf58-0e2f-5c7b-9bd4-6d7e1a8a5b0a"))
mut("valid", "malware-analysis-result-custom-ov", "malware-analysis", setk(result="bad"))
mut("invalid", "malware-analysis-analysis-started-bad", "malware-analysis", setk(analysis_started="x"))
mut("invalid", "malware-analysis-sample-ref-identity", "malware-analysis", setk(sample_ref=IDENT))
LC2 = {"type": "language-content", "id": "language-content--fa8daccd-4df2-4e83-93a4-e1990a2355c2",
       "spec_version": "2.1", "created": "2018-02-08T21:31:22.007Z", "modified": "2018-02-08T21:31:22.007Z",
       "object_ref": "identity--2d1c6ab3-5e4e-48ac-a32b-f0c01c2836a8",
       "object_modified": "2014-08-08T15:50:10.983Z",
       "contents": {"es": {"identity_class": "organización"}}}
case("valid", "lc-reference-wellformed", LC2)
mut("invalid", "lc-contents-key-not-ascii", LC2,
    lambda o: o["contents"].update({"español": {"identity_class": "organización"}}))
mut("invalid", "lc-contents-subkey-short", LC2, lambda o: o["contents"].update(es={"a": "boo"}))
mut("invalid", "lc-created-feb-30", LC2, setk(created="2018-02-30T21:31:22.007Z"))
mut("invalid", "lc-created-micro-after-modified", LC2, setk(created="2018-02-08T21:31:22.007123Z"))
mut("valid", "lc-created-micro-modified-later", LC2,
    setk(created="2018-02-08T21:31:22.007123Z", modified="2018-02-08T21:31:22.008Z"))


# ---- network-traffic and observed-data tests of the reference validator ----
NT2 = {"type": "network-traffic", "spec_version": "2.1",
       "id": "network-traffic--280d1c0d-51d1-4ee8-951f-1fb434a38686",
       "src_ref": "ipv4-addr--e42c19c8-f9fe-5ae9-9fc8-22c398f78fbd", "src_port": 24678,
       "dst_port": 80, "protocols": ["ipv4", "tcp"], "src_byte_count": 147600, "src_packets": 100}
case("valid", "nt-reference-wellformed", NT2)
mut("invalid", "nt-no-src-ref-no-dst-ref", NT2, delk("src_ref"))
mut("invalid", "nt-no-protocols", NT2, delk("protocols"))
mut("valid", "nt-no-ports", NT2, delk("src_port", "dst_port"))
mut("valid", "nt-only-src-port", NT2, delk("dst_port"))
mut("invalid", "nt-src-port-huge", NT2, setk(src_port=9999999))
mut("valid", "nt-protocol-not-iana", NT2, setk(protocols=["ipv4", "tcp", "foo_bar"]))
mut("valid", "nt-protocol-https", NT2, setk(protocols=["ipv4", "tcp", "https"]))
mut("valid", "nt-ipfix-odd-key", NT2, setk(ipfix={"minimumIpTotalLength": 32, "maximumIpTotalLength": 2556, "Foo": "bar"}))
mut("invalid", "nt-http-request-method-list", NT2,
    setk(extensions={"http-request-ext": {"request_method": ["get"], "request_value": "/download.html",
                                          "request_version": "http/1.1",
                                          "request_header": {"Accept-Encoding": "gzip,deflate",
                                                             "Host": "www.example.com",
                                                             "x-foobar": "something"}}}))
mut("valid", "nt-http-request-custom-header", NT2,
    setk(extensions={"http-request-ext": {"request_method": "get", "request_value": "/download.html",
                                          "request_version": "http/1.1",
                                          "request_header": {"Accept-Encoding": "gzip,deflate",
                                                             "Host": "www.example.com",
                                                             "x-foobar": "something"}}}))
mut("invalid", "nt-socket-options-string-value", NT2,
    setk(extensions={"socket-ext": {"address_family": "AF_INET", "socket_type": "SOCK_STREAM",
                                    "options": {"foo": "bar"}}}))
mut("valid", "nt-socket-options-odd-key", NT2,
    setk(extensions={"socket-ext": {"address_family": "AF_INET", "socket_type": "SOCK_STREAM",
                                    "options": {"foo": 1}}}))
mut("invalid", "nt-active-with-end", NT2, setk(is_active=True, end="2016-12-21T19:00:00Z"))
mut("valid", "nt-active", NT2, setk(is_active=True))
mut("valid", "nt-end-equals-start", NT2,
    setk(start="2016-04-06T20:06:37.000Z", end="2016-04-06T20:06:37.000Z"))
mut("invalid", "nt-end-before-start", NT2,
    setk(start="2016-04-06T20:06:37.000Z", end="2016-01-01T00:00:00.000Z"))
mut("valid", "nt-end-after-start", NT2,
    setk(start="2016-04-06T20:06:37.000Z", end="2016-05-07T20:06:37.000Z"))
mut("valid", "od-objects-x509-ext-custom-key", OD, lambda o: o["objects"].update({"2": {
    "type": "x509-certificate", "x509_v3_extensions": {"issuer_alternative_name": "Example Corp", "foo": "bar"}}}))
mut("valid", "od-objects-registry-value-custom-key", OD, lambda o: o["objects"].update({"2": {
    "type": "windows-registry-key", "key": "hkey_local_machine\\system\\bar\\foo",
    "values": [{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ", "foo": "buzz"}]}}))
mut("valid", "od-objects-ads-custom-key", OD, lambda o: o["objects"]["0"]["extensions"].update({
    "ntfs-ext": {"alternate_data_streams": [{"name": "second.stream", "size": 25536, "foo": "bar"}]}}))
mut("valid", "od-objects-directory-contains-file", OD, lambda o: o["objects"].update({"2": {
    "type": "directory", "path": "C:\\Windows\\System32", "contains_refs": ["0"]}}))
mut("invalid", "od-objects-directory-contains-unresolved", OD, lambda o: o["objects"].update({"2": {
    "type": "directory", "path": "C:\\Windows\\System32", "contains_refs": ["999"]}}))
mut("invalid", "od-objects-directory-contains-ipv4", OD, lambda o: o["objects"].update({
    "2": {"type": "directory", "path": "C:\\Windows\\System32", "contains_refs": ["3"]},
    "3": {"type": "ipv4-addr", "value": "203.0.113.1"}}))
mut("invalid", "od-objects-type-action", OD, lambda o: o["objects"]["0"].update(type="action"))
mut("invalid", "od-objects-property-action", OD, lambda o: o["objects"]["0"].update(action=True))
mut("invalid", "od-objects-registry-hive-abbreviated", OD, lambda o: o["objects"].update({"2": {
    "type": "windows-registry-key", "key": "HKLM\\system\\bar\\foo"}}))
mut("valid", "od-objects-registry-hive-full", OD, lambda o: o["objects"].update({"2": {
    "type": "windows-registry-key", "key": "hkey_local_machine\\system\\bar\\foo"}}))
mut("valid", "od-objects-process-priority-odd", OD, lambda o: o["objects"].update({"2": {
    "type": "process", "pid": 314, "extensions": {"windows-process-ext": {
        "aslr_enabled": True, "dep_enabled": True, "priority": "HIGH_PRIORITY",
        "owner_sid": "S-1-5-21-186985262-1144665072-74031268-1309"}}}}))
mut("valid", "od-objects-file-mime-odd", OD, lambda o: o["objects"]["0"].update(mime_type="bla"))
mut("valid", "od-objects-artifact-mime-odd", OD, lambda o: o["objects"].update({"2": {
    "type": "artifact", "url": "http://www.example.com/file.txt",
    "hashes": {"MD5": "B4D33B0C7306351B9ED96578465C5579"}, "mime_type": "bla/blabla"}}))
mut("invalid", "od-objects-artifact-no-url-no-payload", OD, lambda o: o["objects"].update({"2": {
    "type": "artifact", "hashes": {"MD5": "B4D33B0C7306351B9ED96578465C5579"}, "mime_type": "text/plain"}}))
mut("invalid", "od-objects-email-addr-with-display-name", OD, lambda o: o["objects"].update({"2": {
    "type": "email-addr", "value": "John Doe <jdoe@example.com>", "display_name": "John Doe"}}))
mut("valid", "od-objects-email-addr", OD, lambda o: o["objects"].update({"2": {
    "type": "email-addr", "value": "jdoe@example.com", "display_name": "John Doe"}}))
mut("invalid", "od-objects-multipart-unresolved-raw-ref", OD, lambda o: o["objects"].update({"2": {
    "type": "email-message", "is_multipart": True,
    "body_multipart": [{"content_type": "text/plain; charset=utf-8", "body": "Cats are cute!"},
                       {"body_raw_ref": "999"}]}}))
mut("valid", "od-objects-multipart-raw-ref", OD, lambda o: o["objects"].update({"2": {
    "type": "email-message", "is_multipart": True,
    "body_multipart": [{"content_type": "text/plain; charset=utf-8", "body": "Cats are cute!"},
                       {"body_raw_ref": "0"}]}}))
mut("invalid", "od-objects-artifact-key-without-algorithm", OD, lambda o: o["objects"].update({"2": {
    "type": "artifact", "mime_type": "application/zip", "payload_bin": "VBORw0KGgoAAAANSUhEUgAAADI==",
    "decryption_key": "My voice is my passport"}}))
mut("invalid", "od-objects-hash-name-two-chars", OD,
    lambda o: o["objects"]["0"]["hashes"].update(MD="8D98A25E9D0662B1F4CA3BF22D6F53E9"))
mut("invalid", "od-objects-file-created-nov-31", OD,
    lambda o: o["objects"]["1"].update(ctime="2016-11-31T08:17:27.000000Z"))
mut("invalid", "od-objects-pe-timestamp-nov-31", OD, lambda o: o["objects"]["1"].update(extensions={
    "windows-pebinary-ext": {"pe_type": "dll", "time_date_stamp": "2016-11-31T08:17:27Z"}}))
mut("invalid", "od-objects-x509-ext-timestamp-nov-31", OD, lambda o: o["objects"].update({"2": {
    "type": "x509-certificate",
    "x509_v3_extensions": {"private_key_usage_period_not_before": "2016-11-31T08:17:27.000000Z"}}}))
mut("invalid", "od-objects-as-list", OD, setk(objects=[{"type": "windows-registry-key",
    "id": "windows-registry-key--ff1e0780-358c-4808-a8c7-d0fca4ef6ef4",
    "key": "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WSALG2"}]))
mut("invalid", "od-objects-url-not-a-url", OD, lambda o: o["objects"].update({"2": {"type": "url", "value": "foo"}}))
mut("valid", "od-objects-url", OD, lambda o: o["objects"].update({"2": {"type": "url", "value": "http://www.example.com/file.txt"}}))
mut("invalid", "od-objects-artifact-url-not-a-url", OD, lambda o: o["objects"].update({"2": {
    "type": "artifact", "url": "foo", "hashes": {"MD5": "B4D33B0C7306351B9ED96578465C5579"}, "mime_type": "text/plain"}}))
mut("valid", "od-first-equals-last-observed", OD,
    setk(first_observed="2016-04-06T20:06:37.000Z", last_observed="2016-04-06T20:06:37.000Z"))
mut("invalid", "url-value-no-scheme", "url", setk(value="www.example.com/index.html"))
mut("invalid", "registry-key-hklm", "windows-registry-key", setk(key="HKLM\\Software\\foo"))
mut("valid", "registry-key-uppercase-hive", "windows-registry-key", setk(key="HKEY_LOCAL_MACHINE\\Software\\foo"))
mut("invalid", "email-addr-display-name-in-value", "email-addr", setk(value="John Doe <john@example.com>"))
mut("invalid", "artifact-decryption-key-without-algorithm", "artifact", setk(decryption_key="x"))
mut("invalid", "artifact-nothing", "artifact", delk("payload_bin"))


# ---- addresses, relationships, sightings, malware (reference v21 tests) ----
for i, v in enumerate(["192.168.0.1", "192.168.0.1/0", "192.168.0.1/5", "192.168.0.1/32"]):
    mut("valid", f"ipv4-value-{i}", "ipv4-addr", setk(value=v))
for i, v in enumerate(["foo", "999.999.999.999", "192.168.0.1/", "192.168.0.1/33", "192.168.0.1/a",
                       "192.168.0.1/01"]):
    mut("invalid", f"ipv4-bad-value-{i}", "ipv4-addr", setk(value=v))
for i, v in enumerate(["fe80:0000:0000:0000:0204:61ff:fe9d:f156", "fe80:0000:0000:0000:0204:61ff:fe9d:f156/0",
                       "fe80:0000:0000:0000:0204:61ff:fe9d:f156/6", "fe80:0000:0000:0000:0204:61ff:fe9d:f156/128",
                       "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::1", "fe80::204:61ff:fe9d:f156"]):
    mut("valid", f"ipv6-value-{i}", "ipv6-addr", setk(value=v))
for i, v in enumerate(["foo", "fe80:0000:0000:0000:0204:61ff:fe9d:f156/", "fe80:0000:0000:0000:0204:61ff:fe9d:f156/129",
                       "fe80:0000:0000:0000:0204:61ff:fe9d:f156/a", "fe80:0000:0000:0000:0204:61ff:fe9d:f156/00",
                       "fe80:0000:0000:0000:0204:61ff:fe9d:f156/03", "1::2::3", "198.51.100.3"]):
    mut("invalid", f"ipv6-bad-value-{i}", "ipv6-addr", setk(value=v))
mut("invalid", "relationship-source-sighting", "relationship",
    setk(source_ref="sighting--31b940d4-6f7f-459a-80ea-9c1f17b5891b"))
mut("invalid", "relationship-target-marking-definition", "relationship",
    setk(target_ref="marking-definition--31b940d4-6f7f-459a-80ea-9c1f17b5891b"))
mut("valid", "relationship-mitigates-odd-pair", "relationship",
    setk(source_ref="malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
         target_ref="campaign--a2576331-d670-4fb3-8ff3-6fb6b4e698b2", relationship_type="mitigates"))
mut("valid", "relationship-indicates-from-identity", "relationship",
    setk(source_ref="identity--b5437038-eb96-4652-88bc-5f94993b7326"))
mut("valid", "relationship-indicates-report", "relationship",
    setk(target_ref="report--af0976b2-e8f3-4646-8026-1cf4d0ce4d8a"))
mut("valid", "relationship-tool-targets-vulnerability", "relationship",
    setk(source_ref="tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
         target_ref="vulnerability--280d1c0d-51d1-4ee8-951f-1fb434a38686", relationship_type="targets"))
SIGHT2 = sdo("sighting", "6b0e3956-95f3-4c04-a882-116832996da0", created="2016-08-22T14:09:00.123Z",
             modified="2016-08-22T14:09:00.123Z", first_seen="2016-08-22T14:09:00.123456Z",
             sighting_of_ref="malware--36ffb872-1dd9-446e-b6f5-d58527e5b5d2",
             observed_data_refs=["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"],
             where_sighted_refs=["identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"])
case("valid", "sighting-reference-wellformed", SIGHT2)
mut("invalid", "sighting-of-bundle", SIGHT2, setk(sighting_of_ref="bundle--36ffb872-1dd9-446e-b6f5-d58527e5b5d2"))
mut("invalid", "sighting-observed-data-refs-tool", SIGHT2,
    lambda o: o["observed_data_refs"].append("tool--36ffb872-1dd9-446e-b6f5-d58527e5b5d2"))
mut("invalid", "sighting-where-sighted-tool", SIGHT2,
    lambda o: o["where_sighted_refs"].append("tool--36ffb872-1dd9-446e-b6f5-d58527e5b5d2"))
mut("valid", "malware-types-single-chars", "malware", lambda o: o["malware_types"].extend(list("something")))
mut("valid", "malware-types-uppercase", "malware", lambda o: o["malware_types"].append("Ransomware"))
mut("valid", "malware-types-underscore", "malware", lambda o: o["malware_types"].append("ransom_ware"))
mut("valid", "malware-types-space", "malware", lambda o: o["malware_types"].append("ransom ware"))


# ---- vulnerability / attack-pattern references, tool, identity, report ----
for i, v in enumerate(["2016-1234", "CVE-20161234", "CVE-2016-abc", "cve-2016-1234", "CVE-2016-0123x", "CVE-2016-01234"]):
    mut("invalid", f"vulnerability-cve-id-bad-{i}", "vulnerability",
        lambda o: o["external_references"][0].update(external_id=v))
mut("valid", "vulnerability-cve-id-long", "vulnerability",
    lambda o: o["external_references"][0].update(external_id="CVE-2021-44228"))
mut("invalid", "vulnerability-cve-source-uppercase", "vulnerability",
    lambda o: o["external_references"][0].update(source_name="CVE"))
mut("invalid", "vulnerability-cve-without-id", "vulnerability",
    lambda o: o["external_references"][0].pop("external_id"))
mut("valid", "vulnerability-veris-url-no-hash", "vulnerability",
    lambda o: o["external_references"][0].update(
        source_name="veris", url="https://github.com/vz-risk/VCDB/blob/master/data/json/0001AA7F.json",
        external_id="0001AA7F-C601-424A-B2B8-BE6C9F5164E7"))
mut("valid", "vulnerability-no-external-references", "vulnerability", delk("external_references"))
mut("invalid", "attack-pattern-capec-bad-id", "attack-pattern",
    lambda o: o["external_references"][0].update(external_id="163"))
mut("valid", "attack-pattern-other-source", "attack-pattern",
    lambda o: o["external_references"].append({"source_name": "mitre-attack", "external_id": "T1566"}))
mut("valid", "tool-labels-odd", "tool", setk(labels=["remote-access", "multi-purpose"]))
mut("valid", "tool-kill-chain-odd-names", "tool",
    setk(kill_chain_phases=[{"kill_chain_name": "Some thing", "phase_name": "Something_invalid"}]))
mut("valid", "identity-class-corporation", "identity", setk(identity_class="corporation"))
mut("valid", "report-type-something", "report", setk(report_types=["something"]))
mut("invalid", "report-published-nov-31", "report", setk(published="2016-11-31T08:17:27.000000Z"))
mut("valid", "threat-actor-odd-vocab", "threat-actor",
    setk(primary_motivation="selfishness", resource_level="high", roles=["contributor"],
         sophistication="high", threat_actor_types=["anonymous"]))
case("valid", "list-attack-pattern-identity", [BASE["attack-pattern"], BASE["identity"]])
case("invalid", "list-identity-id-wrong-type",
     [BASE["attack-pattern"], {**BASE["identity"], "id": BASE["identity"]["id"].replace("identity", "abc")}])


# ---- course of action, interop and raw-text cases ----
COA2 = sdo("course-of-action", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", created_by_ref=IDENT,
           name="mitigation-poison-ivy-firewall",
           description="Recommended steps to respond to the Poison Ivy malware")
case("valid", "coa-reference-wellformed", COA2)
mut("invalid", "coa-action-reserved", COA2, setk(action="block"))
mut("valid", "coa-draft-properties-are-custom", COA2,
    setk(action_type="textual:text/plain", action_bin="SGVsbG8gV29ybGQ=",
         action_reference={"source_name": "internet", "url": "hxxps://www.stopthebad.com/x.asa"}))
mut("invalid", "coa-custom-bin-not-base64", COA2, setk(x_action_bin="Hello World!"))
CAMP2 = sdo("campaign", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", created_by_ref=IDENT,
            name="Spear Phishing", external_references=[{"source_name": "capec", "external_id": "CAPEC-163"}],
            kill_chain_phases=[{"kill_chain_name": "example-kill-chain", "phase_name": "lateral-movement"}],
            object_marking_refs=[TLP_RED, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ef"])
case("valid", "interop-campaign-markings", CAMP2)
case("invalid", "json-missing-comma", Raw('{\n  "type": "campaign",\n  "spec_version": "2.1",\n'
     '  "id": "campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",\n'
     '  "created": "2016-05-12T08:17:27.000Z",\n  "modified": "2016-05-12T08:17:27.000Z"\n'
     '  "name": "Spear Phishing"\n}\n'))
case("invalid", "json-unbalanced-braces", Raw('{"type": "identity", "spec_version": "2.1", '
     '"id": "identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e", "created": "2016-04-06T20:03:48.000Z", '
     '"modified": "2016-04-06T20:03:48.000Z", "name": "x"}}\n'))
case("invalid", "json-duplicate-member", Raw('{"type": "identity", "spec_version": "2.1", '
     '"id": "identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e", "created": "2016-04-06T20:03:48.000Z", '
     '"modified": "2016-04-06T20:03:48.000Z", "name": "x", "name": "y"}\n'))
case("invalid", "json-empty-file", Raw(''))
case("valid", "unicode-identity", {**BASE["identity"], "name": "Gruppe Süd – 東京", "description": "emoji 🛡"})
mut("invalid", "identity-missing-modified-reference", "identity", delk("modified"))
mut("invalid", "identity-modified-before-created-reference", "identity",
    setk(created="2016-04-06T20:03:48.000Z", modified="2016-01-01T00:00:00.000Z"))


# ---- timestamps and custom properties (attack-pattern, campaign, incident) ----
AP2 = sdo("attack-pattern", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", created="2016-02-12T08:17:27.000Z",
          modified="2016-02-12T08:17:27.000Z", name="Spear Phishing", description="...",
          external_references=[{"source_name": "capec", "external_id": "CAPEC-463"}])
case("valid", "ap-reference-wellformed", AP2)
mut("invalid", "ap-capec-abc", AP2, lambda o: o["external_references"][0].update(external_id="CAPEC-abc"))
mut("invalid", "ap-capec-no-external-id", AP2, lambda o: o["external_references"][0].pop("external_id"))
mut("invalid", "ap-property-hyphen", AP2, setk(**{"x-something": "some value"}))
mut("valid", "ap-property-x", AP2, setk(x_something="some value"))
mut("valid", "ap-property-x-source", AP2, setk(x_source_something="some value"))
mut("valid", "ap-property-unprefixed", AP2, setk(something="some value"))
mut("valid", "ap-property-extension", AP2, setk(extensions={
    "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {
        "extension_type": "property-extension", "rank": 5, "toxicity": 8}}))
mut("valid", "ap-toplevel-extension", AP2, setk(something="some value", rank=5, toxicity=8, extensions={
    "extension-definition--a932fcc6-e032-176c-826f-cb970a5a1fff": {"extension_type": "toplevel-property-extension"}}))
for i, ts in enumerate(["2016-13-12T08:17:27.000Z", "2016-03-42T08:17:27.000Z", "2016-03-00T08:17:27.000Z",
                        "2016-03-12T99:17:27.000Z", "2016-03-12T08:99:27.000Z", "2016-11-31T08:17:27.000Z",
                        "2017-02-29T08:17:27.000Z", "2016-03-12T08:17:99.000Z", "16-03-12T08:17:27.000Z"]):
    mut("invalid", f"ap-modified-bad-{i}", AP2, setk(modified=ts))
mut("invalid", "ap-created-micro-after-modified", AP2,
    setk(created="2016-02-29T08:17:27.000036Z", modified="2016-02-29T08:17:27.000Z"))
mut("valid", "ap-created-micro-modified-later", AP2,
    setk(created="2016-02-29T08:17:27.000036Z", modified="2016-02-29T08:17:27.001Z"))
CAMP3 = sdo("campaign", "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", created="2023-03-17T13:37:42.596Z",
            modified="2023-09-27T20:12:54.984Z", created_by_ref=IDENT, name="Operation Dream Job",
            aliases=["Operation Dream Job", "Operation North Star"],
            first_seen="2019-09-01T04:00:00.000Z", last_seen="2020-08-01T04:00:00.000Z")
case("valid", "campaign-reference-wellformed", CAMP3)
mut("invalid", "campaign-created-sep-31", CAMP3, setk(created="2016-09-31T08:17:27.000Z"))
mut("invalid", "campaign-created-micro-after-modified", CAMP3, setk(created="2023-09-27T20:12:54.984123Z"))
mut("valid", "campaign-created-micro-modified-later", CAMP3,
    setk(created="2023-09-27T20:12:54.984123Z", modified="2023-09-27T20:12:54.985Z"))
mut("invalid", "campaign-first-seen-sep-31", CAMP3, setk(first_seen="2019-09-31T04:00:00.000Z"))
mut("invalid", "campaign-first-seen-micro-after-last", CAMP3, setk(first_seen="2020-08-01T04:00:00.000123Z"))
mut("valid", "campaign-first-seen-micro-last-later", CAMP3,
    setk(first_seen="2020-08-01T04:00:00.000123Z", last_seen="2020-08-01T04:00:00.001Z"))
INC2 = sdo("incident", "dd8651ee-d529-44fe-b063-bb6f006fbe5c", created="2021-03-20T08:17:27.000Z",
           modified="2021-03-20T08:17:27.000Z", name="FUBAR", description="Something happened")
case("valid", "incident-reference-wellformed", INC2)
mut("invalid", "incident-created-march-32", INC2, setk(created="2021-03-32T08:17:27.000Z"))
mut("invalid", "incident-reference-missing-name", INC2, delk("name"))
mut("valid", "intrusion-set-custom-country", "intrusion-set", setk(country="USA"))
mut("valid", "intrusion-set-goals", "intrusion-set", setk(aliases=["Zookeeper"], goals=["acquisition-theft", "harassment"]))
mut("valid", "intrusion-set-motivation-ov", "intrusion-set", setk(primary_motivation="selfishness", resource_level="high"))


# ---- whole-file examples in the shape of the reference validator's ----
case("valid", "bundle-identity-custom-property", bundle({**BASE["identity"], "foo": "bar"}))
case("valid", "tool-custom-properties", {**BASE["tool"], "foo_value": "bizz", "bar_value": "buzz"})
case("valid", "bundle-tlp2-amber", bundle({
    "type": "marking-definition", "spec_version": "2.1",
    "id": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "created": "2022-10-01T00:00:00.000Z",
    "name": "TLP:AMBER", "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "amber"}}}))
case("valid", "bundle-tlp2-and-extension-definition", bundle(
    {"type": "marking-definition", "spec_version": "2.1",
     "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "created": "2022-10-01T00:00:00.000Z",
     "name": "TLP:CLEAR", "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "clear"}}},
    {**BASE["indicator"], "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}))
case("invalid", "bundle-identity-modified-before-created",
     bundle({**BASE["identity"], "created": "2016-08-08T15:50:10.983Z", "modified": "2015-08-08T15:50:10.983Z"}))
case("invalid", "bundle-identity-missing-modified", bundle({k: v for k, v in BASE["identity"].items() if k != "modified"}))


# ---- the canonical TLP ids carry only the canonical content (S40, S41) ----
TLPG = {"type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "green"}}
mut("invalid", "tlp1-green-id-other-definition-type", TLPG, setk(definition_type="something"))
mut("invalid", "tlp1-green-id-granular-markings", TLPG,
    setk(granular_markings=[{"marking_ref": MARK, "selectors": ["id"]}]))
mut("invalid", "tlp1-green-id-marks-itself", TLPG, setk(object_marking_refs=[TLP_GREEN]))
mut("invalid", "tlp1-green-id-marked-by-other", TLPG, setk(object_marking_refs=[MARK]))
mut("invalid", "tlp1-green-definition-21", TLPG, setk(definition={"tlp": 21}))
mut("invalid", "tlp1-green-extra-property", TLPG, setk(x_note="mine"))


# ---- extension blocks keyed by an extension-definition need extension_type ----
mut("invalid", "ext-without-extension-type", "campaign", setk(extensions={EXTDEF: {"rank": 5}}))
mut("invalid", "ext-sco-without-extension-type", "file", setk(extensions={EXTDEF: {"x": 1}}))
mut("valid", "ext-sco-property-extension", "file", setk(extensions={EXTDEF: {"extension_type": "property-extension", "x": 1}}))
mut("valid", "lc-granular-selector-into-contents", "language-content",
    setk(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["contents.de.name"]}]))
mut("invalid", "lc-granular-selector-missing-language", "language-content",
    setk(granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["contents.es.name"]}]))
mut("invalid", "marking-extension-new-sdo", "marking-definition",
    lambda o: (o.pop("definition"), o.pop("definition_type"),
               o.update(extensions={EXTDEF: {"extension_type": "new-sdo"}})))
mut("invalid", "indicator-pattern-type-list", "indicator", setk(pattern_type=["stix"]))
mut("valid", "new-sco-declared", {"type": "x-new-sco", "spec_version": "2.1",
    "id": "x-new-sco--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "value": "v",
    "extensions": {EXTDEF: {"extension_type": "new-sco"}}}, lambda o: None)
mut("invalid", "new-sdo-declared-without-modified", {"type": "x-new-sdo", "spec_version": "2.1",
    "id": "x-new-sdo--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-01-01T00:00:00.000Z",
    "extensions": {EXTDEF: {"extension_type": "new-sdo"}}}, lambda o: None)


def main():
    for old in HERE.glob("*.json"):
        if old.name.startswith(("valid-", "invalid-")):
            old.unlink()
    for name, doc in sorted(CASES.items()):
        text = doc if isinstance(doc, Raw) else json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        (HERE / name).write_text(text)
    print(f"{len(CASES)} cases written to {HERE}")


if __name__ == "__main__":
    main()
