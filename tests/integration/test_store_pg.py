"""Meridian on PostgreSQL (docs/store.md, "PostgreSQL"): `init --store`,
the administrative records, TAXII discovery and collections served from a
real PostgreSQL 15 cluster the test starts, several processes writing one
database, objects over TAXII on one or two front-ends, and the clear error
of what is not there yet."""
import concurrent.futures
import json
import re
import shutil
import stat
import subprocess
import threading

import requests

from node import Node, TOKEN_RE, assert_taxii_error, indicator, wait_for
from pgcluster import pg_cluster  # noqa: F401 (fixture)


def pg_node(meridian_bin, pg_cluster, tmp_path, org="own"):
    """A node made by `meridian init --store DSN` on a fresh database."""
    dsn = pg_cluster.database()
    n = Node(meridian_bin, tmp_path / "node")
    p = n.cli("init", "--data", n.data, "--org", org, "--store", dsn)
    n.admin_token = TOKEN_RE.search(p.stdout).group(0)
    return n, dsn


def test_init_records_the_database_and_keeps_no_sqlite_file(meridian_bin, pg_cluster, tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    f = n.data / "store.dsn"
    assert f.read_text() == dsn + "\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert not (n.data / "meridian.db").exists()
    db = dsn.rsplit("/", 1)[1]
    # the own org, its admin token (hashed) and the node's metadata are rows there
    assert pg_cluster.psql("SELECT name, relation FROM orgs", db) == "own|0"
    assert pg_cluster.psql("SELECT name, length(hash) FROM tokens", db) == "admin|32"
    assert pg_cluster.psql("SELECT value FROM meta WHERE key = 'own_org'", db) == "own"
    assert pg_cluster.psql("SELECT version FROM schema_version", db) == "15"
    # no foreign key on objects (schema 15): the insert checks the collection
    assert pg_cluster.psql("SELECT count(*) FROM pg_constraint WHERE conrelid ="
                           " 'objects'::regclass AND contype = 'f'", db) == "0"


def test_admin_records_and_taxii_discovery_on_postgres(meridian_bin, pg_cluster, tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    n.org("partner-a", "partner")
    tok = n.token("partner-a")
    cid = n.collection(root="api1", title="shared", alias="shared",
                       grants=(("own", True, True), ("partner-a", True, False)))
    hidden = n.collection(root="api1", title="own only")
    listed = n.cli("grant", "list", "--data", n.data).stdout
    assert cid in listed and "partner-a" in listed
    n.start()
    try:
        r = n.get("/taxii2/")
        assert r.status_code == 200, r.text
        assert "/api1/" in r.json()["api_roots"][0]
        r = n.get("/api1/collections/", token=tok)
        assert r.status_code == 200, r.text
        got = {c["id"]: c for c in r.json()["collections"]}
        assert set(got) == {cid}, got  # the ungranted collection is not even listed
        assert got[cid]["can_read"] is True and got[cid]["can_write"] is False
        r = n.get(f"/api1/collections/{hidden}/", token="admin")
        assert r.status_code == 200 and r.json()["title"] == "own only"
        assert_taxii_error(n.get("/api1/collections/", token="mrd_" + "A" * 43), 401)
        # revoking the token on the database ends its access at once
        n.cli("token", "revoke", tok[:12], "--data", n.data)
        assert_taxii_error(n.get("/api1/collections/", token=tok), 401)
    finally:
        n.stop()
    # legal holds work there (store_hold.c) ...
    p = n.cli("hold", "list", "--data", n.data, check=False)
    assert p.returncode == 0 and "no active holds" in p.stderr, p.stderr
    # ... what the backend does not have yet fails clearly, never as success
    p = n.cli("backup", "--data", n.data, "-o", n.data / "b.tar", check=False)
    assert p.returncode != 0
    assert "PostgreSQL" in p.stderr and "pg_basebackup" in p.stderr, p.stderr
    assert "Backups on PostgreSQL" in p.stderr, p.stderr  # where the procedure is
    assert not (n.data / "b.tar").exists() and not (n.data / "b.tar.partial").exists()


def test_concurrent_writers_one_org_one_winner(meridian_bin, pg_cluster, tmp_path):
    """Eight processes create the same org (and the same token name) on one
    database at once: the unique constraints let exactly one of each win."""
    n, _ = pg_node(meridian_bin, pg_cluster, tmp_path)

    def create(args):
        return subprocess.run([meridian_bin, *args, "--data", str(n.data)],
                              capture_output=True, text=True, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        orgs = list(ex.map(create, [["org", "create", "racer", "--relation", "partner"]] * 8))
    assert sum(p.returncode == 0 for p in orgs) == 1, [p.stderr for p in orgs]
    assert all("already exists" in p.stderr for p in orgs if p.returncode != 0)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        toks = list(ex.map(create, [["token", "create", "--org", "racer", "--name", "t1"]] * 8))
    assert sum(p.returncode == 0 for p in toks) == 1, [p.stderr for p in toks]
    listed = n.cli("org", "list", "--data", n.data).stdout
    assert listed.count("racer") == 1


def test_unreachable_database_fails_init_and_leaves_nothing(meridian_bin, tmp_path):
    d = tmp_path / "node"
    p = subprocess.run([meridian_bin, "init", "--data", str(d), "--org", "own", "--store",
                        f"postgresql://meridian@127.0.0.1:1/none?connect_timeout=5"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "cannot connect to PostgreSQL" in p.stderr, p.stderr
    assert not d.exists()


def test_a_node_on_postgres_never_falls_back_to_sqlite(meridian_bin, pg_cluster, tmp_path):
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    pg_cluster.psql("DROP TABLE schema_version", db)
    p = n.cli("org", "list", "--data", n.data, check=False)
    assert p.returncode != 0
    assert "no Meridian schema" in p.stderr, p.stderr
    assert not (n.data / "meridian.db").exists()


def second_front_end(meridian_bin, n, tmp_path):
    """Another `meridian serve` of the same node on the same database: a copy
    of the data directory (its store.dsn, keys and certificates)."""
    d = tmp_path / "front2"
    shutil.copytree(n.data, d, ignore=shutil.ignore_patterns("stderr", "ready"))
    fe = Node(meridian_bin, d)
    fe.admin_token = n.admin_token
    return fe


def test_two_front_ends_writing_the_same_version_one_wins(meridian_bin, pg_cluster, tmp_path):
    """Two front-ends on one database get the same versions at the same
    moment: an identical copy is stored once (the other request learns it
    is a duplicate, a success); a different copy of one version by the same
    writer is stored once and refused once."""
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="race")
    fe = second_front_end(meridian_bin, n, tmp_path)
    n.start()
    fe.start()
    try:
        same = [indicator() for _ in range(20)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            sts = list(ex.map(lambda a: a[0].post_ok(cid, [a[1]]),
                              [(x, o) for o in same for x in (n, fe)]))
        assert all(st["success_count"] == 1 for st in sts), sts
        assert pg_cluster.psql("SELECT COUNT(*), COUNT(DISTINCT (stix_id, version))"
                               " FROM objects", db) == "20|20"
        differ = []
        for i in range(20):
            a = indicator(name=f"copy a {i}")
            differ.append((a, dict(a, name=f"copy b {i}")))
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda a: a[0].post(cid, [a[1]]).json(),
                             [(x, o) for pair in differ for x, o in zip((n, fe), pair)]))
        for i in range(20):
            a, b = rs[2 * i], rs[2 * i + 1]
            assert sorted([a["success_count"], b["success_count"]]) == [0, 1], (a, b)
            assert sorted([a["failure_count"], b["failure_count"]]) == [0, 1], (a, b)
        assert pg_cluster.psql("SELECT COUNT(*), COUNT(DISTINCT (stix_id, version))"
                               " FROM objects", db) == "40|40"
        # both front-ends read the one stored copy
        for x in (n, fe):
            got, _ = x.page_all(f"/api1/collections/{cid}/objects/", limit=9)
            assert len(got) == 40
    finally:
        fe.stop()
        n.stop()


def test_paging_across_front_ends_skips_and_repeats_nothing(meridian_bin, pg_cluster, tmp_path):
    """Writers post through two front-ends at once while a reader pages the
    manifest on a third connection, resuming with added_after at the last
    date_added it saw: every object appears exactly once, none behind the
    reader's position (date_added is assigned under the write lock at
    commit order, docs/store.md)."""
    n, _ = pg_node(meridian_bin, pg_cluster, tmp_path)
    cid = n.collection(root="api1", title="paging")
    fe = second_front_end(meridian_bin, n, tmp_path)
    n.start()
    fe.start()
    manifest = f"/api1/collections/{cid}/manifest/"
    posted = []
    done = threading.Event()

    def writer(x, k):
        for i in range(40):
            batch = [indicator() for _ in range(1 + (i + k) % 3)]
            x.post_ok(cid, batch)
            posted.extend(o["id"] for o in batch)

    try:
        ws = [threading.Thread(target=writer, args=(x, k)) for k, x in enumerate((n, fe, fe))]
        for w in ws:
            w.start()
        seen, last, idle = [], None, 0
        # polls until the writers are done and one more pass finds nothing
        while idle < 2:
            if all(not w.is_alive() for w in ws):
                done.set()
            params = {"limit": "5"}
            if last:
                params["added_after"] = last
            r = (n if len(seen) % 2 else fe).get(manifest, params=params)
            assert r.status_code == 200, r.text
            recs = r.json().get("objects", [])
            seen += [x["id"] for x in recs]
            if recs:
                last = recs[-1]["date_added"]
            idle = idle + 1 if not recs and done.is_set() else 0
        for w in ws:
            w.join(timeout=120)
        assert len(seen) == len(set(seen)), "an object was read twice"
        assert set(seen) == set(posted), "an object was skipped"
        assert len(posted) == len(set(posted))
    finally:
        fe.stop()
        n.stop()


def _statements_of_lookup_backends(log):
    """The statements (one line each) logged by the backends that ran a
    TAXII request's look-up of token, collection and grant."""
    lines = []
    for line in log.splitlines():
        m = re.search(r"\[(\d+)\] LOG:  (?:statement|execute [^:]*): (.*)", line)
        if m:
            lines.append((m.group(1), m.group(2)))
    pids = {pid for pid, sql in lines if "LEFT JOIN collections c" in sql}
    return [sql for pid, sql in lines if pid in pids]


def test_a_get_is_one_look_up_and_one_page_statement(meridian_bin, pg_cluster, tmp_path):
    """A TAXII GET on PostgreSQL reads its token, collection and grant in
    one statement and a page that fits in one more (an object by id too):
    no cursor, no look-up of its own for the collection or the grant
    (docs/store.md, "Pinned read snapshots"). Counted in the server's
    statement log, on the backends of the requests' pinned connections."""
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="reads")
    objs = [indicator() for _ in range(5)]
    pg_cluster.psql(f"ALTER DATABASE {db} SET log_statement = 'all'")
    n.start()
    try:
        n.post_ok(cid, objs)
        path = n.objects_path(cid)
        reqs = [(path, {"limit": "3"}), (path + objs[2]["id"] + "/", None),
                (path.replace("/objects/", "/manifest/"), {"limit": "10"})]
        for p, params in reqs * 3:  # each statement prepared on its connection
            assert n.get(p, params=params).status_code == 200
        mark = len(pg_cluster.log())
        got = []
        for p, params in reqs:
            r = n.get(p, params=params)
            assert r.status_code == 200, r.text
            got.append(r.json())
        assert [len(g.get("objects", [])) for g in got] == [3, 1, 5]
        assert got[0]["more"] is True and got[2]["more"] is False
        sql = _statements_of_lookup_backends(pg_cluster.log()[mark:])
        # the snapshot's BEGIN and ROLLBACK (sent without waiting), a new
        # connection's settings
        kinds = [s for s in sql if not s.startswith(("ROLLBACK", "BEGIN", "SET "))]
        looked = [s for s in kinds if "LEFT JOIN collections c" in s]
        pages = [s for s in kinds if "FROM objects o" in s and " LIMIT " in s]
        assert len(looked) == 3, kinds
        assert not [s for s in kinds if "DECLARE" in s or s.startswith("FETCH")], kinds
        assert not [s for s in kinds if "FROM grants" in s or "FROM collections" in s], kinds
        assert len(pages) == 3, kinds
        # nothing more: the object by id has no look-up of which of its
        # ids the reader may read (its page reads only the rows that one
        # would, the newest copies: store_obj.c)
        assert len(kinds) == 6, kinds
    finally:
        n.stop()
        pg_cluster.psql(f"ALTER DATABASE {db} RESET log_statement")


def test_a_console_session_is_valid_on_every_front_end(meridian_bin, pg_cluster, tmp_path):
    """A session opened on one front-end works on the other (the session is a
    database row), sign-out on one ends it on both, and revoking the token
    on the database ends the sessions opened with it."""
    n, _ = pg_node(meridian_bin, pg_cluster, tmp_path)
    n.org("partner-s", "partner")
    tok = n.token("partner-s")
    fe = second_front_end(meridian_bin, n, tmp_path)
    n.start()
    fe.start()
    try:
        def signin(x, token):
            s = requests.Session()
            r = s.post(x.url + "/api/v1/session", data=json.dumps({"token": token}),
                       headers={"Content-Type": "application/json", "Origin": x.url}, timeout=10)
            assert r.status_code == 200, r.text
            return s, r.json()["csrf"]

        def who(s, x):
            return s.get(x.url + "/api/v1/session", timeout=10).status_code

        s, csrf = signin(n, n.admin_token)
        assert who(s, n) == 200 and who(s, fe) == 200
        r = s.delete(fe.url + "/api/v1/session", timeout=10,
                     headers={"X-CSRF-Token": csrf, "Origin": fe.url})
        assert r.status_code in (200, 204), r.text
        assert who(s, n) == 401 and who(s, fe) == 401
        s, _ = signin(fe, tok)
        assert who(s, n) == 200
        n.cli("token", "revoke", tok[:12], "--data", n.data)
        assert who(s, n) == 401 and who(s, fe) == 401
    finally:
        fe.stop()
        n.stop()


def test_objects_stored_on_postgres_become_ledger_leaves(meridian_bin, pg_cluster, tmp_path):
    """The ledger queue on PostgreSQL holds object versions as on SQLite:
    each stored version gets a leaf, after the admin records' events."""
    n, dsn = pg_node(meridian_bin, pg_cluster, tmp_path)
    db = dsn.rsplit("/", 1)[1]
    cid = n.collection(root="api1", title="ledger")
    n.start()
    try:
        objs = [indicator() for _ in range(12)]
        n.post_ok(cid, objs[:5])
        n.post_ok(cid, objs[5:])
        wait_for(lambda: pg_cluster.psql("SELECT COUNT(*) FROM object_leaves", db) == "12",
                 timeout=30)
        # one leaf each, distinct from the events' leaves
        assert pg_cluster.psql(
            "SELECT COUNT(DISTINCT leaf) FROM (SELECT leaf FROM object_leaves UNION ALL"
            " SELECT leaf FROM ledger_events WHERE leaf IS NOT NULL) x", db) == \
            pg_cluster.psql("SELECT 12 + COUNT(*) FROM ledger_events WHERE leaf IS NOT NULL", db)
    finally:
        n.stop()
