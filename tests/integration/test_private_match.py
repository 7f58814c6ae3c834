"""Private matching (issue 15, docs/privacy.md "Private matching"): two real
nodes. Node A offers a TLP:RED collection with `meridian privacy offer`; node
B runs `meridian match --private A` over its logs. B must find exactly the
intersection of its log values and A's indicator values, A must never hold
B's values, and A must refuse who may not use the offer, batches past the
budget and hostile batches, each with a clear error."""
import json
import os
import pathlib
import subprocess
import uuid

import pytest
import requests

from node import TLP_AMBER, TLP_RED, indicator, start_node, wait_for, Node

OCTET = "application/octet-stream"

# On A's list (exact values of every kind the index keeps) ...
OFFERED = {
    "ip": "203.0.113.7",
    "ip6": "2001:db8::17",
    "domain": "evil.example",
    "url": "http://bad.example/payload.bin",
    "email": "phish@bad.example",
    "sha256": "a" * 64,
}
# ... and only in B's logs: A must never see these.
B_ONLY = ["198.51.100.23", "innocent.example", "http://fine.example/index.html",
          "alice@fine.example", "b" * 64, "2001:db8::99"]


def ind(pattern, tlp=TLP_RED, **extra):
    o = indicator(tlp, **extra)
    o["pattern"] = pattern
    return o


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, meridian_bin):
    a = start_node(meridian_bin, tmp_path_factory.mktemp("offer"))
    a.org("partnerb", "partner")
    a.org("other", "partner")
    tb = a.token("partnerb")
    to = a.token("other")
    coll = a.collection(alias="red")
    a.post_ok(coll, [
        ind(f"[ipv4-addr:value = '{OFFERED['ip']}']"),
        ind(f"[ipv6-addr:value = '{OFFERED['ip6']}']"),
        ind(f"[domain-name:value = '{OFFERED['domain']}']"),
        ind(f"[url:value = '{OFFERED['url']}'] OR [email-addr:value = '{OFFERED['email']}']"),
        ind(f"[file:hashes.'SHA-256' = '{OFFERED['sha256']}']"),
        ind("[ipv4-addr:value = '192.0.2.0/24']"),  # a range: no exact key, not offered
        ind("[ipv4-addr:value = '192.0.2.200']", revoked=True),  # revoked: not offered
    ])
    a.cli("privacy", "offer", "redlist", "--collection", coll, "--to", "partnerb",
          "--data", a.data)
    a.cli("privacy", "offer", "tight", "--collection", coll, "--to", "partnerb",
          "--budget", "5", "--data", a.data)

    bdir = tmp_path_factory.mktemp("partner")
    b = Node(meridian_bin, bdir)
    b.init()
    local = b.collection()
    for name, token in (("a", tb), ("a-other", to)):
        b.cli("peer", "add", name, "--data", b.data, "--url", a.url, "--api-root", "api1",
              "--collection", coll, "--local-collection", local, "--token", token,
              "--direction", "pull")
    # Reveal: an AMBER collection partnerb may read and write, offered with
    # --reveal; one RED indicator in it partnerb may not read.
    amber = a.collection(alias="amber")
    a.grant("partnerb", amber, True, True)
    a.post_ok(amber, [
        ind(f"[ipv4-addr:value = '{OFFERED['ip']}']", tlp=TLP_AMBER, name="amber ip"),
        ind(f"[domain-name:value = '{OFFERED['domain']}']", tlp=TLP_AMBER, name="amber dom"),
        ind(f"[url:value = '{OFFERED['url']}']", tlp=TLP_RED, name="red url"),
        ind("[ipv4-addr:value = '192.0.2.99']", tlp=TLP_AMBER, name="not in the logs"),
    ])
    a.cli("privacy", "offer", "open", "--collection", amber, "--to", "partnerb", "--reveal",
          "--data", a.data)
    a.cli("privacy", "offer", "closed", "--collection", amber, "--to", "partnerb",
          "--data", a.data)
    b.cli("peer", "add", "a-amber", "--data", b.data, "--url", a.url, "--api-root", "api1",
          "--collection", amber, "--local-collection", local, "--token", tb,
          "--direction", "pull")
    a.amber = amber
    yield a, b, tb, to, coll
    a.stop()


