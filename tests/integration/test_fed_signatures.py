"""End-to-end signatures across the federation (issue 6, docs/design.md §6).

Objects created at a node are signed with its node key; relays never change
the bytes, so C verifies A's signature after two hops; one byte changed in
transit (a small proxy between two real nodes) is rejected and never stored.
"""
import http.server
import json
import threading
import urllib.request

import pytest

from node import TAXII, TLP_CLEAR, TLP_GREEN, indicator
from test_fed_propagation import Fed, chain

SIG_EXT = "extension-definition--1ef74ebd-c555-5b0a-bbdc-bd5d3e2f5a01"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


class TamperProxy:
    """Forwards every request to `upstream` and changes one byte of each
    object in objects/ responses (the first 'test indicator' -> 'test indicatos')."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.tampered = 0
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _forward(self, body=None):
                req = urllib.request.Request(proxy.upstream + self.path, data=body,
                                             method=self.command)
                for k in ("Accept", "Authorization", "Content-Type"):
                    if self.headers.get(k):
                        req.add_header(k, self.headers[k])
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status, headers, data = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, headers, data = e.code, e.headers, e.read()
                if "/objects/" in self.path and self.command == "GET" and status == 200:
                    new = data.replace(b"test indicator", b"test indicatos", 1)
                    if new != data:
                        proxy.tampered += 1
                    data = new
                self.send_response(status)
                for k in ("Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
                    if headers.get(k):
                        self.send_header(k, headers[k])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._forward()

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                self._forward(self.rfile.read(n))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def sig_of(obj):
    return obj.get("extensions", {}).get(SIG_EXT)


def test_objects_created_here_are_signed_and_verify_two_hops_away(fed):
    chain(fed)
    ind = indicator(tlp=TLP_CLEAR, value="10.8.0.1")
    fed.post("A", [ind])
    at_a = [o for o in fed.objects("A") if o["id"] == ind["id"]][0]
    block = sig_of(at_a)
    assert block is not None, at_a
    assert block["public_key"] == fed.pubkey("A")
    assert block["algorithm"] == "ed25519" and block["canonicalization"] == "rfc8785"
    fed.sync("B")
    p = fed.sync("B")
    # C knows only B's key: A's signature checks out, but its author is unknown
    p = fed.sync("C")
    assert "pulled=1" in p.stdout and "unverified=1" in p.stdout, p.stdout
    at_c = [o for o in fed.objects("C") if o["id"] == ind["id"]][0]
    assert sig_of(at_c) == block  # the bytes signed at A are intact
    # once C trusts A's key, objects A signs verify as valid at C, two hops away
    c = fed.nodes["C"]
    c.cli("key", "trust", "A", fed.pubkey("A"), "--data", c.data)
    assert f"A\t{fed.pubkey('A')}" in c.cli("key", "list", "--data", c.data).stdout
    ind2 = indicator(tlp=TLP_CLEAR, value="10.8.0.2")
    fed.post("A", [ind2])
    fed.sync("B")
    p = fed.sync("C")
    assert "pulled=1" in p.stdout and "unverified=0" in p.stdout, p.stdout


def test_unknown_signer_is_stored_unverified(fed):
    fed.node("A")
    fed.node("B")
    fed.link("A", "B", "pull", pubkey=False)  # B was not given A's key
    ind = indicator(tlp=TLP_CLEAR, value="10.8.1.1")
    fed.post("A", [ind])
    p = fed.sync("B")
    assert "pulled=1" in p.stdout and "unverified=1" in p.stdout, p.stdout
    assert ind["id"] in fed.ids("B")
    # the status is visible on the node's API, with the provenance
    import requests
    b, a = fed.nodes["B"], fed.nodes["A"]
    r = requests.get(f"{b.url}/api/v1/verification/{fed.coll['B']}/",
                     headers={"Authorization": f"Bearer {b.admin_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    [e] = [e for e in r.json()["objects"] if e["id"] == ind["id"]]
    assert e["verification"] == "unknown signer" and e["source_peer"] == "A", e
    assert e["signer"] == fed.pubkey("A")
    r = requests.get(f"{a.url}/api/v1/verification/{fed.coll['A']}/",
                     headers={"Authorization": f"Bearer {a.admin_token}"}, timeout=10)
    [e] = [e for e in r.json()["objects"] if e["id"] == ind["id"]]
    assert e["verification"] == "valid" and e["signer_name"] == "self", e
    assert "source_peer" not in e
    # and in exports (a summary line; the blocks are in the exported objects)
    p = b.cli("export", "--data", b.data, "--collection", fed.coll["B"], "--signatures")
    assert "signatures: 0 valid, 1 unknown signer, 0 unsigned" in p.stderr, p.stderr
    assert sig_of(json.loads(p.stdout)["objects"][0])["public_key"] == fed.pubkey("A")
    p = a.cli("export", "--data", a.data, "--collection", fed.coll["A"], "--signatures")
    assert "signatures: 1 valid, 0 unknown signer, 0 unsigned" in p.stderr, p.stderr
    # a collection the reader cannot read looks like a missing one
    b.org("Z", "partner")
    tz = b.token("Z")
    r = requests.get(f"{b.url}/api/v1/verification/{fed.coll['B']}/",
                     headers={"Authorization": f"Bearer {tz}"}, timeout=10)
    assert r.status_code == 404


def test_tampered_object_in_transit_is_rejected(fed):
    fed.node("A")
    fed.node("B")
    proxy = TamperProxy(fed.nodes["A"].url)
    try:
        real_url = fed.nodes["A"].url
        fed.nodes["A"].url = proxy.url  # B's peer entry points at the proxy
        fed.link("A", "B", "pull")
        fed.nodes["A"].url = real_url
        good = indicator(tlp=TLP_CLEAR, value="10.8.2.1", name="other name")
        bad = indicator(tlp=TLP_CLEAR, value="10.8.2.2")  # name "test indicator"
        fed.post("A", [good, bad])
        p = fed.sync("B")
        assert proxy.tampered >= 1
        assert "rejected=1" in p.stdout, p.stdout
        assert "signature does not match" in p.stderr, p.stderr
        ids = fed.ids("B")
        assert good["id"] in ids
        assert bad["id"] not in ids  # never stored
        lst = fed.nodes["B"].cli("peer", "list", "--data", fed.nodes["B"].data).stdout
        assert "rejected 1" in lst, lst
    finally:
        proxy.close()


def test_tampered_object_posted_by_a_peer_is_refused_in_the_status(fed):
    fed.node("A")
    b = fed.node("B")
    fed.link("A", "B", "pull")
    ind = indicator(tlp=TLP_CLEAR, value="10.8.3.1")
    fed.post("A", [ind])
    signed = [o for o in fed.objects("A") if o["id"] == ind["id"]][0]
    assert sig_of(signed)
    # a partner of B posts A's signed object with one character changed
    b.org("P", "partner")
    tok = b.token("P")
    b.grant("P", fed.coll["B"], True, True)
    forged = json.loads(json.dumps(signed))
    forged["pattern"] = forged["pattern"].replace("10.8.3.1", "10.8.3.7")
    r = b.post(fed.coll["B"], [forged], token=tok, root=b.root)
    assert r.status_code == 202, r.text
    st = r.json()
    assert st["failure_count"] == 1 and st["success_count"] == 0, st
    assert "signature" in st["failures"][0]["message"], st
    assert ind["id"] not in fed.ids("B")
    # the untouched object from the same partner is accepted
    r = b.post(fed.coll["B"], [signed], token=tok, root=b.root)
    assert r.json()["success_count"] == 1, r.text


def test_import_signs_local_objects(fed, tmp_path):
    a = fed.node("A")
    ind = indicator(tlp=TLP_GREEN, value="10.8.4.1")
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"type": "bundle", "id": "bundle--0e0d43a4-8b4f-4ef4-8d9e-cf1e6e0a4b3b",
                             "objects": [ind]}))
    a.cli("import", "--data", a.data, "--collection", fed.coll["A"], str(f))
    at_a = [o for o in fed.objects("A") if o["id"] == ind["id"]][0]
    assert sig_of(at_a)["public_key"] == fed.pubkey("A")
