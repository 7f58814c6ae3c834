"""Legal holds, the node's ledger and evidence from holds (issue 7), through
the real binary: `meridian hold`, `meridian ledger ... --data`, `meridian
evidence export --case`, TAXII DELETE and the /ledger/v1/ routes of a real
`meridian serve` on loopback."""
import base64
import hashlib
import json
import os
import sqlite3
import tarfile
import time
import uuid

import pytest

from conftest import run
from node import Node, TAXII, assert_taxii_error, indicator, wait_for
from pgcluster import sqlite_only

STIX_SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")


def sco_ip(value):
    """An ipv4-addr with its deterministic id (STIX 2.1 §2.9)."""
    name = json.dumps({"value": value}, separators=(",", ":"))
    return {"type": "ipv4-addr", "spec_version": "2.1",
            "id": f"ipv4-addr--{uuid.uuid5(STIX_SCO_NS, name)}", "value": value}


@pytest.fixture(scope="module")
def hnode(tmp_path_factory, meridian_bin):
    n = Node(meridian_bin, tmp_path_factory.mktemp("hold"),
             extra_args=["--checkpoint-interval", "1"])
    n.init(org="own")
    n.coll = n.collection()
    n.org("partner", "partner")
    n.partner = n.token("partner")
    n.start()
    yield n
    n.stop()


def leaves(n, start=0, end=None, token="admin"):
    size = tree_size(n)
    end = size - 1 if end is None else end
    r = n.get("/ledger/v1/leaves", token=token, params={"start": start, "end": end})
    assert r.status_code == 200, r.text
    return r.json()["leaves"]


def checkpoint(n):
    r = n.get("/ledger/v1/checkpoint")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    return r.text


def tree_size(n):
    return int(checkpoint(n).split("\n")[1])


def post_checkpoint(n):
    r = n.req("POST", "/ledger/v1/checkpoint")
    assert r.status_code == 200, r.text
    return r.text


def wait_ledgered(n, count):
    """Until a fresh checkpoint covers at least count leaves."""
    wait_for(lambda: int(post_checkpoint(n).split("\n")[1]) >= count, timeout=10, step=0.2)


def hold(n, *args, check=True):
    p = run(n.bin, "hold", *args, "--data", n.data)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def db(n):
    return sqlite3.connect(str(n.data / "meridian.db"))


def test_held_object_cannot_be_deleted_until_released(hnode):
    n = hnode
    ind = indicator()
    n.post_ok(n.coll, [ind])
    p = hold(n, "create", "--case", "CASE-DEL", "--authority", "Police of X",
             "--reason", "fraud", "--object", ind["id"], "--days", "10")
    hold_id = p.stdout.strip()
    assert len(hold_id) == 36 and p.stdout.count("\n") == 1
    path = f"/api1/collections/{n.coll}/objects/{ind['id']}/"
    r = n.req("DELETE", path)
    e = assert_taxii_error(r, 403)
    assert hold_id in e["description"]
    assert "fraud" not in r.text and "Police" not in r.text  # names it, no details
    assert n.get(path).status_code == 200  # still there
    # another version posted later is not held by it
    hold(n, "release", hold_id, "--reason", "case closed")
    assert n.req("DELETE", path).status_code == 200
    assert n.get(path).status_code == 404


@sqlite_only  # edits the SQLite file directly (db())
def test_lapsed_hold_no_longer_blocks(hnode):
    n = hnode
    ind = indicator()
    n.post_ok(n.coll, [ind])
    hold_id = hold(n, "create", "--case", "CASE-LAPSE", "--authority", "A", "--reason", "R",
                   "--object", ind["id"], "--days", "1").stdout.strip()
    path = f"/api1/collections/{n.coll}/objects/{ind['id']}/"
    assert n.req("DELETE", path).status_code == 403
    with db(n) as c:  # let a day pass
        c.execute("UPDATE holds SET expires = ? WHERE id = ?",
                  (int(time.time() * 1e6) - 1, hold_id))
    listed = hold(n, "list", "--all").stdout
    assert hold_id in listed and "lapsed" in listed.split(hold_id)[1].split("\n")[0]
    assert hold_id not in hold(n, "list").stdout  # only active ones by default
    assert n.req("DELETE", path).status_code == 200