def write_logs(d):
    csv = d / "proxy.csv"
    rows = ["src_ip,dst_host,url,sha256,email"]
    rows.append(f"{OFFERED['ip']},innocent.example,http://fine.example/index.html,"
                f"{'b' * 64},alice@fine.example")
    rows.append(f"198.51.100.23,EVIL.example.,{OFFERED['url']},{OFFERED['sha256'].upper()},"
                f"{OFFERED['email']}")
    rows.append("198.51.100.23,innocent.example,http://fine.example/index.html,,")
    csv.write_text("\n".join(rows) + "\n")
    jl = d / "conn.jsonl"
    jl.write_text(json.dumps({"source.ip": "2001:db8::99", "destination.ip": "2001:0db8::0017",
                              "dns.question.name": "192.0.2.7"}) + "\n")
    return [csv, jl]


def run_private(b, peer, logs, *extra):
    p = b.cli("match", "--private", peer, "--data", b.data, *extra, *map(str, logs), check=False)
    return p, [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def test_session_finds_exactly_the_intersection(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    logs = write_logs(tmp_path)
    p, hits = run_private(b, "a", logs, "--offer", "redlist")
    assert p.returncode == 0, p.stderr
    got = {(pathlib.Path(h["file"]).name, h["line"], h["value"]) for h in hits}
    assert got == {
        ("proxy.csv", 2, OFFERED["ip"]),
        ("proxy.csv", 3, "EVIL.example."),
        ("proxy.csv", 3, OFFERED["url"]),
        ("proxy.csv", 3, OFFERED["sha256"].upper()),
        ("proxy.csv", 3, OFFERED["email"]),
        ("conn.jsonl", 1, "2001:0db8::0017"),
    }, p.stdout
    # the published set: the six exact values (the range and the revoked one left out)
    assert "6 published values" in p.stderr, p.stderr
    # accounting: A counted the distinct values B checked, nothing more
    info = a.get("/api/v1/private/redlist", token=tb, accept="application/json").json()
    distinct = int(p.stderr.split(" distinct values")[0].rsplit(" ", 1)[1])
    assert info["used_today"] == distinct and distinct >= 12, (info, p.stderr)


def test_who_may_not_use_the_offer_gets_404(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    for path in ("/api/v1/private/redlist", "/api/v1/private/redlist/set",
                 "/api/v1/private/nosuch"):
        r = a.get(path, token=to, accept="application/json")
        assert r.status_code == 404, (path, r.status_code, r.text)
    r = a.req("POST", "/api/v1/private/redlist/evaluate", token=to, accept=None,
              headers={"Content-Type": OCTET}, data=bytes(32))
    assert r.status_code == 404, r.text
    assert a.get("/api/v1/private/", token=to, accept="application/json").json() == {"offers": []}
    r = a.get("/api/v1/private/redlist", token=None, accept="application/json")
    assert r.status_code == 401, r.text
    p, hits = run_private(b, "a-other", write_logs(tmp_path), "--offer", "redlist")
    assert p.returncode == 2 and "HTTP 404" in p.stderr and hits == [], p.stderr


def test_over_budget_is_refused_with_429(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    p, hits = run_private(b, "a", write_logs(tmp_path), "--offer", "tight")
    assert p.returncode == 2, p.stderr
    assert "HTTP 429" in p.stderr and "budget_per_day" in p.stderr, p.stderr
    assert hits == []
    r = a.req("POST", "/api/v1/private/tight/evaluate", token=tb, accept=None,
              headers={"Content-Type": OCTET}, data=bytes(32) * 6)
    assert r.status_code == 429, r.text
    assert "allows 5 values a day" in r.json()["detail"], r.text
    assert int(r.headers["Retry-After"]) > 0


def test_hostile_batches_get_400_with_the_limit(nodes):
    a, b, tb, to, coll = nodes

    def post(body):
        return a.req("POST", "/api/v1/private/redlist/evaluate", token=tb, accept=None,
                     headers={"Content-Type": OCTET}, data=body)

    r = post(b"\x01" * 33)
    assert r.status_code == 400 and "whole number of 32-byte elements" in r.json()["detail"]
    r = post(b"")
    assert r.status_code == 400 and "empty batch" in r.json()["detail"], r.text
    r = post(bytes(32) * 4097)
    assert r.status_code == 400 and "PMATCH_BATCH_MAX" in r.json()["detail"], r.text
    r = post(bytes(32) * 20000)  # far past it: refused before it is read
    assert r.status_code == 413, r.text
    for bad in (b"\xff" * 32, bytes(32)):  # not canonical; the identity
        r = post(bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
                 + bad)
        assert r.status_code == 400, r.text
        assert "element 1" in r.json()["detail"] and "ristretto255" in r.json()["detail"], r.text
    r = a.get("/api/v1/private/redlist/set?start=x", token=tb, accept="application/json")
    assert r.status_code == 400, r.text


def amber_ids(a, name):
    r = a.get(a.objects_path(a.amber) + "?match[type]=indicator")
    assert r.status_code == 200, r.text
    return {o["name"]: o["id"] for o in r.json()["objects"]}[name]


def test_reveal_off_reveals_nothing(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    p, hits = run_private(b, "a-amber", write_logs(tmp_path), "--offer", "closed", "--reveal")
    assert p.returncode == 2 and "does not reveal" in p.stderr and hits == [], p.stderr
    r = a.req("POST", "/api/v1/private/closed/reveal", token=tb, accept=None,
              headers={"Content-Type": OCTET}, data=bytes(64))
    assert r.status_code == 403 and "--reveal" in r.json()["detail"], r.text
    # who may not use the offer does not learn that it exists
    r = a.req("POST", "/api/v1/private/open/reveal", token=to, accept=None,
              headers={"Content-Type": OCTET}, data=bytes(64))
    assert r.status_code == 404, r.text
    # without --reveal the matches come without indicators, as before
    p, hits = run_private(b, "a-amber", write_logs(tmp_path), "--offer", "closed")
    assert p.returncode == 0 and hits and all("indicators" not in h for h in hits), p.stdout


def test_reveal_on_gives_exactly_the_matched_readable_indicators(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    p, hits = run_private(b, "a-amber", write_logs(tmp_path), "--offer", "open", "--reveal")
    assert p.returncode == 0, p.stderr
    by_value = {h["value"]: [i["name"] for i in h["indicators"]] for h in hits}
    # the RED url matched (it is in the set) but partnerb may not read it
    assert by_value == {OFFERED["ip"]: ["amber ip"], "EVIL.example.": ["amber dom"],
                        OFFERED["url"]: []}, p.stdout
    ind_ip = [i for h in hits for i in h["indicators"] if i["name"] == "amber ip"][0]
    assert ind_ip["id"] == amber_ids(a, "amber ip") and ind_ip["type"] == "indicator"
    assert "2 indicators revealed" in p.stderr, p.stderr
    # the access audit names the reveal as a path of its own, not the console's;
    # serve writes what its threads queued every 200 ms, so the rows are polled for
    want = {amber_ids(a, "amber ip"), amber_ids(a, "amber dom")}
    rows = []

    def revealed():
        rows[:] = [json.loads(line) for line in a.cli(
            "audit", "reads", "--path", "private", "--json", "--data",
            a.data).stdout.splitlines()]
        return want <= {r["object"] for r in rows if r["org"] == "partnerb"}
    wait_for(revealed, timeout=20)
    assert all(r["path"] == "private" for r in rows), rows
    console = a.cli("audit", "reads", "--path", "console", "--json", "--data", a.data).stdout
    assert amber_ids(a, "amber ip") not in console, console
    bad = a.cli("audit", "reads", "--path", "reveal", "--data", a.data, check=False)
    assert bad.returncode == 2 and "not taxii" in bad.stderr, bad.stderr


def test_reveal_needs_the_full_output_of_a_held_value(nodes):
    a, b, tb, to, coll = nodes

    def reveal(body):
        return a.req("POST", "/api/v1/private/open/reveal", token=tb, accept=None,
                     headers={"Content-Type": OCTET}, data=body)

    r = a.get("/api/v1/private/open/set", token=tb, accept=None)
    assert r.status_code == 200 and len(r.content) == 16 * 4, len(r.content)
    published = [r.content[i:i + 16] for i in range(0, len(r.content), 16)]
    # the published 16 bytes, padded or repeated, are not the 64-byte output
    for guess in [p + bytes(48) for p in published] + [p * 4 for p in published] \
            + [os.urandom(64)]:
        got = reveal(guess)
        assert got.status_code == 200, got.text
        assert got.json() == {"objects": [], "revealed": [[]], "unknown": 1}, got.text
    r = reveal(published[0])  # not a whole output
    assert r.status_code == 400 and "64 bytes" in r.json()["detail"], r.text
    r = reveal(bytes(64) * 257)
    assert r.status_code == 400 and "1..256" in r.json()["detail"], r.text


def test_report_sends_sightings_to_the_offering_node(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    logs = write_logs(tmp_path)
    p, hits = run_private(b, "a-amber", logs, "--offer", "open", "--report", "--org", "cert-b")
    assert p.returncode == 0, p.stderr
    assert "2 indicators revealed, 2 reported" in p.stderr, p.stderr
    r = a.get(a.objects_path(a.amber) + "?match[type]=sighting")
    assert r.status_code == 200, r.text
    sightings = {s["sighting_of_ref"]: s for s in r.json()["objects"]}
    ip, dom = amber_ids(a, "amber ip"), amber_ids(a, "amber dom")
    assert set(sightings) == {ip, dom}, sightings
    # the ip is on proxy.csv line 2 only; the domain on line 3 only
    assert sightings[ip]["count"] == 1 and sightings[dom]["count"] == 1, sightings
    ident = sightings[ip]["where_sighted_refs"][0]
    r = a.get(a.objects_path(a.amber) + f"?match[id]={ident}")
    assert r.status_code == 200 and r.json()["objects"][0]["name"] == "cert-b", r.text


def test_report_resolves_the_api_root_as_discovery_lists_it(nodes, tmp_path):
    """A peer whose API root is the origin-relative path discovery lists
    ("/api1/"): the report goes to the collection a sync would use (once
    built by hand as URL + "/" + root, that was "//api1//collections")."""
    a, b, tb, to, coll = nodes
    b.cli("peer", "add", "a-rel", "--data", b.data, "--url", a.url + "/", "--api-root",
          "/api1/", "--collection", a.amber, "--local-collection", b.collection(),
          "--token", tb, "--direction", "pull")
    p, hits = run_private(b, "a-rel", write_logs(tmp_path), "--offer", "open", "--report",
                          "--org", "cert-rel")
    assert p.returncode == 0, p.stderr
    assert "2 indicators revealed, 2 reported" in p.stderr, p.stderr
    r = a.get(a.objects_path(a.amber) + "?match[type]=identity")
    assert r.status_code == 200, r.text
    assert "cert-rel" in {o.get("name") for o in r.json()["objects"]}, r.text


def test_offering_node_holds_no_partner_values(nodes, tmp_path):
    a, b, tb, to, coll = nodes
    p, _ = run_private(b, "a", write_logs(tmp_path), "--offer", "redlist")
    assert p.returncode == 0, p.stderr
    # Last in this module: stopping A (to flush the WAL into the database
    # file and close its log) gives it a new port when it starts again.
    a.stop()
    try:
        blobs = [f.read_bytes() for f in pathlib.Path(a.data).rglob("*") if f.is_file()]
        for v in B_ONLY:
            for blob in blobs:
                assert v.encode() not in blob, v
    finally:
        a.start()
