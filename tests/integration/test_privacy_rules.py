"""The rules of DATA/privacy-policy.json and DATA/retention.json changed
through the CLI (issue 15, docs/privacy.md): `meridian privacy policy
add|list|remove` and `meridian retention add|list|remove` go through the
node's audited admin changes. Each change is checked by the parser serve
reads the file with (a bad one is refused with the member named and changes
nothing), has an audit record without the pseudonymisation key, and a
running serve applies the retention rules at its next round."""
import json
import uuid

import pytest

from node import Node, wait_for

KEY = "0123456789abcdef" * 4


def cli(n, *args, check=True):
    return n.cli(*args, "--data", n.data, check=check)


def audit(n, obj):
    lines = cli(n, "audit", "--json").stdout.splitlines()
    return [r for r in map(json.loads, filter(None, lines)) if obj in json.dumps(r)]


@pytest.fixture
def node(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "n", extra_args=["--retention-interval", "1"])
    n.init(org="own")
    n.coll = n.collection(alias="intel")
    yield n
    n.stop()


def test_privacy_policy_rules_are_checked_written_and_audited(node):
    n = node
    cli(n, "privacy", "policy", "add", "--scope", "export", "--type", "*", "--property",
        "description", "--action", "drop")
    keyf = n.data / "community.key"
    keyf.write_text(KEY + "\n")
    cli(n, "privacy", "policy", "add", "--scope", "peer:north", "--type", "ipv4-addr",
        "--property", "value", "--action", "pseudonymise", "--key-file", str(keyf))
    doc = json.loads((n.data / "privacy-policy.json").read_text())
    assert [r["scope"] for r in doc["rules"]] == ["export", "peer:north"]
    assert doc["rules"][1]["key"] == KEY
    # list shows the rules numbered, never the key
    out = cli(n, "privacy", "policy", "list").stdout
    assert out.startswith("1\t") and "\n2\t" in out and KEY not in out, out
    listed = json.loads(cli(n, "privacy", "policy", "list", "--json").stdout)["rules"]
    assert listed[1]["key"] == "(secret)"

    # refused by serve's own parser: the member named, the file unchanged
    before = (n.data / "privacy-policy.json").read_text()
    p = cli(n, "privacy", "policy", "add", "--scope", "all", "--type", "indicator",
            "--property", "name", "--action", "hide", check=False)
    assert p.returncode == 1 and "rules[2].action" in p.stderr, p.stderr
    p = cli(n, "privacy", "policy", "add", "--scope", "all", "--type", "indicator",
            "--property", "id", "--action", "drop", check=False)
    assert p.returncode == 1 and "rules[2]" in p.stderr, p.stderr
    p = cli(n, "privacy", "policy", "remove", "7", check=False)
    assert p.returncode == 1 and "no rule 7" in p.stderr, p.stderr
    assert (n.data / "privacy-policy.json").read_text() == before

    cli(n, "privacy", "policy", "remove", "1")
    doc = json.loads((n.data / "privacy-policy.json").read_text())
    assert [r["scope"] for r in doc["rules"]] == ["peer:north"]

    recs = audit(n, "privacy-policy")
    assert len(recs) == 3, recs  # two adds, one remove; the refused ones left none
    assert KEY not in json.dumps(recs)
    # serve starts with the file the verbs wrote
    n.start()
    assert n.get("/taxii2/").status_code == 200


def test_retention_rules_through_the_cli_reach_a_running_serve(node):
    n = node
    n.start()
    s = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "sighting_of_ref": f"indicator--{uuid.uuid4()}"}
    n.post_ok(n.coll, [s])

    def present():
        r = n.get(n.objects_path(n.coll) + f"?match[id]={s['id']}")
        return r.status_code == 200 and r.json().get("objects")

    assert present()
    p = cli(n, "retention", "add", "--type", "sighting", "--days", "100000", check=False)
    assert p.returncode == 1 and "rules[0].days" in p.stderr, p.stderr
    p = cli(n, "retention", "add", "--collection", "api1/nosuch", "--type", "sighting",
            "--days", "0", check=False)
    assert p.returncode == 1 and "rules[0].collection" in p.stderr, p.stderr
    assert not (n.data / "retention.json").exists()
    assert present()

    cli(n, "retention", "add", "--collection", "api1/intel", "--type", "sighting", "--days", "0")
    assert "api1/intel" in cli(n, "retention", "list").stdout
    wait_for(lambda: not present(), timeout=20, step=0.2)
    assert len(audit(n, "retention.json rule 1")) == 1
    cli(n, "retention", "remove", "1")
    assert json.loads(cli(n, "retention", "list", "--json").stdout) == {"rules": []}


# ---- hot reload: a running serve applies a new privacy policy -------------

def indicator(name, **extra):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": name, "description": f"{name}: seen at the victim's desk",
            "pattern": "[domain-name:value = 'evil.example']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", **extra}