def test_renew_extends_and_is_recorded(hnode):
    n = hnode
    ind = indicator()
    n.post_ok(n.coll, [ind])
    hold_id = hold(n, "create", "--case", "CASE-RENEW", "--authority", "A", "--reason", "R",
                   "--object", ind["id"], "--days", "1").stdout.strip()
    before = json.loads(hold(n, "show", hold_id).stdout)
    hold(n, "renew", hold_id, "--days", "90")
    after = json.loads(hold(n, "show", hold_id).stdout)
    assert after["renewals"] == 1 and after["expires"] > before["expires"]
    assert after["state"] == "active"
    hold(n, "release", hold_id)
    p = hold(n, "renew", hold_id, check=False)
    assert p.returncode == 1 and "released" in p.stderr


def test_article_29_fields_are_recorded(hnode):
    n = hnode
    ind = indicator()
    n.post_ok(n.coll, [ind])
    hold_id = hold(n, "create", "--case", "2026/CR/77", "--authority", "Prosecutor, Town",
                   "--reason", "preserve C2 data", "--offence", "art. 2 illegal access",
                   "--relation", "C2 address in the intrusion", "--necessity", "logs rotate",
                   "--mla", "--object", ind["id"]).stdout.strip()
    rec = json.loads(hold(n, "show", hold_id).stdout)
    assert rec["requesting_authority"] == "Prosecutor, Town"
    assert rec["offence"] == "art. 2 illegal access"
    assert rec["data_relation"] == "C2 address in the intrusion"
    assert rec["necessity"] == "logs rotate"
    assert rec["mutual_assistance_intended"] is True
    assert str(n.data.resolve()) in rec["data_location"]
    held = rec["held_versions"]
    assert [h["id"] for h in held] == [ind["id"]]
    assert held[0]["collection"] == n.coll


def test_pattern_and_query_select(hnode):
    n = hnode
    ip_a, ip_b = sco_ip("203.0.113.7"), sco_ip("203.0.113.8")
    obs = {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
           "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
           "first_observed": "2026-02-01T00:00:00Z", "last_observed": "2026-02-01T00:00:00Z",
           "number_observed": 1, "object_refs": [ip_a["id"]]}
    n.post_ok(n.coll, [ip_a, ip_b, obs])
    h1 = hold(n, "create", "--case", "CASE-PAT", "--authority", "A", "--reason", "R",
              "--pattern", "[ipv4-addr:value = '203.0.113.7']").stdout.strip()
    got = sorted(h["id"] for h in json.loads(hold(n, "show", h1).stdout)["held_versions"])
    assert got == sorted([ip_a["id"], obs["id"]])
    h2 = hold(n, "create", "--case", "CASE-Q", "--authority", "A", "--reason", "R",
              "--collection", n.coll, "--query", "match[type]=observed-data").stdout.strip()
    got = [h["id"] for h in json.loads(hold(n, "show", h2).stdout)["held_versions"]]
    assert obs["id"] in got and all(i.startswith("observed-data--") for i in got)
    before = hold(n, "list", "--all").stdout
    p = hold(n, "create", "--case", "C", "--authority", "A", "--reason", "R",
             "--pattern", "[ipv4-addr:value = '192.0.2.200']", check=False)
    assert p.returncode == 1, p.stderr  # a hold that selects nothing: exit 1, as its help says
    assert "selects no stored object" in p.stderr and p.stdout == ""
    p = hold(n, "create", "--case", "C", "--authority", "A", "--reason", "R",
             "--query", "match[type]=malware-analysis", check=False)
    assert p.returncode == 1 and "selects no stored object" in p.stderr, p.stderr
    assert hold(n, "list", "--all").stdout == before  # nothing recorded


