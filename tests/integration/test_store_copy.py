"""`meridian store copy` (docs/store.md, "Moving a node between backends"):
a SQLite node copied to PostgreSQL and back gives the same TAXII answers,
the same ledger tree head and the same searches at each step; a target
that holds data is refused; keys go on where they stopped. And the backup
of a node on PostgreSQL (docs/store.md, "Backups on PostgreSQL"): its files,
then pg_dump; restored, it answers as before."""
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from node import TLP_GREEN, TLP_RED, Node, TOKEN_RE, indicator, stix_now
from pgcluster import pg_cluster  # noqa: F401 (fixture)
import peakrss


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


BIG_ROWS, BIG_BODY = 300, 512 * 1024  # 150 MiB of bodies


@pytest.fixture(scope="module")
def big_pg(filled, pg_cluster):
    """filled's node on PostgreSQL with BIG_ROWS more versions of
    BIG_BODY bytes each (stored compressed: a pad of one letter)."""
    dsn = pg_cluster.database()
    copy(filled, filled.data, dsn)
    db = dsn.rsplit("/", 1)[1]
    pg_cluster.psql(
        "INSERT INTO objects (collection, date_added, stix_id, type, spec_version, created,"
        " modified, version, revoked, tlp, local, creator_org, source_peer, community,"
        " recipients, body)"
        " SELECT o.collection, m.d + g, 'indicator--' || u, o.type, o.spec_version, o.created,"
        " o.modified, o.version, o.revoked, o.tlp, o.local, o.creator_org, o.source_peer,"
        " o.community, o.recipients, convert_to('{\"type\":\"indicator\",\"id\":\"indicator--'"
        " || u || '\",\"name\":\"big' || g || '\",\"x_pad\":\"'"
        f" || repeat('a', {BIG_BODY}) || '\"}}', 'UTF8')"
        " FROM (SELECT * FROM objects ORDER BY seq LIMIT 1) o,"
        " (SELECT max(date_added) AS d FROM objects) m,"
        f" (SELECT g, gen_random_uuid()::text AS u FROM generate_series(1, {BIG_ROWS}) g) s", db)
    assert pg_cluster.psql("SELECT count(*) FROM objects", db) == str(BIG_ROWS + 9)
    return dsn


def copy_measured(bin_, frm, to):
    """store copy, its peak RSS (peakrss.py; ASan's quarantine of freed
    blocks kept small: it would hold every freed row)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    report = Path(str(to) + ".rss")
    p = subprocess.run(peakrss.wrap([bin_, "store", "copy", "--from", frm, "--to", str(to)],
                                    report), capture_output=True, env=env, timeout=600)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert "Sanitizer" not in err, err
    return p.returncode, out, err, peakrss.read(report)


@pytest.fixture(scope="module")
def big_sqlite(filled, big_pg, tmp_path_factory):
    """big_pg copied to a SQLite file: the data directory, the copy's
    stdout and its peak RSS (KiB)."""
    d = tmp_path_factory.mktemp("big-sqlite")
    rc, out, err, rss = copy_measured(filled.bin, big_pg, d)
    assert rc == 0, err
    return d, out, rss


def test_walk_holds_one_row_at_a_time(big_sqlite):
    """PostgreSQL -> SQLite: 150 MiB of bodies walked in single-row mode,
    so the copy's memory does not grow with the table (fetched 256 rows at
    a time through a cursor, it held 128 MiB of bodies at once)."""
    d, out, rss = big_sqlite
    assert f"objects {BIG_ROWS + 9}," in out, out
    db = sqlite3.connect(d / "meridian.db")
    try:
        n, size = db.execute("SELECT count(*), sum(length(body)) FROM objects").fetchone()
    finally:
        db.close()
    assert n == BIG_ROWS + 9 and size > BIG_ROWS * BIG_BODY
    assert rss < 100 * 1024, f"peak RSS {rss} KiB"  # 64 MiB; 188 MiB through the cursor


def active_backend(pg_cluster, db, like, timeout=60):
    """The pid of the backend of database db running a statement like
    `like`, waited for."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid = pg_cluster.psql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            f" AND state = 'active' AND query LIKE '{like}' LIMIT 1", db)
        if pid:
            return pid
        time.sleep(0.01)
    raise AssertionError(f"no backend ran {like}")


def test_source_backend_terminated_mid_walk(filled, big_pg, pg_cluster, tmp_path):
    """The source's backend terminated while the copy walks objects: a
    clear error naming the table and how far it got, and the SQLite
    target holds nothing (its one transaction was rolled back)."""
    db = big_pg.rsplit("/", 1)[1]
    p = subprocess.Popen([filled.bin, "store", "copy", "--from", big_pg, "--to", tmp_path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = active_backend(pg_cluster, db, "SELECT seq, collection, date_added%")
        time.sleep(0.05)  # some rows in (the walk takes seconds)
        pg_cluster.psql(f"SELECT pg_terminate_backend({pid})", db)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 2, (out, err)
    assert "Sanitizer" not in err, err
    m = re.search(r"store copy: objects: after (\d+) of (\d+) rows \(nothing was committed\)"
                  r": store: objects: connection to PostgreSQL lost: (.*)", err)
    assert m, err
    assert int(m.group(1)) < int(m.group(2)) == BIG_ROWS + 9
    assert "terminating connection" in m.group(3) or "closed" in m.group(3), err
    db3 = sqlite3.connect(tmp_path / "meridian.db")
    try:
        assert db3.execute("SELECT count(*) FROM objects").fetchone()[0] == 0
        assert db3.execute("SELECT count(*) FROM orgs").fetchone()[0] == 0
    finally:
        db3.close()
    # nothing half-done: the same target takes the whole copy afterwards
    rc, out, err, _ = copy_measured(filled.bin, big_pg, tmp_path)
    assert rc == 0 and f"objects {BIG_ROWS + 9}," in out, err


def test_target_backend_terminated_mid_load(filled, big_sqlite, pg_cluster):
    """SQLite -> PostgreSQL: the target's backend terminated during the
    COPY of objects: a clear error, and the database holds nothing."""
    src = big_sqlite[0]
    dsn = pg_cluster.database()
    db = dsn.rsplit("/", 1)[1]
    p = subprocess.Popen([filled.bin, "store", "copy", "--from", src, "--to", dsn],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = active_backend(pg_cluster, db, "COPY objects %")
        pg_cluster.psql(f"SELECT pg_terminate_backend({pid})", db)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 2, (out, err)
    assert "Sanitizer" not in err, err
    assert re.search(rf"store copy: objects: after \d+ of {BIG_ROWS + 9} rows \(nothing was"
                     r" committed\): store: objects: connection to PostgreSQL lost", err), err
    for t in ("orgs", "objects", "ledger_events"):
        assert pg_cluster.psql(f"SELECT count(*) FROM {t}", db) == "0"


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
