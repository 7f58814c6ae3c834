"""Erasure requests that travel (issue 15), between real nodes on loopback:
`meridian erase` on the node that created the data stores a signed
x-meridian-erasure-request in the collection; the peer's ordinary pull
brings it over, and the peer applies it (`meridian erase --requests`, and
serve's own job) to the versions the requester created, recording it in its
ledger. Unsigned or untrusted requests, and requests naming data the
requester did not create, change nothing."""
import json
import uuid

import pytest

from conftest import run
from node import TLP_GREEN, indicator, wait_for
from test_fed_propagation import Fed

REQ = "x-meridian-erasure-request"


@pytest.fixture
def fed(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    yield f
    f.stop()


def two(fed):
    """A and B; B pulls A's collection and trusts A's key."""
    fed.node("A")
    fed.node("B")
    fed.link("A", "B")
    return fed.nodes["A"], fed.nodes["B"]


def erase(n, *args, check=True):
    p = run(n.bin, "erase", *args, "--data", n.data)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def email(value):
    return {"type": "email-addr", "spec_version": "2.1", "id": f"email-addr--{uuid.uuid4()}",
            "value": value, "object_marking_refs": [TLP_GREEN]}


def test_erasure_request_travels_and_is_applied_at_the_peer(fed):
    a, b = two(fed)
    victim = email("jane.doe@example.org")
    other = indicator(tlp=TLP_GREEN, value="192.0.2.44")
    fed.post("A", [victim, other])
    fed.sync("B")
    assert {victim["id"], other["id"]} <= fed.ids("B")

    p = erase(a, "--value", "Jane.Doe@example.org", "--reason", "data subject request 17")
    assert victim["id"] in p.stdout and "1 erased" in p.stderr
    assert "1 signed erasure request(s) stored" in p.stderr
    assert victim["id"] not in fed.ids("A")
    reqs = [o for o in fed.objects("A") if o["type"] == REQ]
    assert len(reqs) == 1 and reqs[0]["object_refs"] == [victim["id"]]
    assert reqs[0]["reason"] == "data subject request 17"
    assert reqs[0]["object_marking_refs"] == [TLP_GREEN]  # the erased data's level
    assert "jane" not in json.dumps(reqs[0]).lower()  # ids, never the value

    fed.sync("B")  # the ordinary pull brings the request
    assert reqs[0]["id"] in fed.ids("B")
    assert victim["id"] in fed.ids("B")  # not applied yet
    p = erase(b, "--requests")
    assert p.stdout.startswith("applied") and reqs[0]["id"] in p.stdout, p.stdout
    assert "1 version(s) erased" in p.stdout
    assert victim["id"] not in fed.ids("B")
    assert other["id"] in fed.ids("B")
    # recorded once: a second pass finds nothing new
    again = erase(b, "--requests")
    assert again.stdout == "" and "0 erasure request(s)" in again.stderr
    with_erasure = run(b.bin, "ledger", "verify", "--data", b.data)
    assert with_erasure.returncode == 0, with_erasure.stdout + with_erasure.stderr


def test_unsigned_and_foreign_requests_are_refused(fed):
    a, b = two(fed)
    mine = indicator(tlp=TLP_GREEN, value="192.0.2.55")  # created on B
    b.post_ok(fed.coll["B"], [mine], root=b.root)
    theirs = email("john@example.org")
    fed.post("A", [theirs])
    fed.sync("B")
    # an unsigned request a partner posts to B, naming A's object: refused
    forged = {"type": REQ, "spec_version": "2.1", "id": f"{REQ}--{uuid.uuid4()}",
              "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
              "object_refs": [theirs["id"]], "reason": "forged",
              "object_marking_refs": [TLP_GREEN]}
    b.org("mallory", "partner")  # a partner of B may write, but signs nothing
    b.grant("mallory", fed.coll["B"], True, True)
    b.post_ok(fed.coll["B"], [forged], token=b.token("mallory"), root=b.root)
    p = erase(b, "--requests", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.startswith("refused") and forged["id"] in p.stdout, p.stdout
    assert theirs["id"] in fed.ids("B")
    # A's genuine request naming B's own object erases nothing of B's: it is
    # not A's to erase (B created it); A has no copy, so A's erase finds nothing
    req = {"type": REQ, "spec_version": "2.1", "id": f"{REQ}--{uuid.uuid4()}",
           "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
           "object_refs": [mine["id"], theirs["id"]], "reason": "cleanup",
           "object_marking_refs": [TLP_GREEN]}
    fed.post("A", [req])  # signed by A's node key when A stores it
    fed.sync("B")
    p = erase(b, "--requests")
    assert p.stdout.startswith("applied") and "1 version(s) erased" in p.stdout, p.stdout
    assert "1 not the requester's" in p.stdout
    assert mine["id"] in fed.ids("B")
    assert theirs["id"] not in fed.ids("B")


def test_serve_applies_received_requests(meridian_bin, tmp_path):
    f = Fed(meridian_bin, tmp_path)
    try:
        a = f.node("A")
        b = f.node("B", start=False)
        b.extra_args = list(b.extra_args) + ["--retention-interval", "1"]
        f.link("A", "B")  # before B starts: serve reads the peers' keys once
        b.start()
        victim = email("erin@example.org")
        f.post("A", [victim])
        f.sync("B")
        assert victim["id"] in f.ids("B")
        erase(a, "--object", victim["id"], "--reason", "subject request")
        f.sync("B")
        wait_for(lambda: victim["id"] not in f.ids("B"), timeout=20, step=0.2)
    finally:
        f.stop()


def test_bad_erase_arguments(fed):
    a = fed.node("A")
    p = erase(a, "--object", "not-an-id\x1b", "--reason", "r", check=False)
    assert p.returncode == 2 and "--object" in p.stderr and "\x1b" not in p.stderr
    p = erase(a, "--value", "x@example.org", check=False)
    assert p.returncode == 2 and "--reason" in p.stderr
    p = erase(a, "--value", "nobody@example.org", "--reason", "r", check=False)
    assert p.returncode == 1 and "nothing stored matches" in p.stderr
    p = erase(a, "--value", "a", "--object", "indicator--x", "--reason", "r", check=False)
    assert p.returncode == 2