def sdo(kind, **props):
    t = "2026-03-01T00:00:00.000Z"
    return dict({"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}",
                 "created": t, "modified": t}, **props)


def test_pattern_holds_indicators_and_what_refers_to_them(hnode):
    """A node that holds only indicators (no SCOs) still preserves what a
    pattern hold names: the indicators comparing that value (exactly or by a
    CIDR range containing it) and the sightings, relationships, reports,
    notes and groupings that reference them; nothing else."""
    n = hnode
    ip = "198.51.100.23"
    exact = indicator(value=ip)
    cidr = indicator(value="198.51.100.0/24")
    either = sdo("indicator", pattern=f"[ipv4-addr:value = '192.0.2.1'] OR "
                 f"[ipv4-addr:value = '{ip}']", pattern_type="stix",
                 valid_from="2026-01-01T00:00:00Z")
    other = indicator(value="198.51.101.23")
    mal = sdo("malware", name="x", is_family=False)
    sight = sdo("sighting", sighting_of_ref=exact["id"], count=3)
    rel = sdo("relationship", relationship_type="indicates", source_ref=exact["id"],
              target_ref=mal["id"])
    rep = sdo("report", name="r", published="2026-03-01T00:00:00Z", object_refs=[cidr["id"]])
    note = sdo("note", content="c", object_refs=[either["id"]])
    grp = sdo("grouping", context="suspicious-activity", object_refs=[sight["id"]])
    unrelated = sdo("report", name="u", published="2026-03-01T00:00:00Z",
                    object_refs=[other["id"]])
    n.post_ok(n.coll, [exact, cidr, either, other, mal, sight, rel, rep, note, grp, unrelated])
    p = hold(n, "create", "--case", "CASE-IND", "--authority", "A", "--reason", "R",
             "--pattern", f"[ipv4-addr:value = '{ip}']")
    held = {h["id"] for h in json.loads(hold(n, "show", p.stdout.strip()).stdout)["held_versions"]}
    assert held == {exact["id"], cidr["id"], either["id"], sight["id"], rel["id"], rep["id"],
                    note["id"], grp["id"]}
    # held means preserved: the indicator cannot be deleted
    r = n.req("DELETE", f"/api1/collections/{n.coll}/objects/{exact['id']}/")
    assert r.status_code == 403


@pytest.mark.parametrize("args,needle", [
    (["--case", "C", "--authority", "A", "--reason", "R", "--object", "x", "--days", "0"],
     "--days"),
    (["--case", "C", "--authority", "A", "--reason", "R", "--object", "x", "--days", "91"],
     "--days"),
    (["--case", "C", "--reason", "R", "--object", "x"], "--authority"),
    (["--case", "C", "--authority", "A", "--reason", "R"], "exactly one"),
    (["--case", "C", "--authority", "A", "--reason", "R", "--object", "x", "--pattern", "[x:y=1]"],
     "exactly one"),
    (["--case", "C", "--authority", "A", "--reason", "R", "--query", "colour=red"], "colour"),
    (["--case", "C", "--authority", "A", "--reason", "R", "--query", "match[version]=bogus"],
     "match[version]"),
    (["--case", "C", "--authority", "A", "--reason", "R", "--pattern", "[ipv4-addr:value = "],
     "--pattern"),
    (["--case", "C" * 200, "--authority", "A", "--reason", "R", "--object", "x"], "--case"),
    (["--case", "C", "--authority", os.fsdecode(b"\xff"), "--reason", "R", "--object", "x"],
     "UTF-8"),
])
def test_create_usage_errors(hnode, args, needle):
    before = hold(hnode, "list", "--all").stdout
    p = run(hnode.bin, "hold", "create", *args, "--data", hnode.data)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr, p.stderr
    assert hold(hnode, "list", "--all").stdout == before  # nothing recorded