@pytest.fixture
def shared(tmp_path, meridian_bin):
    """A running node with a collection a partner and a constituent read."""
    n = Node(meridian_bin, tmp_path / "n")
    n.init(org="own")
    n.coll = n.collection(alias="intel")
    n.org("north", "partner")
    n.org("city", "constituent")
    n.partner = n.token("north")
    n.constituent = n.token("city")
    n.grant("north", n.coll, True, False)
    n.grant("city", n.coll, True, False)
    n.start()
    yield n
    n.stop()


def partner_view(n):
    r = n.get(n.objects_path(n.coll), token=n.partner)
    assert r.status_code == 200, r.text
    return {o["name"]: o for o in r.json().get("objects", [])}


DROP_DESC = {"scope": "org:north", "type": "indicator", "property": "description",
             "action": "drop"}


def test_policy_change_applies_to_a_running_serve_within_a_second(shared):
    n = shared
    first = indicator("first")
    n.post_ok(n.coll, [first])
    assert "description" in partner_view(n)["first"]
    # a rule added through the CLI while serve runs: the partner's reads
    # are minimised by it once serve looks at the file again (at most a
    # second: PRIVACY_LIVE_CHECK_MS). "first" was signed whole before the
    # rule existed, so it cannot be minimised and verify: it is withheld.
    cli(n, "privacy", "policy", "add", "--scope", "org:north", "--type", "indicator",
        "--property", "description", "--action", "drop")
    wait_for(lambda: "first" not in partner_view(n), timeout=10, step=0.1)
    # objects signed from now on get the selective-disclosure block the
    # new policy needs (ingest reads the policy in force too): minimised
    n.post_ok(n.coll, [indicator("second")])
    got = partner_view(n)
    assert set(got) == {"second"} and "description" not in got["second"], got
    ext = got["second"]["extensions"]
    sd = [v for v in ext.values() if isinstance(v, dict) and "digests" in v]
    assert sd and "description" not in sd[0]["disclosures"], ext
    # the own org still reads everything as stored
    r = n.get(n.objects_path(n.coll))
    assert {o["name"] for o in r.json()["objects"]} == {"first", "second"}
    # removed: whole again within the second
    cli(n, "privacy", "policy", "remove", "1")
    wait_for(lambda: set(partner_view(n)) == {"first", "second"}, timeout=10, step=0.1)
    got = partner_view(n)
    assert "description" in got["second"], got


def test_a_bad_file_keeps_the_policy_in_force_and_is_logged(shared):
    n = shared
    n.post_ok(n.coll, [indicator("kept")])
    cli(n, "privacy", "policy", "add", "--scope", "org:north", "--type", "indicator",
        "--property", "description", "--action", "drop")
    wait_for(lambda: "kept" not in partner_view(n), timeout=10, step=0.1)
    # an edit by hand that serve would refuse: the old policy stays in force
    (n.data / "privacy-policy.json").write_text('{"rules": [{"scope": "all"')
    # (reads go on meanwhile: a read is what looks at the file)
    wait_for(lambda: "kept" not in partner_view(n) and
             "privacy policy not reloaded" in n.stderr(), timeout=10, step=0.1)
    assert "kept" not in partner_view(n)
    # fixed: applied within the second
    (n.data / "privacy-policy.json").write_text('{"rules": []}')
    wait_for(lambda: "kept" in partner_view(n), timeout=10, step=0.1)
    assert "description" in partner_view(n)["kept"]


# ---- the rule verbs on the admin API ---------------------------------------

JSON_CT = {"Content-Type": "application/json"}


def api(n, method, path, token="admin", body=None, raw=None):
    kw = {"headers": JSON_CT} if body is not None or raw is not None else {}
    if body is not None:
        kw["data"] = json.dumps(body)
    elif raw is not None:
        kw["data"] = raw
    return n.req(method, "/api/v1/" + path, token=token, accept="application/json", **kw)


