"""Account and partner lifecycle (docs/admin.md): each command's effect on
real HTTP requests to a running `meridian serve` (on SQLite and on
PostgreSQL), and the audit trail: every
administrative change is a record and a ledger leaf that proves into a
signed checkpoint."""
import base64
import hashlib
import json
import sqlite3
import time

import pytest

from node import Node, TLP_CLEAR, indicator, wait_for
from pgcluster import pg_cluster, sqlite_only  # noqa: F401 (fixture)
from test_fed_propagation import Fed

TAXII = "application/taxii+json;version=2.1"


def started(meridian_bin, data, store=None):
    node = Node(meridian_bin, data)
    node.init(store=store)
    node.coll_id = node.collection()
    return node.start()


@pytest.fixture(params=["sqlite", "postgresql"])
def n(request, tmp_path, meridian_bin):
    """A node on SQLite, and one on a database of the module's PostgreSQL."""
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    node = started(meridian_bin, tmp_path / "a", pg.database() if pg else None)
    yield node
    node.stop()


@pytest.fixture
def n_sqlite(tmp_path, meridian_bin):
    """A node on SQLite, for the tests that read its file or hold objects."""
    node = started(meridian_bin, tmp_path / "a")
    yield node
    node.stop()


def status(node, token):
    return node.get(node.objects_path(node.coll_id), token=token).status_code


def partner(node, name="cert-b", **token_args):
    node.org(name, "partner")
    node.grant(name, node.coll_id, True, True)
    args = ["token", "create", "--org", name, "--data", node.data]
    for k, v in token_args.items():
        args += [f"--{k}", v]
    return node.cli(*args).stdout.strip()


def test_org_disable_enable_delete(n):
    tok = partner(n)
    n.post_ok(n.coll_id, [indicator(tlp=TLP_CLEAR)], token=tok)
    assert status(n, tok) == 200
    p = n.cli("org", "disable", "cert-b", "--data", n.data)
    assert "disabled 'cert-b'" in p.stderr
    assert status(n, tok) == 401
    assert "cert-b\tpartner" in n.cli("org", "list", "--data", n.data).stdout
    assert "\tdisabled " in n.cli("org", "list", "--data", n.data).stdout
    assert "org-disabled" in n.cli("token", "list", "--data", n.data).stdout
    n.cli("org", "enable", "cert-b", "--data", n.data)
    assert status(n, tok) == 200  # tokens and grants were kept
    # the own org cannot be disabled
    p = n.cli("org", "disable", "own", "--data", n.data, check=False)
    assert p.returncode == 2 and "runs this node" in p.stderr
    # delete: tokens revoked, grants removed, objects it wrote stay
    before = {o["id"] for o in n.page_all(n.objects_path(n.coll_id))[0]}
    p = n.cli("org", "delete", "cert-b", "--data", n.data)
    assert "1 token(s) revoked, 1 grant(s) removed" in p.stderr, p.stderr
    assert status(n, tok) == 401
    after = {o["id"] for o in n.page_all(n.objects_path(n.coll_id))[0]}
    assert after == before and len(after) == 1
    assert "\tdeleted " in n.cli("org", "list", "--data", n.data).stdout
    assert "cert-b" not in n.cli("grant", "list", "--data", n.data).stdout
    # the name is not reused, and the tombstone gets no tokens
    assert n.cli("org", "create", "cert-b", "--relation", "partner", "--data", n.data,
                 check=False).returncode == 2
    assert n.cli("token", "create", "--org", "cert-b", "--data", n.data,
                 check=False).returncode == 2
    assert n.cli("org", "enable", "cert-b", "--data", n.data, check=False).returncode == 2


def test_expired_token_is_refused(n):
    tok = partner(n, expires="3s")
    assert status(n, tok) == 200
    listed = n.cli("token", "list", "--data", n.data).stdout
    assert "expires 20" in listed
    wait_for(lambda: status(n, tok) == 401, timeout=15, step=0.5)
    assert "\texpired\t" in n.cli("token", "list", "--data", n.data).stdout
    # a time in the past or garbage is refused as such
    p = n.cli("token", "create", "--org", "cert-b", "--expires", "soon", "--data", n.data,
              check=False)
    assert p.returncode == 2 and "--expires" in p.stderr