def test_unknown_object_and_hold(hnode):
    p = run(hnode.bin, "hold", "create", "--case", "C", "--authority", "A", "--reason", "R",
            "--object", f"indicator--{uuid.uuid4()}", "--data", hnode.data)
    assert p.returncode == 1 and "no stored object" in p.stderr
    for verb in ("show", "renew", "release"):
        p = run(hnode.bin, "hold", verb, str(uuid.uuid4()), "--data", hnode.data)
        assert p.returncode == 2 and "no hold" in p.stderr, p.stderr


@sqlite_only  # edits the SQLite file directly (db())
def test_every_version_and_action_is_a_leaf(hnode):
    n = hnode
    start = tree_size(n)
    ind = indicator()
    v2 = dict(ind, modified="2026-06-01T00:00:00.000Z", name="second")
    n.post_ok(n.coll, [ind, v2])
    h = hold(n, "create", "--case", "CASE-LEAF", "--authority", "A", "--reason", "R",
             "--object", ind["id"]).stdout.strip()
    hold(n, "renew", h)
    hold(n, "release", h)
    wait_ledgered(n, start + 5)
    kinds = [lf["kind"] for lf in leaves(n, start)]
    assert kinds[:2] == ["object", "object"]
    assert kinds[2:5] == ["hold-create", "hold-renew", "hold-release"]
    # each action leaf is SHA-256 of the action's record, kept in the store
    with db(n) as c:
        recs = c.execute("SELECT kind, record, leaf FROM ledger_events WHERE leaf >= ?"
                         " ORDER BY leaf", (start,)).fetchall()
    by_leaf = {lf["index"]: lf for lf in leaves(n, start)}
    for kind, record, leaf in recs[:3]:
        lf = by_leaf[leaf]
        assert base64.b64decode(lf["hash"]) == hashlib.sha256(record.encode()).digest()
        body = json.loads(record)
        assert body["hold"]["id"] == h and body["action"] in lf["kind"]
    # each object leaf proves the stored bytes: prove --object, verify-proof
    for obj in (ind, v2):
        p = run(n.bin, "ledger", "prove", "--data", n.data, "--object", obj["id"],
                "--version", obj["modified"])
        assert p.returncode == 0, p.stderr
        pr = json.loads(p.stdout)
        q = run(n.bin, "ledger", "verify-proof", "inclusion", "--leaf-index", pr["leafIdx"],
                "--tree-size", pr["treeSize"], "--root", pr["root"], "--leaf-hash",
                pr["leafHash"], "--proof", ",".join(pr["proof"]))
        assert q.returncode == 0, q.stderr


def test_ledger_http_routes(hnode):
    n = hnode
    ind = indicator()
    n.post_ok(n.coll, [ind])
    wait_ledgered(n, 1)
    note = post_checkpoint(n)
    size = int(note.split("\n")[1])
    assert checkpoint(n) == note  # what is served is what was signed and stored
    assert (n.data / "ledger" / "checkpoint").read_text() == note
    # anonymous: 401 everywhere
    for path in ("/ledger/v1/checkpoint", "/ledger/v1/leaves?start=0&end=0"):
        assert_taxii_error(n.get(path, token=None), 401)
    # consistency proof between two sizes verifies stand-alone
    r = n.get("/ledger/v1/proof/consistency", params={"first": 1, "second": size})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    roots = {}
    for s in (1, size):
        p = run(n.bin, "ledger", "prove", "--data", n.data, "--size1", s, "--size2", s)
        roots[s] = json.loads(p.stdout)["root1"]
    q = run(n.bin, "ledger", "verify-proof", "consistency", "--size1", 1, "--size2", size,
            "--root1", roots[1], "--root2", roots[size], "--proof", ",".join(body["consistency"]))
    assert q.returncode == 0, q.stderr
    # inclusion by leaf hash, for a reader of the object
    pr = json.loads(run(n.bin, "ledger", "prove", "--data", n.data, "--object", ind["id"]).stdout)
    r = n.get("/ledger/v1/proof/inclusion", params={"hash": pr["leafHash"], "tree_size": size})
    assert r.status_code == 200, r.text
    assert r.json()["leaf_index"] == pr["leafIdx"]
    q = run(n.bin, "ledger", "verify-proof", "inclusion", "--leaf-index", pr["leafIdx"],
            "--tree-size", size, "--root", roots[size], "--leaf-hash", pr["leafHash"],
            "--proof", ",".join(r.json()["audit_path"]))
    assert q.returncode == 0, q.stderr
    # bad arguments are 400s that say what
    for params in ({"hash": "nope", "tree_size": size}, {"hash": pr["leafHash"]},
                   {"hash": pr["leafHash"], "tree_size": size + 1000}):
        e = assert_taxii_error(n.get("/ledger/v1/proof/inclusion", params=params), 400)
        assert "hash" in e["description"] or "tree_size" in e["description"]
    assert_taxii_error(n.get("/ledger/v1/proof/consistency",
                             params={"first": 3, "second": 2}), 400)
    assert_taxii_error(n.get("/ledger/v1/nope"), 404)
    assert_taxii_error(n.req("DELETE", "/ledger/v1/checkpoint"), 405)