def test_privacy_policy_rules_over_the_admin_api(shared):
    n = shared
    n.post_ok(n.coll, [indicator("api")])
    assert "api" in partner_view(n)
    r = api(n, "GET", "privacy/policy")
    assert r.status_code == 200 and r.json() == {"file": "privacy-policy.json", "rules": []}, r.text

    # only the node's own org: everyone else gets 404 and changes nothing
    for tok in (n.partner, n.constituent):
        for method, path, body in (("GET", "privacy/policy", None),
                                   ("POST", "privacy/policy", DROP_DESC),
                                   ("DELETE", "privacy/policy/1", None)):
            r = api(n, method, path, token=tok, body=body)
            assert r.status_code == 404, (method, path, r.text)
    assert not (n.data / "privacy-policy.json").exists()
    assert api(n, "GET", "privacy/policy", token=None).status_code == 401

    # bad input: 400 saying what, nothing written
    r = api(n, "POST", "privacy/policy", body=dict(DROP_DESC, action="hide"))
    assert r.status_code == 400 and "rules[0].action" in r.json()["detail"], r.text
    r = api(n, "POST", "privacy/policy", body=dict(DROP_DESC, colour="red"))
    assert r.status_code == 400 and "colour" in r.json()["detail"], r.text
    r = api(n, "POST", "privacy/policy", body=dict(DROP_DESC, property="id"))
    assert r.status_code == 400 and "rules[0]" in r.json()["detail"], r.text
    r = api(n, "POST", "privacy/policy", body=[DROP_DESC])
    assert r.status_code == 400 and "JSON object" in r.json()["detail"], r.text
    r = api(n, "POST", "privacy/policy", raw="{not json")
    assert r.status_code == 400, r.text
    r = api(n, "POST", "privacy/policy", raw="x" * 5000)
    assert r.status_code == 413, r.text
    assert not (n.data / "privacy-policy.json").exists()
    assert "api" in partner_view(n)

    # added over HTTP: checked, written, and in force for the very next
    # read (the route tells serve: no wait for its look at the file)
    r = api(n, "POST", "privacy/policy", body=DROP_DESC)
    assert r.status_code == 201 and r.json()["rules"] == [DROP_DESC], r.text
    assert "api" not in partner_view(n)  # signed whole before the rule: withheld
    key_rule = {"scope": "peer:south", "type": "ipv4-addr", "property": "value",
                "action": "pseudonymise", "key": KEY}
    r = api(n, "POST", "privacy/policy", body=key_rule)
    assert r.status_code == 201 and KEY not in r.text, r.text
    assert r.json()["rules"][1]["key"] == "(secret)"
    doc = json.loads((n.data / "privacy-policy.json").read_text())
    assert doc["rules"] == [DROP_DESC, key_rule]
    listed = cli(n, "privacy", "policy", "list", "--json").stdout
    assert json.loads(listed)["rules"] == api(n, "GET", "privacy/policy").json()["rules"]

    for bad in ("0", "x", "99999999999"):
        r = api(n, "DELETE", "privacy/policy/" + bad)
        assert r.status_code == 400 and "1..1024" in r.json()["detail"], (bad, r.text)
    r = api(n, "DELETE", "privacy/policy/3")
    assert r.status_code == 404 and "no rule 3" in r.json()["detail"], r.text
    r = api(n, "DELETE", "privacy/policy/1")
    assert r.status_code == 200 and [x["scope"] for x in r.json()["rules"]] == ["peer:south"]
    assert "description" in partner_view(n)["api"]

    # audited like every admin change: via http, the token's org, no key
    recs = audit(n, "privacy-policy")
    assert len(recs) == 3, recs
    assert all('"via":"http"' in json.dumps(r, separators=(",", ":")) for r in recs), recs
    assert KEY not in json.dumps(recs)


def test_retention_rules_over_the_admin_api(shared):
    n = shared
    r = api(n, "GET", "retention")
    assert r.status_code == 200 and r.json() == {"file": "retention.json", "rules": []}, r.text
    rule = {"collection": "api1/intel", "type": "sighting", "days": 90}
    assert api(n, "POST", "retention", token=n.partner, body=rule).status_code == 404
    assert api(n, "POST", "retention", token=n.constituent, body=rule).status_code == 404
    r = api(n, "POST", "retention", body=dict(rule, days=100000))
    assert r.status_code == 400 and "rules[0].days" in r.json()["detail"], r.text
    r = api(n, "POST", "retention", body=dict(rule, collection="api1/nosuch"))
    assert r.status_code == 400 and "rules[0].collection" in r.json()["detail"], r.text
    r = api(n, "POST", "retention", body={"days": 3})
    assert r.status_code == 400 and "type" in r.json()["detail"], r.text
    assert not (n.data / "retention.json").exists()
    r = api(n, "POST", "retention", body=rule)
    assert r.status_code == 201 and r.json()["rules"] == [rule], r.text
    assert "api1/intel" in cli(n, "retention", "list").stdout
    assert api(n, "DELETE", "retention/1", token=n.partner).status_code == 404
    r = api(n, "DELETE", "retention/2")
    assert r.status_code == 404, r.text
    r = api(n, "DELETE", "retention/1")
    assert r.status_code == 200 and r.json()["rules"] == [], r.text
    recs = audit(n, "retention.json rule 1")
    assert len(recs) == 2 and all("http" in json.dumps(x) for x in recs), recs


def test_help_summaries_name_the_rule_verbs(meridian_bin):
    out = Node(meridian_bin, ".").cli("help").stdout
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ") and ln.split()}
    assert "add|list|remove" in lines["privacy"], out
    assert "add|list|remove" in lines["retention"], out
    man = Node(meridian_bin, ".").cli("help", "--man", "retention").stdout
    assert "add|list|remove" in man, man