def test_rotated_token_overlap(n):
    old = partner(n)
    name = old[:12]
    p = n.cli("token", "rotate", name, "--overlap", "4s", "--data", n.data)
    new = p.stdout.strip()
    assert new.startswith("mrd_") and new != old and old not in p.stdout + p.stderr
    assert "works until" in p.stderr
    assert status(n, new) == 200
    assert status(n, old) == 200  # still inside the overlap
    listed = n.cli("token", "list", "--data", n.data).stdout
    assert "previous-secret-until" in listed
    wait_for(lambda: status(n, old) == 401, timeout=20, step=0.5)
    assert status(n, new) == 200
    # the token keeps its name through the rotation; revoking it ends both
    n.cli("token", "revoke", name, "--data", n.data)
    assert status(n, new) == 401


def test_rotate_overlap_zero_ends_old_secret_now(n):
    old = partner(n)
    new = n.cli("token", "rotate", old[:12], "--overlap", "0", "--data", n.data).stdout.strip()
    assert status(n, old) == 401 and status(n, new) == 200


@sqlite_only  # counts writes to meridian.db with sqlite3
def test_token_list_shows_last_use_written_sparingly(n_sqlite):
    n = n_sqlite
    tok = partner(n)
    line = [l for l in n.cli("token", "list", "--data", n.data).stdout.splitlines()
            if "cert-b" in l][0]
    assert "last-used -" in line
    for _ in range(20):
        assert status(n, tok) == 200
    line = [l for l in n.cli("token", "list", "--data", n.data).stdout.splitlines()
            if "cert-b" in l][0]
    assert "last-used 20" in line, line
    # at most one write a minute per token: 20 requests moved it once
    import sqlite3
    con = sqlite3.connect(f"file:{n.data}/meridian.db?mode=ro", uri=True)
    used1 = con.execute("SELECT last_used FROM tokens WHERE org = "
                        "(SELECT key FROM orgs WHERE name = 'cert-b')").fetchone()[0]
    con.close()
    for _ in range(5):
        status(n, tok)
    con = sqlite3.connect(f"file:{n.data}/meridian.db?mode=ro", uri=True)
    used2 = con.execute("SELECT last_used FROM tokens WHERE org = "
                        "(SELECT key FROM orgs WHERE name = 'cert-b')").fetchone()[0]
    con.close()
    assert used1 == used2


def test_partner_revoke_ends_access_and_its_peer(meridian_bin, tmp_path):
    fed = Fed(meridian_bin, tmp_path)
    try:
        fed.node("A")
        b = fed.node("B")
        fed.link("A", "B", direction="both")  # B pulls from and pushes to A
        fed.link("B", "A")  # A pulls from B: B has an org and token for A
        a = fed.nodes["A"]
        tok_a_at_b = [l for l in b.cli("token", "list", "--data", b.data).stdout.splitlines()
                      if "\tA\t" in l]
        assert tok_a_at_b
        fed.post("B", [indicator(tlp=TLP_CLEAR, value="10.6.6.6")])
        assert "pulled=1" in fed.sync("A").stdout
        # B revokes partner A in one step
        p = b.cli("partner", "revoke", "A", "--data", b.data)
        assert "1 token(s) revoked, 1 grant(s) removed" in p.stdout, p.stdout
        assert "org disabled, peer disabled" in p.stdout, p.stdout
        # A's token at B is refused at once
        s = fed.sync("A", check=False)
        assert "401" in s.stdout + s.stderr or "auth" in (s.stdout + s.stderr).lower(), s.stdout
        # and B no longer syncs with A: its peer is disabled
        fed.post("A", [indicator(tlp=TLP_CLEAR, value="10.6.6.7")])
        out = fed.sync("B", check=False).stdout
        assert "pulled=" not in out
        assert "disabled" in b.cli("peer", "list", "--data", b.data).stdout
        rec = [json.loads(l) for l in b.cli("audit", "--data", b.data, "--json").stdout.splitlines()]
        assert any(r["record"]["object"] == "partner" and r["record"]["action"] == "revoke"
                   and r["record"]["target"] == "A" for r in rec)
    finally:
        fed.stop()