def test_ledger_routes_never_reveal_unreadable_objects(hnode):
    n = hnode
    secret = n.collection(title="no partner here")
    ind = indicator()
    n.post_ok(secret, [ind])
    wait_ledgered(n, 1)
    size = int(post_checkpoint(n).split("\n")[1])
    pr = json.loads(run(n.bin, "ledger", "prove", "--data", n.data, "--object", ind["id"]).stdout)
    # the partner has no grant on that collection: same 404 as a leaf that never was
    r = n.get("/ledger/v1/proof/inclusion", token=n.partner,
              params={"hash": pr["leafHash"], "tree_size": size})
    e1 = assert_taxii_error(r, 404)
    bogus = base64.b64encode(hashlib.sha256(b"never").digest()).decode()
    e2 = assert_taxii_error(n.get("/ledger/v1/proof/inclusion", token=n.partner,
                                  params={"hash": bogus, "tree_size": size}), 404)
    assert e1 == e2
    # leaves (which carry every content hash) are for the own org only
    assert_taxii_error(n.get("/ledger/v1/leaves", token=n.partner,
                             params={"start": 0, "end": 0}), 403)
    assert_taxii_error(n.req("POST", "/ledger/v1/checkpoint", token=n.partner), 403)
    # checkpoints and consistency proofs reveal sizes and roots only: allowed
    assert n.get("/ledger/v1/checkpoint", token=n.partner).status_code == 200
    # once granted, the same proof is given
    n.grant("partner", secret, True, False)
    r = n.get("/ledger/v1/proof/inclusion", token=n.partner,
              params={"hash": pr["leafHash"], "tree_size": size})
    assert r.status_code == 200, r.text


def test_evidence_export_from_case_verifies(hnode, tmp_path):
    n = hnode
    ind, ip = indicator(), sco_ip("203.0.113.99")
    n.post_ok(n.coll, [ind, ip])
    hold(n, "create", "--case", "CASE-EV", "--authority", "A", "--reason", "R",
         "--object", ind["id"], "--object", ip["id"])
    wait_ledgered(n, 2)
    out = tmp_path / "case.tar"
    before = tree_size(n)
    p = run(n.bin, "evidence", "export", "--data", n.data, "--case", "CASE-EV", "-o", out)
    assert p.returncode == 0, p.stderr
    pub = run(n.bin, "key", "show", "--data", n.data).stdout.strip()
    v = run(n.bin, "evidence", "verify", out, "--pubkey", pub)
    assert v.returncode == 0, v.stderr
    assert "2 objects" in v.stdout
    with tarfile.open(out) as t:
        names = t.getnames()
        objs = [json.loads(t.extractfile(m).read()) for m in t.getmembers()
                if m.name.startswith("objects/")]
    assert "checkpoint" in names and "manifest.json" in names
    assert sorted(o["id"] for o in objs) == sorted([ind["id"], ip["id"]])
    # the export itself is a leaf of the hold
    wait_ledgered(n, before + 1)
    assert "hold-export" in [lf["kind"] for lf in leaves(n, before)]
    # another node key does not verify it
    other = run(n.bin, "key", "show", "--data", n.data).stdout.strip()[:-4] + "AAA="
    assert run(n.bin, "evidence", "verify", out, "--pubkey", other).returncode != 0
    # a case without an active hold
    p = run(n.bin, "evidence", "export", "--data", n.data, "--case", "NO-SUCH", "-o", out)
    assert p.returncode == 1 and "no active hold" in p.stderr


