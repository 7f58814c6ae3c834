"""`meridian store copy` (docs/store.md, "Moving a node between backends"):
a SQLite node copied to PostgreSQL and back gives the same TAXII answers,
the same ledger tree head and the same searches at each step; a target
that holds data is refused; keys go on where they stopped. And the backup
of a node on PostgreSQL (docs/store.md, "Backups on PostgreSQL"): its files,
then pg_dump; restored, it answers as before."""
import os
import shutil
import subprocess

import pytest

from node import TLP_GREEN, TLP_RED, Node, TOKEN_RE, indicator, stix_now
from pgcluster import pg_cluster  # noqa: F401 (fixture)


def head(n):
    """The ledger's tree head the store leads to: `ledger checkpoint --data`
    appends what the store has queued, then signs (origin, size, root)."""
    p = n.cli("ledger", "checkpoint", "--data", n.data)
    return p.stdout.split("\n")[:3]


def answers(n, coll, partner):
    """What TAXII answers, for the admin and for a partner."""
    n.start()
    try:
        out = {}
        for who, tok in (("admin", "admin"), ("partner", partner)):
            objs, _ = n.page_all(n.objects_path(coll), token=tok, limit=3)
            out[who] = sorted(objs, key=lambda o: (o["id"], o.get("modified", "")))
            r = n.get(n.objects_path(coll).replace("objects/", "manifest/"), token=tok,
                      params={"match[version]": "all"})
            assert r.status_code == 200, r.text
            out[who + "-manifest"] = sorted(
                (o["id"], o["version"], o["date_added"]) for o in r.json()["objects"])
        return out
    finally:
        n.stop()


def copy(n, frm, to, check=True):
    p = n.cli("store", "copy", "--from", frm, "--to", to, check=check)
    return p


def node_on(src_dir, dst_dir, dsn=None):
    """dst_dir: a copy of src_dir's node files, its store PostgreSQL (dsn)
    or the SQLite file store copy wrote there."""
    shutil.copytree(src_dir.data, dst_dir, ignore=shutil.ignore_patterns(
        "meridian.db*", "ready", "stderr", "store.dsn"), dirs_exist_ok=True)
    n = Node(src_dir.bin, dst_dir)
    n.admin_token = src_dir.admin_token
    if dsn:
        f = dst_dir / "store.dsn"
        f.write_text(dsn + "\n")
        os.chmod(f, 0o600)
    return n


@pytest.fixture(scope="module")
def filled(tmp_path_factory, meridian_bin):
    """A SQLite node (whatever MERIDIAN_TEST_STORE says: the copy starts
    there) with a partner, two collections, versions of TLP:GREEN and
    TLP:RED objects, a legal hold and a contact."""
    n = Node(meridian_bin, tmp_path_factory.mktemp("sqlite-node"),
             extra_args=["--checkpoint-interval", "1"])
    p = n.cli("init", "--data", n.data, "--org", "own")
    n.admin_token = TOKEN_RE.search(p.stdout).group(0)
    n.org("partner", "partner")
    n.partner = n.token("partner")
    n.coll = n.collection(grants=(("own", True, True), ("partner", True, False)))
    n.collection(title="other")
    n.start()
    try:
        green = [indicator(tlp=TLP_GREEN, value=f"192.0.2.{i}",
                           description=f"copyword{i} beacon") for i in range(7)]
        red = indicator(tlp=TLP_RED, value="198.51.100.9")
        n.post_ok(n.coll, green + [red])
        newer = dict(green[0], modified=stix_now(5000))
        n.post_ok(n.coll, [newer])
        n.cli("hold", "create", "--case", "CASE-COPY", "--authority", "A", "--reason", "R",
              "--object", green[1]["id"], "--days", "10", "--data", n.data)
        n.cli("contact", "add", "--data", n.data, "--org", "partner", "--email",
              "soc@partner.example")
        n.green, n.red = green, red
    finally:
        n.stop()
    return n