def test_peer_set_keeps_the_cursor(meridian_bin, tmp_path):
    fed = Fed(meridian_bin, tmp_path)
    try:
        a = fed.node("A")
        b = fed.node("B")
        fed.link("A", "B")
        fed.post("A", [indicator(tlp=TLP_CLEAR, value=f"10.7.7.{i}") for i in range(10)])
        assert "pulled=10" in fed.sync("B").stdout
        # A issues B a new token; B's peer gets it without losing its place
        a.org("B2", "partner")
        new_tok = a.token("B2")
        a.grant("B2", fed.coll["A"], True, True)
        b.cli("peer", "set", "A", "--token", new_tok, "--interval", "5000", "--data", b.data)
        listed = b.cli("peer", "list", "--data", b.data).stdout
        assert "interval 5000" in listed
        assert "cursor -" not in listed
        out = fed.sync("B").stdout
        assert "pulled=0 duplicates=0" in out, out
        # moving to another collection needs an explicit reset
        p = b.cli("peer", "set", "A", "--collection", "x", "--data", b.data, check=False)
        assert p.returncode == 2 and "--reset-cursors" in p.stderr
        # the change is in the audit trail, never the token itself
        trail = b.cli("audit", "--data", b.data).stdout
        assert "\"action\":\"set\"" in trail and new_tok not in trail
    finally:
        fed.stop()