def test_ledger_catches_up_after_kill9(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "k9", extra_args=["--checkpoint-interval", "1"])
    n.init()
    coll = n.collection()
    n.start()
    objs = [indicator() for _ in range(300)]
    for i in range(0, 300, 100):
        n.post_ok(coll, objs[i:i + 100])
    n.kill9()  # maybe before the ledger thread saw them all
    n.start()
    try:
        wait_ledgered(n, 300)
        kinds = [lf["kind"] for lf in leaves(n)]
        assert kinds.count("object") == 300  # each version once, none twice
    finally:
        n.stop()
    p = run(meridian_bin, "ledger", "verify", "--data", n.data)
    assert p.returncode == 0 and "signature verified" in p.stdout, p.stdout + p.stderr


@sqlite_only  # edits the SQLite file directly (db())
def test_sync_reuses_leaves_appended_before_a_crash(tmp_path, meridian_bin):
    """The ledger append is durable before the store records the leaf; a
    crash between the two must not append the versions twice."""
    n = Node(meridian_bin, tmp_path / "orph")
    n.init()
    coll = n.collection()
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                  "objects": [indicator() for _ in range(5)]}))
    assert run(meridian_bin, "import", "--data", n.data, "--collection", coll,
               bundle).returncode == 0
    with db(n) as c:
        assert c.execute("SELECT COUNT(*) FROM object_leaves").fetchone()[0] == 5
        leaves = sorted(r[0] for r in c.execute("SELECT leaf FROM object_leaves"))
        # every leaf so far: the objects' and the audit records' (admin.md)
        total = c.execute("SELECT (SELECT COUNT(*) FROM object_leaves) + (SELECT COUNT(*)"
                          " FROM ledger_events WHERE leaf IS NOT NULL)").fetchone()[0]
        c.execute("DELETE FROM object_leaves WHERE leaf >= ?", (leaves[2],))  # the crash
    p = run(meridian_bin, "ledger", "checkpoint", "--data", n.data)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[1] == str(total)  # not total + 3
    with db(n) as c:
        assert sorted(r[0] for r in c.execute("SELECT leaf FROM object_leaves")) == leaves
    assert run(meridian_bin, "ledger", "verify", "--data", n.data).returncode == 0


def test_changed_ledger_leaf_is_detected(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "tamper")
    n.init()
    coll = n.collection()
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                  "objects": [indicator() for _ in range(4)]}))
    assert run(meridian_bin, "import", "--data", n.data, "--collection", coll,
               bundle).returncode == 0
    assert run(meridian_bin, "ledger", "checkpoint", "--data", n.data).returncode == 0
    log = n.data / "ledger" / "log"
    raw = bytearray(log.read_bytes())
    off = 45 + 20  # inside leaf 1's entry hash (leaf 0's 45-byte record comes first)
    raw[off] ^= 1
    log.write_bytes(bytes(raw))
    p = run(meridian_bin, "ledger", "verify", "--data", n.data)
    assert p.returncode == 1
    assert "first leaf that differs: 1" in p.stderr, p.stderr