def test_round_trip_sqlite_postgres_sqlite(filled, pg_cluster, tmp_path):
    a = filled
    before, head_a = answers(a, a.coll, a.partner), head(a)
    assert len(before["admin"]) == 8 and len(before["partner"]) == 7  # no TLP:RED for it
    assert int(head_a[1]) >= 10  # 9 versions, the hold (head() ledgered what was queued)

    dsn = pg_cluster.database()
    p = copy(a, a.data, dsn)
    assert "verified: every table read back equal" in p.stdout, p.stdout
    assert "objects 9, ledger leaves 9" in p.stdout, p.stdout
    digest = p.stdout.split("ledger records digest ")[1].split()[0]
    db = dsn.rsplit("/", 1)[1]
    assert pg_cluster.psql("SELECT count(*) FROM objects", db) == "9"
    assert pg_cluster.psql("SELECT count(*) FROM holds", db) == "1"

    b = node_on(a, tmp_path / "pg-node", dsn)
    assert not (b.data / "meridian.db").exists()
    assert answers(b, a.coll, a.partner) == before
    assert head(b) == head_a

    c = node_on(b, tmp_path / "sqlite-again")
    p = copy(b, dsn, c.data)
    assert p.stdout.split("ledger records digest ")[1].split()[0] == digest
    assert not (c.data / "store.dsn").exists()
    # the access audit's packed pages came through both copies: the
    # admin's TAXII reads of the TLP:RED object (one by a, one by b) list
    reads = c.cli("audit", "reads", "--data", c.data).stdout
    assert reads.count(a.red["id"]) == 2, reads
    assert a.green[0]["id"] not in reads
    assert answers(c, a.coll, a.partner) == before
    assert head(c) == head_a
    # SQLite's own indexes were rebuilt from the copied versions: the value
    # index (copied) and the free-text index (rebuilt) both find them
    found = c.cli("search", "--data", c.data, "192.0.2.3").stdout
    assert a.green[3]["id"] in found, found
    found = c.cli("search", "--data", c.data, "copyword4").stdout
    assert a.green[4]["id"] in found, found
    assert a.green[5]["id"] not in found

    # keys go on after the copied ones on both backends: new orgs, objects
    for n in (b, c):
        n.org("later", "partner")
        n.start()
        try:
            n.post_ok(a.coll, [indicator(tlp=TLP_GREEN, value="203.0.113.7")])
            objs, _ = n.page_all(n.objects_path(a.coll))
            assert len(objs) == 9
        finally:
            n.stop()


def test_refuses_a_target_holding_data(filled, pg_cluster, tmp_path):
    dsn = pg_cluster.database()
    copy(filled, filled.data, dsn)
    p = copy(filled, filled.data, dsn, check=False)
    assert p.returncode == 2
    assert "not empty" in p.stderr and "orgs" in p.stderr, p.stderr
    # and the reverse into a data directory whose meridian.db holds a node
    p = copy(filled, dsn, filled.data, check=False)
    assert p.returncode == 2 and "not empty" in p.stderr, p.stderr


@pytest.mark.parametrize("args, needle", [
    (["copy"], "needs --from and --to"),
    (["copy", "--from", "x"], "needs --from and --to"),
    (["copy", "--from", "x", "--to", "x"], "the same"),
    (["move"], "unknown command"),
])
def test_usage_errors(filled, args, needle):
    p = filled.cli("store", *args, check=False)
    assert p.returncode == 2 and needle in p.stderr, p.stderr


def test_pg_node_restored_from_pg_dump_and_older_files(meridian_bin, pg_cluster, tmp_path):
    """docs/store.md, "Backups on PostgreSQL": the node's files copied
    first, more objects, then pg_dump; restored with pg_restore into a new
    database, the node answers as before the dump and its ledger (behind
    the database) is brought up to what the database records."""
    dsn = pg_cluster.database()
    n = Node(meridian_bin, tmp_path / "pg-node", extra_args=["--checkpoint-interval", "1"])
    p = n.cli("init", "--data", n.data, "--org", "own", "--store", dsn)
    n.admin_token = TOKEN_RE.search(p.stdout).group(0)
    n.org("partner", "partner")
    partner = n.token("partner")
    coll = n.collection(grants=(("own", True, True), ("partner", True, False)))
    n.start()
    try:
        n.post_ok(coll, [indicator(tlp=TLP_GREEN, value=f"192.0.2.{i}") for i in range(3)])
    finally:
        n.stop()
    size = int(head(n)[1])  # the 3 versions and the admin records of the setup
    assert size >= 3
    files = tmp_path / "backup-files"  # 1. the node's files
    shutil.copytree(n.data, files, ignore=shutil.ignore_patterns("ready", "stderr"))
    n.start()
    try:
        n.post_ok(coll, [indicator(tlp=TLP_GREEN, value=f"198.51.100.{i}") for i in range(4)]
                  + [indicator(tlp=TLP_RED)])
    finally:
        n.stop()
    dump = tmp_path / "meridian.dump"  # 2. the database
    pg = ["-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", "meridian"]
    subprocess.run(["/usr/lib/postgresql/15/bin/pg_dump", *pg, "-Fc", "-f", dump,
                    dsn.rsplit("/", 1)[1]], check=True, timeout=120)
    want, want_head = answers(n, coll, partner), head(n)
    assert len(want["admin"]) == 8 and int(want_head[1]) >= size + 5

    restored = pg_cluster.database()
    subprocess.run(["/usr/lib/postgresql/15/bin/pg_restore", *pg, "--no-owner", "-d",
                    restored.rsplit("/", 1)[1], dump], check=True, timeout=120)
    r = Node(meridian_bin, tmp_path / "restored")
    shutil.copytree(files, r.data)
    (r.data / "store.dsn").write_text(restored + "\n")
    r.admin_token = n.admin_token
    assert answers(r, coll, partner) == want
    assert head(r) == want_head