def leaf_hash(kind, time_usec, record_sha256_hex):
    entry = bytes([kind]) + (time_usec // 1000).to_bytes(8, "big") + \
        bytes.fromhex(record_sha256_hex)
    return hashlib.sha256(b"\x00" + entry).digest()


def test_every_admin_change_is_a_leaf_that_proves_into_a_checkpoint(n_sqlite, tmp_path):
    """Each change appears in `meridian audit` with who/what/before/after,
    its record hashes to the leaf, and the leaf proves (RFC 9162) into the
    node's signed checkpoint."""
    n = n_sqlite
    tok = partner(n)
    n.cli("token", "rotate", tok[:12], "--overlap", "1h", "--data", n.data)
    coll = n.collection(title="second")
    n.grant("cert-b", coll, True, False)
    n.cli("org", "disable", "cert-b", "--data", n.data)
    n.cli("org", "enable", "cert-b", "--data", n.data)
    n.cli("token", "revoke", tok[:12], "--data", n.data)
    n.post_ok(n.coll_id, [indicator(tlp=TLP_CLEAR)])  # a hold needs something to hold
    n.cli("hold", "create", "--data", n.data, "--case", "C-1", "--authority", "x", "--reason",
          "y", "--query", "added_after=2020-01-01T00:00:00Z")

    def trail():
        return [json.loads(l) for l in
                n.cli("audit", "--data", n.data, "--json").stdout.splitlines()]

    # the server records the queue within a second
    wait_for(lambda: all(e["leaf"] is not None for e in trail()), timeout=20, step=0.3)
    events = trail()
    seen = {(e["record"]["object"], e["record"]["action"]) for e in events
            if e["kind"] == "admin"}
    for want in [("org", "create"), ("token", "create"), ("token", "rotate"),
                 ("collection", "create"), ("grant", "set"), ("org", "disable"),
                 ("org", "enable"), ("token", "revoke")]:
        assert want in seen, (want, seen)
    assert any(e["kind"] == "hold-create" for e in events)
    for e in events:
        if e["kind"] == "admin":
            assert e["record"]["actor"]["via"] == "cli" and "uid" in e["record"]["actor"]
            assert tok not in e["record_text"] and tok[12:] not in e["record_text"]
        assert hashlib.sha256(e["record_text"].encode()).hexdigest() == e["record_sha256"]
    grant = [e for e in events if e["record"].get("object") == "grant"
             and e["record"]["target"] == f"cert-b/{coll}"][0]
    assert grant["record"]["before"] == {"read": False, "write": False}
    assert grant["record"]["after"] == {"read": True, "write": False}

    # a checkpoint over all of them, then an inclusion proof for each
    r = n.req("POST", "/ledger/v1/checkpoint", accept="text/plain")
    assert r.status_code == 200, r.text
    lines = r.text.split("\n")
    size, root = int(lines[1]), lines[2]
    key = n.cli("key", "show", "--data", n.data).stdout.strip()
    v = n.cli("ledger", "verify", "--data", n.data, "--pubkey", key)
    assert v.returncode == 0
    kinds = {"admin": 6, "hold-create": 2}
    for e in events:
        t_usec = int(time_usec_of(e["time"]))
        lh = leaf_hash(kinds[e["kind"]], t_usec, e["record_sha256"])
        r = n.get("/ledger/v1/proof/inclusion", accept="application/json",
                  params={"hash": base64.b64encode(lh).decode(), "tree_size": size})
        assert r.status_code == 200, r.text
        proof = r.json()
        assert proof["leaf_index"] == e["leaf"]
        p = n.cli("ledger", "verify-proof", "inclusion", "--leaf-index", e["leaf"],
                  "--tree-size", size, "--root", root, "--leaf-hash",
                  base64.b64encode(lh).decode(), "--proof", ",".join(proof["audit_path"]))
        assert p.returncode == 0, p.stderr
    # a record altered by one byte no longer proves
    bad = leaf_hash(6, int(time_usec_of(events[0]["time"])),
                    hashlib.sha256((events[0]["record_text"] + " ").encode()).hexdigest())
    r = n.get("/ledger/v1/proof/inclusion", accept="application/json",
              params={"hash": base64.b64encode(bad).decode(), "tree_size": size})
    assert r.status_code == 404


def time_usec_of(ts):
    """A TAXII timestamp (microseconds) as usec since the epoch."""
    import datetime
    d = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + d.microsecond


def test_audit_since_filters(n):
    partner(n)
    mid = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    time.sleep(1.5)
    n.cli("org", "disable", "cert-b", "--data", n.data)
    out = n.cli("audit", "--data", n.data, "--since", mid).stdout.splitlines()
    assert len(out) == 1 and "\"disable\"" in out[0]


@sqlite_only  # breaks the audit table of meridian.db with sqlite3
def test_a_change_whose_audit_record_cannot_be_written_is_not_made(meridian_bin, tmp_path):
    """A change and its audit record are one transaction: when the record
    cannot be written (here a trigger makes every insert into the ledger's
    event queue fail, as a crash between two commits would lose it), the
    change is rolled back -- no org, token, grant, partner or peer change
    is left without its record -- and once records can be written again
    the same change is made with exactly one record."""
    node = Node(meridian_bin, tmp_path / "a")
    node.init()
    coll = node.coll_id = node.collection()
    node.org("cert-b", "partner")
    node.grant("cert-b", coll, True, False)
    tok = node.token("cert-b")
    db = str(node.data / "meridian.db")

    def trail():
        return [json.loads(l) for l in
                node.cli("audit", "--data", node.data, "--json").stdout.splitlines()]

    def state():
        return [node.cli(*v, "--data", node.data).stdout
                for v in (("org", "list"), ("token", "list"), ("peer", "list"))]

    records, before = len(trail()), state()
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER audit_fails BEFORE INSERT ON ledger_events BEGIN"
                " SELECT RAISE(ABORT, 'injected audit failure'); END")
    con.commit()
    con.close()
    peer = ["peer", "add", "cert-b", "--url", "http://127.0.0.1:9", "--api-root", "x",
            "--collection", coll, "--local-collection", coll, "--token", "t0k",
            "--direction", "pull", "--community", "c"]
    for change in (["org", "create", "cert-c", "--relation", "partner"],
                   ["org", "disable", "cert-b"], ["org", "delete", "cert-b"],
                   ["token", "create", "--org", "cert-b"], ["token", "revoke", tok[:12]],
                   ["token", "rotate", tok[:12]],
                   ["grant", "--org", "cert-b", "--collection", coll, "--read", "--write"],
                   ["partner", "revoke", "cert-b"], peer):
        p = node.cli(*change, "--data", node.data, check=False)
        assert p.returncode != 0, (change, p.stdout)
        assert "audit record" in p.stderr, (change, p.stderr)
        assert state() == before, (change, p.stderr)
    assert status_of(node, tok) == 200  # the token still works: nothing was revoked
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER audit_fails")
    con.commit()
    con.close()
    node.org("cert-c", "partner")
    node.cli(*peer, "--data", node.data)
    after = trail()
    assert [(e["record"]["object"], e["record"]["action"]) for e in after[records:]] == \
        [("org", "create"), ("peer", "add")]


def status_of(node, token):
    node.start()
    try:
        return node.get(node.objects_path(node.coll_id), token=token).status_code
    finally:
        node.stop()
